"""``python -m importer`` runs the command line, for machines where scripts are not on PATH."""

from .cli import main

main()
