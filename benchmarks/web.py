"""Time the team server's pages: upload to the check page, and the check grid's page loads.

    python -m benchmarks.web                                   # 10,000 rows to the check page; grid on 100,000
    python -m benchmarks.web --upload-rows 1000 --grid-rows 5000 --out /tmp/web.json

The server runs as it does for users (uvicorn on a free loopback port, the
app from ``create_app``, its data folder in a temporary directory) and is
driven over HTTP, so each figure includes the upload, the check, the
rendering and the transfer. Upload: from the POST of the file until the
check page's HTML has arrived, through the check's progress page when the
check outlasts the request's wait (median of three uploads of the same sheet).
Grid: the first, a middle and the last page of all rows and of the rows with
problems, each loaded ten times (median and slowest). Results go to
``benchmarks/web-results.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .generate import make

HERE = Path(__file__).resolve().parent
USER, PASSWORD = "bench", "benchmark password"


@contextmanager
def running_server(data_dir: Path) -> Iterator[str]:
    """The team server on a free port of 127.0.0.1, with one buyer."""
    from importer.config import Settings
    from importer.web.config import ServerConfig
    from importer.web.serve import bind, make_server
    from importer.web.users import Role, UserFile

    config = ServerConfig.at(data_dir)
    UserFile(config.users_file).add(USER, Role.BUYER, PASSWORD)
    server = make_server(Settings(), config, "127.0.0.1")
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _token(page: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no form on the page"
    return found.group(1)


def signed_in(url: str) -> tuple[Any, str]:
    import requests

    session = requests.Session()
    page = session.post(
        f"{url}/signin",
        data={"username": USER, "password": PASSWORD, "csrf_token": _token(session.get(f"{url}/signin").text)},
    )
    return session, _token(page.text)


def upload_to_check(session: Any, url: str, csrf: str, sheet: Path) -> tuple[float, str]:
    """Seconds from sending the file until the check page has arrived; and that page's address."""
    started = time.perf_counter()
    with sheet.open("rb") as data:
        page = session.post(f"{url}/uploads", data={"csrf_token": csrf}, files={"sheet": (sheet.name, data)})
    if "/jobs/" in page.url:  # a check longer than the request waits: its progress page, polled as the page does
        while not session.get(f"{page.url}/status").json()["finished"]:
            time.sleep(0.4)
        page = session.get(page.url)
    seconds = time.perf_counter() - started
    assert page.status_code == 200 and page.url.endswith("/check"), page.text[:500]
    return seconds, str(page.url)


def grid_loads(session: Any, check_url: str, rows: int, repeat: int = 10) -> dict[str, dict[str, float]]:
    """Median and slowest load of the first, a middle and the last page, all rows and problems only."""
    pages = max(1, -(-rows // 50))
    first = session.get(check_url).text
    problem_pages = max(1, -(-_problem_rows(first) // 50))
    targets = {
        "all: first page": "?page=1",
        "all: middle page": f"?page={pages // 2}",
        "all: last page": f"?page={pages}",
        "problems: first page": "?problems=1&page=1",
        "problems: last page": f"?problems=1&page={problem_pages}",
    }
    figures = {}
    for name, query in targets.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            answer = session.get(f"{check_url}{query}")
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200
        figures[name] = {"median_ms": round(statistics.median(times) * 1000, 1), "max_ms": round(max(times) * 1000, 1)}
    return figures


def _problem_rows(page: str) -> int:
    import re

    found = re.findall(r"<b>(\d+)</b> (INVALID|HELD)", page)
    return sum(int(n) for n, _ in found)


def run(upload_rows: int, grid_rows: int, data: Path) -> dict[str, Any]:
    import importer.api  # noqa: F401 - the libraries load before timing, as in the other benchmarks
    from importer.web import create_app  # noqa: F401

    result: dict[str, Any] = {"machine": f"{platform.machine()}, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as server_dir, running_server(Path(server_dir)) as url:
        session, csrf = signed_in(url)
        upload_to_check(session, url, csrf, make(data, 200))  # warm: the first check loads pandera and friends
        result["upload_to_check"] = {}
        for fmt in ("xlsx", "csv"):
            sheet = make(data, upload_rows, fmt)
            times = [upload_to_check(session, url, csrf, sheet)[0] for _ in range(3)]
            result["upload_to_check"][fmt] = {
                "rows": upload_rows,
                "bytes": sheet.stat().st_size,
                "median_s": round(statistics.median(times), 3),
            }
        big = make(data, grid_rows)
        seconds, check_url = upload_to_check(session, url, csrf, big)
        result["grid"] = {
            "rows": grid_rows,
            "upload_to_check_s": round(seconds, 3),
            **grid_loads(session, check_url, grid_rows),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upload-rows", type=int, default=10_000)
    parser.add_argument("--grid-rows", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=HERE / "data", help="Where the generated sheets are kept.")
    parser.add_argument("--out", type=Path, default=HERE / "web-results.json")
    options = parser.parse_args(argv)
    options.data.mkdir(parents=True, exist_ok=True)
    result = run(options.upload_rows, options.grid_rows, options.data)
    options.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
