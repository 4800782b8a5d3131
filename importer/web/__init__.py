"""Face: the team server, a web page over :mod:`importer.api` for teams that buy from one place.

``order-importer serve`` runs :func:`create_app` under uvicorn. The server
holds the provider credentials and the one ledger, so two teammates
uploading the same sheet cannot buy it twice. Needs the ``web`` extra
(FastAPI, uvicorn, Jinja2, argon2-cffi, python-multipart).
"""

from .app import create_app

__all__ = ["create_app"]
