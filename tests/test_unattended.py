"""Runs nobody watches: the inbox as cron runs it, its log, its messages, the files it writes, ledger trouble.

Every command here runs as a scheduler would start it: a fresh ``python -m
importer`` process with a config from the environment and no terminal.
"""

import json
import os
import re
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from importer.sandbox import Faults
from importer.submit.ledger import Ledger

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def cron(*args, cwd, env, umask=0o022, timeout=180):
    """Run ``order-importer ARGS`` as cron would: its own process, no terminal, stdin closed."""
    return subprocess.run(
        [sys.executable, "-m", "importer", *map(str, args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        umask=umask,
        check=False,
    )


@pytest.fixture
def night(tmp_path, fresh_sandbox):
    """A server's layout: a config naming the sandbox, credentials in the environment, an inbox folder."""
    config = tmp_path / "importer.toml"
    env = {**os.environ, **fresh_sandbox.write_config(config), "ORDER_IMPORTER_CONFIG": str(config)}
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(\[providers\.[^\]]+\]\n)", r"\1circuit_breaker_threshold = 1\n", text), "utf-8")
    env.pop("COLUMNS", None)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return {"env": env, "inbox": inbox, "cwd": tmp_path, "sandbox": fresh_sandbox}


def test_a_sheet_whose_provider_was_down_stays_in_the_inbox_until_every_row_is_settled(night):
    inbox, sandbox = night["inbox"], night["sandbox"]
    shutil.copy(SAMPLES / "orders.xlsx", inbox / "monday.xlsx")
    log = night["cwd"] / "import.log"
    sandbox.faults = Faults(error_rate=1.0)  # every provider down tonight
    down = cron("--log-file", log, "import", inbox, cwd=night["cwd"], env=night["env"])
    assert down.returncode == 3, down.stdout + down.stderr
    assert (inbox / "monday.xlsx").is_file()  # kept where the next run takes it again
    # xportcn-ka-taobao documents no preview, so its order goes straight to create, whose 500 leaves it UNKNOWN
    assert "monday.xlsx: 8 rows, 5 orders (7 NOT_ATTEMPTED, 1 UNKNOWN)" in down.stdout
    assert "kept in the inbox for the next run (exit 3: 7 rows NOT_ATTEMPTED and 1 rows UNKNOWN" in down.stdout
    assert "exit 3: rows are left to retry" in down.stdout.splitlines()[-1]
    assert sandbox.state.orders_per_external_id() == {}  # nothing was bought
    sandbox.faults = Faults()  # back up the next night
    time.sleep(sandbox.settle_seconds + 0.5)  # an UNKNOWN order is proven absent only once its settle time has passed
    up = cron("--log-file", log, "import", inbox, cwd=night["cwd"], env=night["env"])
    assert up.returncode == 0, up.stdout + up.stderr
    assert not (inbox / "monday.xlsx").exists() and (inbox / "done" / "monday.xlsx").is_file()
    assert "monday.xlsx: 8 rows, 5 orders (8 CREATED); bought CNY 441.02" in up.stdout
    assert sorted(p.name for p in (inbox / "done").glob("monday.*results.xlsx")).__len__() == 2  # both nights kept
    again = cron("import", inbox, cwd=night["cwd"], env=night["env"])
    assert again.returncode == 0 and "no new order sheets" in again.stdout
    assert list(sandbox.state.orders_per_external_id().values()) == [1] * 5  # each order once


def test_the_default_log_file_has_a_line_per_file_and_per_order(night):
    inbox = night["inbox"]
    shutil.copy(SAMPLES / "orders.xlsx", inbox / "a.xlsx")
    shutil.copy(SAMPLES / "orders-with-errors.xlsx", inbox / "b.xlsx")
    log = night["cwd"] / "import.log"
    done = cron("--log-file", log, "import", inbox, cwd=night["cwd"], env=night["env"])
    assert done.returncode == 1, done.stdout + done.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    assert all(" INFO " in line for line in lines), lines  # nothing below INFO, no warning on this night
    per_file = [line for line in lines if " import " in line]
    assert [re.search(r"import (\S+):", line).group(1) for line in per_file] == ["a.xlsx", "b.xlsx"]
    assert "bought CNY 441.02; exit 0" in per_file[0]
    assert "exit 1: " in per_file[1] and "need a person" in per_file[1]
    orders = [line for line in lines if " order " in line]
    assert len([line for line in orders if ": CREATED" in line]) == 5 + 1
    assert any(
        "order PO-1001 at xportcn-open: CREATED (2 rows), order total 76.90, provider order" in x for x in orders
    )
    assert not [line for line in lines if "HTTP" in line]  # requests are DEBUG
    assert len(lines) == len(per_file) + len(orders) + 1  # and the inbox's closing line
    assert "2 files: 2 done, 0 kept for the next run, 0 failed; bought CNY" in lines[-1]


def test_the_console_of_an_inbox_run_says_per_file_what_happened_and_why(night):
    inbox = night["inbox"]
    shutil.copy(SAMPLES / "orders-with-errors.xlsx", inbox / "errors.xlsx")
    (inbox / "junk.csv").write_text("SECRET-HEADER,x\n1,2\n", encoding="utf-8")
    run = cron("import", inbox, cwd=night["cwd"], env=night["env"])
    assert run.returncode == 2
    lines = run.stdout.splitlines()
    assert lines[0].startswith("errors.xlsx: 13 rows, 10 orders (1 CREATED, 3 HELD, 7 INVALID, 2 PREVIEW_FAILED);")
    assert " bought CNY 31.00 -> " in lines[0]  # the order total, freight included
    assert lines[0].endswith("(exit 1: 3 HELD, 7 INVALID, 2 PREVIEW_FAILED need a person (see the results))")
    assert lines[1].startswith("junk.csv -> ") and "(exit 2: junk.csv: no column for order_ref" in lines[1]
    assert "SECRET-HEADER" not in run.stdout + run.stderr  # the reason, never the contents
    note = (inbox / "failed" / "junk.csv.error.txt").read_text(encoding="utf-8")
    assert "no column for order_ref" in note and "SECRET-HEADER" not in note
    assert lines[-1].startswith("2 files: 1 done, 0 kept for the next run, 1 failed; bought CNY 31.00; exit 2")


def test_links_pipes_and_sockets_are_refused_without_being_opened(night, tmp_path):
    inbox = night["inbox"]
    secret = tmp_path / "shadow.csv"
    secret.write_text("root:SECRET-LINE:0:0\n", encoding="utf-8")
    secret.chmod(0o600)
    (inbox / "x.csv").symlink_to(secret)
    (inbox / "dangling.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    os.mkfifo(inbox / "pipe.csv")  # opening it would block the run for ever
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(inbox / "sock.csv"))
        run = cron("import", inbox, cwd=night["cwd"], env=night["env"], timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "SECRET-LINE" not in run.stdout + run.stderr
    failed = inbox / "failed"
    assert (failed / "x.csv").is_symlink() and os.readlink(failed / "x.csv") == str(secret)  # moved as a link
    for name in ("x.csv", "dangling.xlsx"):
        note = (failed / f"{name}.error.txt").read_text(encoding="utf-8")
        assert "symbolic link" in note and "SECRET-LINE" not in note
    assert stat.S_ISFIFO(os.lstat(failed / "pipe.csv").st_mode)
    assert "not a regular file" in (failed / "pipe.csv.error.txt").read_text(encoding="utf-8")
    assert "not a regular file" in (failed / "sock.csv.error.txt").read_text(encoding="utf-8")
    assert secret.read_text(encoding="utf-8") == "root:SECRET-LINE:0:0\n"  # untouched
    assert night["sandbox"].state.create_calls() == 0


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_results_and_reports_follow_the_umask(night, data_dir, umask, mode):
    inbox = night["inbox"]
    shutil.copy(SAMPLES / "orders.xlsx", inbox / "a.xlsx")
    (inbox / "junk.csv").write_text("x\n", encoding="utf-8")
    summary, log = night["cwd"] / "last-run.json", night["cwd"] / "run.log"
    run = cron(
        "--log-file", log, "import", inbox, "--summary-json", summary, cwd=night["cwd"], env=night["env"], umask=umask
    )
    assert run.returncode == 2, run.stdout + run.stderr
    written = [
        inbox / "done" / "a.results.xlsx",
        inbox / "failed" / "junk.csv.error.txt",
        summary,
        log,
    ]
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in written} == {p.name: mode for p in written}
    ledger = stat.S_IMODE((data_dir / "ledger.sqlite").stat().st_mode)  # the default: one per user
    assert ledger == 0o644 & ~umask  # SQLite's own default, never writable by others


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self):
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_notification_text_names_the_file_the_counts_and_the_amount_bought(night):
    shutil.copy(SAMPLES / "orders-with-errors.xlsx", night["inbox"] / "errors.xlsx")
    received: ClassVar[list[bytes]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        run = cron("import", night["inbox"], "--notify", url, cwd=night["cwd"], env=night["env"])
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 1, run.stdout + run.stderr
    text = json.loads(received[0])["text"]
    assert text.startswith("order-importer: errors.xlsx: 13 rows, ")
    assert "(1 CREATED, 3 HELD, 7 INVALID, 2 PREVIEW_FAILED); bought CNY 31.00; exit 1: 3 HELD, " in text
    assert json.loads(received[0])["bought"] == {"CNY": "31.00"}


# ----- ledger trouble: a message and exit 2, never a traceback ----------------------------------------------


@pytest.fixture
def ledger(night):
    """A real ledger from one import of the sample."""
    sheet = shutil.copy(SAMPLES / "orders.xlsx", night["cwd"] / "orders.xlsx")
    run = cron("import", sheet, "--ledger", "l.sqlite", cwd=night["cwd"], env=night["env"])
    assert run.returncode == 0, run.stdout + run.stderr
    return night["cwd"] / "l.sqlite"


def commands(sheet):
    return [
        ["status", "--ledger", "l.sqlite"],
        ["export", "--ledger", "l.sqlite", "-o", "again.xlsx"],
        ["import", sheet, "--ledger", "l.sqlite", "-o", "again.results.xlsx"],
    ]


def _no_traceback(run):
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert re.search(r"error: the ledger \S*l\.sqlite ", run.stderr), run.stderr


def test_a_corrupt_ledger_stops_every_command_with_a_message(night, ledger):
    ledger.write_bytes(b"this is not an SQLite database, it was overwritten" * 100)
    Path(f"{ledger}-wal").unlink(missing_ok=True)
    creates = night["sandbox"].state.create_calls()
    for args in commands(night["cwd"] / "orders.xlsx"):
        run = cron(*args, cwd=night["cwd"], env=night["env"])
        _no_traceback(run)
        assert "is damaged or truncated" in run.stderr
    assert night["sandbox"].state.create_calls() == creates


def test_a_truncated_ledger_stops_every_command_with_a_message(night, ledger):
    with sqlite3.connect(ledger) as db:  # put everything in the main file, then cut it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.executemany("INSERT INTO run_rows VALUES ('x', ?, 's', 1, ?)", [(n, "y" * 500) for n in range(200)])
    data = ledger.read_bytes()
    ledger.write_bytes(data[: len(data) // 2])
    for name in (f"{ledger}-wal", f"{ledger}-shm"):
        Path(name).unlink(missing_ok=True)
    creates = night["sandbox"].state.create_calls()
    for args in commands(night["cwd"] / "orders.xlsx"):
        run = cron(*args, cwd=night["cwd"], env=night["env"])
        _no_traceback(run)
        assert "is damaged or truncated" in run.stderr
    assert night["sandbox"].state.create_calls() == creates


def test_a_ledger_whose_folder_cannot_be_made_stops_the_import_with_a_message(night):
    (night["cwd"] / "blocker").write_text("a file where the ledger's folder should be", encoding="utf-8")
    sheet = shutil.copy(SAMPLES / "orders.xlsx", night["cwd"] / "orders.xlsx")
    run = cron("import", sheet, "--ledger", "blocker/l.sqlite", cwd=night["cwd"], env=night["env"])
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "cannot open the ledger's lock file " in run.stderr and "blocker/l.sqlite.lock" in run.stderr
    assert night["sandbox"].state.create_calls() == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files; the message is the SQLite READONLY one")
def test_a_read_only_ledger_stops_the_import_with_a_message(night, ledger):
    ledger.chmod(0o444)
    run = cron("import", night["cwd"] / "orders.xlsx", "--ledger", "l.sqlite", cwd=night["cwd"], env=night["env"])
    _no_traceback(run)
    assert "is read-only here" in run.stderr


def test_status_works_while_an_import_holds_the_ledger(night, ledger):
    with Ledger.open(ledger) as running:  # the run lock, and a write transaction open
        running._db.execute("BEGIN IMMEDIATE")
        running._db.execute("UPDATE orders SET message = 'being written' WHERE 0")
        run = cron("status", "--ledger", "l.sqlite", cwd=night["cwd"], env=night["env"])
        running._db.execute("COMMIT")
    assert run.returncode == 0, run.stderr
    assert re.search(r"CREATED\s+5", run.stdout)
    assert all(len(line) <= 80 for line in run.stdout.splitlines())
    busy = cron("import", night["cwd"] / "orders.xlsx", "--ledger", "l.sqlite", cwd=night["cwd"], env=night["env"])
    assert busy.returncode == 0  # the lock was released with the first run


def test_status_without_a_ledger_says_so(night):
    run = cron("status", "--ledger", "none.sqlite", cwd=night["cwd"], env=night["env"])
    assert run.returncode == 2 and run.stderr.startswith(
        "error: no ledger at none.sqlite; give the ledger with --ledger"
    )
