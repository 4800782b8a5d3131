"""Run notifications reach a real webhook receiver on loopback, carry the summary and nothing secret."""

import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from importer.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def receiver():
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append((self.path, self.headers.get("Content-Type"), self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T0KEN-in-path", received
    server.shutdown()
    server.server_close()


def test_the_run_summary_is_posted_when_the_run_ends(tmp_path, receiver):
    url, received = receiver
    sheet = shutil.copy(SAMPLES / "orders-with-errors.xlsx", tmp_path / "errors.xlsx")
    result = CliRunner().invoke(app, ["import", str(sheet), "--sandbox", "--notify", url])
    assert result.exit_code == 1, result.output
    assert len(received) == 1
    path, content_type, body = received[0]
    assert path == "/hooks/T0KEN-in-path" and content_type == "application/json"
    summary = json.loads(body)
    assert summary["exit_code"] == 1 and summary["rows"] == 13
    assert summary["counts"]["CREATED"] == 1 and summary["counts"]["INVALID"] == 7
    assert summary["totals"] == {"CNY": "25.00"}
    assert summary["output"].endswith("errors.results.xlsx")
    assert "rows" in summary["text"]  # Slack shows the text field
    assert b"sandbox-xportcn" not in body and "T0KEN" not in result.output


def test_an_unreachable_webhook_is_a_warning_not_a_failure(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sheet = shutil.copy(SAMPLES / "orders.xlsx", tmp_path / "orders.xlsx")
    result = CliRunner().invoke(app, ["validate", str(sheet), "--notify", f"http://127.0.0.1:{port}/secret-path"])
    assert result.exit_code == 0
    assert "could not be delivered" in result.output and "secret-path" not in result.output
