"""Only positive evidence settles an order: the cases of issue 23, run through the command line over HTTP.

Each test imports real sheets with the CLI against a sandbox in this process
and counts, at ``GET /_sandbox/orders``, how many orders each external id
made: never more than one. A provider slower than the client's read timeout,
a run killed with creates in flight, lookup answers of shapes no document
shows, two output folders, a deleted ledger, and ``unknown`` / ``resolve``.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import requests
from typer.testing import CliRunner

from importer.cli import app
from importer.errors import NotSent, OutcomeUnknown, Transient
from importer.providers import REGISTRY
from importer.providers.base import _never_connected
from importer.sandbox import SANDBOX_MODULES, Faults, LookupAnswer, Sandbox
from importer.submit.orders import _nothing_reached_provider

MODULES = {m.PROVIDER_KEY: m for m in SANDBOX_MODULES}
RECEIVER = {"receiver_name": "张三", "receiver_mobile": "13800138000", "province": "浙江省", "city": "杭州市"}
RECEIVER |= {"district": "余杭区", "town": "五常街道", "address": "文一西路969号"}
BAD_SHAPES = [LookupAnswer.NULL_DATA, LookupAnswer.MISSING_KEYS, LookupAnswer.ERROR_ENVELOPE, LookupAnswer.HTTP_500]


# ----- helpers ------------------------------------------------------------------------------------


def write_sheet(path: Path, orders: dict[str, str]) -> Path:
    """One order per entry (order_ref -> provider), each with its provider's clean example lines."""
    rows = [
        {"provider": provider, "order_ref": ref, **line, **RECEIVER}
        for ref, provider in orders.items()
        for line in MODULES[provider].EXAMPLE_LINES["clean"]
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, dtype=str).to_excel(path, index=False, sheet_name="Orders")
    return path


def write_config(sandbox: Sandbox, path: Path, **options: object) -> dict[str, str]:
    """The sandbox's printed config with ``options`` set in every provider section; returns the environment."""
    env = sandbox.write_config(path)
    text = path.read_text("utf-8")
    for name, value in options.items():
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        text = re.sub(rf"(?m)^{name} = .*\n", "", text)
        text = re.sub(r"(\[providers\.[^\]]+\]\n)", rf"\1{name} = {shown}\n", text)
    path.write_text(text, "utf-8")
    return {**env, "ORDER_IMPORTER_CONFIG": str(path)}


def orders_made(sandbox: Sandbox) -> dict[str, int]:
    """External id -> orders made under it, as another process sees it."""
    answer = requests.get(sandbox.url + "/_sandbox/orders", timeout=5).json()
    return {f"{entry['provider']}/{entry['external_id']}": entry["orders"] for entry in answer}


def assert_no_duplicates(sandbox: Sandbox) -> None:
    made = orders_made(sandbox)
    assert all(n == 1 for n in made.values()), made


def import_cli(sheet: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *args: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, ["import", str(sheet), *args])


def statuses(sheet: Path, output: Path | None = None) -> list[str]:
    rows = list(openpyxl.load_workbook(output or sheet.with_name(f"{sheet.stem}.results.xlsx"))["Orders"].values)
    column = rows[0].index("status")
    return [str(row[column]) for row in rows[1:]]


def errors(sheet: Path) -> list[str]:
    rows = list(openpyxl.load_workbook(sheet.with_name(f"{sheet.stem}.results.xlsx"))["Orders"].values)
    column = rows[0].index("error")
    return [str(row[column] or "") for row in rows[1:]]


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


# ----- nothing was sent is a type ----------------------------------------------------------------


def test_nothing_sent_is_decided_by_type_never_by_the_words(fresh_sandbox):
    import dataclasses
    import socket

    import urllib3

    refused = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.NewConnectionError(None, "refused"))
    )
    assert _never_connected(refused)
    assert not _never_connected(requests.exceptions.ConnectionError("Connection refused"))  # words decide nothing
    assert _nothing_reached_provider(NotSent("anything at all"))
    assert not _nothing_reached_provider(Transient("could not connect"))
    provider = REGISTRY["xportcn-open"](fresh_sandbox.settings().account("xportcn-open"))
    request = provider.lookup_request("OI-X")
    fresh_sandbox.faults = Faults(rate_429=1.0)
    with pytest.raises(NotSent):
        provider.send(request, may_have_side_effects=True)
    fresh_sandbox.faults = Faults(rate_503=1.0)
    with pytest.raises(OutcomeUnknown):
        provider.send(request, may_have_side_effects=True)  # a proxy may answer 503 after forwarding
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    account = fresh_sandbox.settings().account("xportcn-open")
    unreachable = REGISTRY["xportcn-open"](dataclasses.replace(account, base_url=f"http://127.0.0.1:{closed}"))
    with pytest.raises(NotSent):
        unreachable.send(request, may_have_side_effects=True)


# ----- case 1: a provider slower than the client's read timeout ------------------------------------


def test_a_create_slower_than_the_read_timeout_rerun_at_once_buys_nothing_twice(tmp_path, monkeypatch):
    with Sandbox.start(create_delay=2.0) as slow:
        sheet = write_sheet(tmp_path / "orders.xlsx", {f"SLOW-{n}": "xportcn-open" for n in range(4)})
        env = write_config(slow, tmp_path / "importer.toml", read_timeout=0.5)
        first = import_cli(sheet, env, monkeypatch)
        assert first.exit_code == 1, first.output
        assert set(statuses(sheet)) == {"UNKNOWN"}
        assert all("order-importer resolve OI" in e and "--absent" in e for e in errors(sheet))
        again = import_cli(sheet, env, monkeypatch)  # at once: the provider is still making them
        assert again.exit_code in (0, 1), again.output
        assert set(statuses(sheet)) <= {"UNKNOWN", "ALREADY_CREATED"}
        assert slow.state.calls("POST /xportcn/api/open/order") == 4  # not one create sent again
        wait_until(lambda: len(orders_made(slow)) == 4)
        time.sleep(slow.settle_seconds - slow.create_delay)
        settled = import_cli(sheet, env, monkeypatch)
        assert settled.exit_code == 0, settled.output
        assert set(statuses(sheet)) == {"ALREADY_CREATED"}
        assert slow.state.create_calls() == 4
        assert_no_duplicates(slow)


def test_a_run_killed_with_creates_in_flight_rerun_at_once_buys_nothing_twice(tmp_path):
    with Sandbox.start(create_delay=2.0) as slow:
        sheet = write_sheet(tmp_path / "orders.xlsx", {f"KILL-{n}": "xportcn-open" for n in range(6)})
        env = {**os.environ, **write_config(slow, tmp_path / "importer.toml")}
        command = [sys.executable, "-m", "importer", "import", str(sheet)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_until(lambda: slow.state.calls("POST /xportcn/api/open/order") == 4)  # 4 in flight (concurrency)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        again = subprocess.run(command, env=env, capture_output=True, timeout=60, check=False)
        assert again.returncode in (0, 1), again.stderr  # 0 when the provider finished before the lookups
        rows = statuses(sheet)
        assert rows.count("UNKNOWN") + rows.count("ALREADY_CREATED") == 8, rows  # the 4 in flight: not resent
        assert rows.count("CREATED") == 4, rows  # the 2 never sent
        assert slow.state.calls("POST /xportcn/api/open/order") == 6
        wait_until(lambda: len(orders_made(slow)) == 6)
        time.sleep(slow.settle_seconds - slow.create_delay)
        settled = subprocess.run(command, env=env, capture_output=True, timeout=60, check=False)
        assert settled.returncode == 0, settled.stderr
        assert set(statuses(sheet)) == {"ALREADY_CREATED"}
        assert slow.state.create_calls() == 6
        assert_no_duplicates(slow)


# ----- case 2: lookup answers of shapes no document shows ------------------------------------------


def test_lookup_answers_of_unexpected_shapes_keep_orders_unknown(fresh_sandbox, tmp_path, monkeypatch):
    sheet = write_sheet(tmp_path / "orders.xlsx", {"SHAPE-1": "xportcn-open", "SHAPE-2": "shanjing"})
    env = write_config(fresh_sandbox, tmp_path / "importer.toml", settle_seconds=0)  # only the shape matters
    fresh_sandbox.faults = Faults(drop_after_commit=1.0)  # made, then no answer
    assert import_cli(sheet, env, monkeypatch).exit_code == 1
    assert set(statuses(sheet)) == {"UNKNOWN"}
    for shape in BAD_SHAPES:
        fresh_sandbox.faults = Faults(lookup_answer=shape)
        result = import_cli(sheet, env, monkeypatch)
        assert result.exit_code == 1, result.output
        assert set(statuses(sheet)) == {"UNKNOWN"}, shape
        assert all("the lookup" in e for e in errors(sheet))
        assert fresh_sandbox.state.create_calls() == 2
    fresh_sandbox.faults = Faults()
    assert import_cli(sheet, env, monkeypatch).exit_code == 0
    assert set(statuses(sheet)) == {"ALREADY_CREATED"}
    assert fresh_sandbox.state.create_calls() == 2
    assert_no_duplicates(fresh_sandbox)


def test_an_inferred_lookup_finding_nothing_proves_nothing_until_trusted_and_settled(
    fresh_sandbox, tmp_path, monkeypatch
):
    sheet = write_sheet(tmp_path / "orders.xlsx", {"TRUST-1": "dajisaas"})
    untrusted = write_config(fresh_sandbox, tmp_path / "a.toml", trust_lookup_absent=False)
    kill_after_sending(sheet, untrusted)  # SENDING committed, nothing sent
    unsettled = write_config(fresh_sandbox, tmp_path / "b.toml", settle_seconds=600)
    for env, reason in ((untrusted, "trust_lookup_absent = true"), (unsettled, "settle_seconds")):
        result = import_cli(sheet, env, monkeypatch)
        assert result.exit_code == 1, result.output
        assert set(statuses(sheet)) == {"UNKNOWN"} and all(reason in e for e in errors(sheet))
        assert fresh_sandbox.state.create_calls() == 0
    trusted = write_config(fresh_sandbox, tmp_path / "c.toml", settle_seconds=0)
    assert import_cli(sheet, trusted, monkeypatch).exit_code == 0
    assert set(statuses(sheet)) == {"CREATED"}
    assert fresh_sandbox.state.create_calls() == 1
    assert_no_duplicates(fresh_sandbox)


def kill_after_sending(sheet: Path, env: dict[str, str]) -> None:
    """Run an import that kills itself once SENDING is committed, before its create leaves."""
    command = [sys.executable, "-m", "importer", "import", str(sheet)]
    killed = subprocess.run(
        command, env={**os.environ, **env, "ORDER_IMPORTER_KILL_AT": "after-sending"}, capture_output=True, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


# ----- case 3: one ledger, wherever the results go -------------------------------------------------


def test_the_same_file_with_two_output_folders_buys_once(fresh_sandbox, tmp_path, monkeypatch, data_dir):
    sheet = write_sheet(tmp_path / "orders.xlsx", {"OUT-1": "xportcn-open", "OUT-2": "dajisaas"})
    env = write_config(fresh_sandbox, tmp_path / "importer.toml")
    first = import_cli(sheet, env, monkeypatch, "-o", str(tmp_path / "a" / "r.xlsx"))
    assert first.exit_code == 0, first.output
    second = import_cli(sheet, env, monkeypatch, "-o", str(tmp_path / "b" / "r.xlsx"))
    assert second.exit_code == 0, second.output
    assert set(statuses(sheet, tmp_path / "b" / "r.xlsx")) == {"ALREADY_CREATED"}
    assert fresh_sandbox.state.create_calls() == 2 and (data_dir / "ledger.sqlite").is_file()
    assert_no_duplicates(fresh_sandbox)


def test_a_deleted_or_unreadable_ledger_stops_the_rerun_with_exit_2(fresh_sandbox, tmp_path, monkeypatch, data_dir):
    sheet = write_sheet(tmp_path / "orders.xlsx", {"GONE-1": "shanjing"})
    env = write_config(fresh_sandbox, tmp_path / "importer.toml")
    assert import_cli(sheet, env, monkeypatch).exit_code == 0
    ledger = data_dir / "ledger.sqlite"
    for part in (ledger, Path(f"{ledger}-wal"), Path(f"{ledger}-shm")):
        part.unlink(missing_ok=True)
    deleted = import_cli(sheet, env, monkeypatch)
    assert deleted.exit_code == 2
    assert "that earlier runs used is missing" in deleted.output and "--new-ledger" in deleted.output
    ledger.write_bytes(b"this is not a ledger " * 200)
    unreadable = import_cli(sheet, env, monkeypatch)
    assert unreadable.exit_code == 2 and "is damaged or truncated" in unreadable.output
    assert fresh_sandbox.state.create_calls() == 1
    assert_no_duplicates(fresh_sandbox)


# ----- unknown and resolve, end to end ------------------------------------------------------------


def test_an_unknown_order_resolved_absent_is_sent_by_the_next_run(fresh_sandbox, tmp_path, monkeypatch):
    sheet = write_sheet(tmp_path / "orders.xlsx", {"RES-A": "xportcn-ka-1688"})
    env = write_config(fresh_sandbox, tmp_path / "importer.toml", trust_lookup_absent=False)
    kill_after_sending(sheet, env)
    assert import_cli(sheet, env, monkeypatch).exit_code == 1
    assert set(statuses(sheet)) == {"UNKNOWN"}
    listed = CliRunner().invoke(app, ["unknown"])
    assert listed.exit_code == 0, listed.output
    assert all(len(line) <= 80 for line in listed.output.splitlines()), listed.output
    for expected in ("UNKNOWN xportcn-ka-1688 (account default) order_ref RES-A", "orders.xlsx", "Orders 2-3"):
        assert expected in listed.output
    (key,) = re.findall(r"external id (OI\w+)", listed.output)
    resolved = CliRunner().invoke(app, ["resolve", key, "--absent", "--note", "not in the console"])
    assert resolved.exit_code == 0 and "the next run sends it again" in resolved.output
    assert import_cli(sheet, env, monkeypatch).exit_code == 0
    assert set(statuses(sheet)) == {"CREATED"}
    assert orders_made(fresh_sandbox) == {f"xportcn-ka-1688/{key}": 1}


def test_an_unknown_order_resolved_created_shows_already_created_with_that_id(fresh_sandbox, tmp_path, monkeypatch):
    sheet = write_sheet(tmp_path / "orders.xlsx", {"RES-C": "xportcn-open"})
    env = write_config(fresh_sandbox, tmp_path / "importer.toml")
    fresh_sandbox.faults = Faults(drop_after_commit=1.0)
    assert import_cli(sheet, env, monkeypatch).exit_code == 1
    fresh_sandbox.faults = Faults(lookup_answer=LookupAnswer.ERROR_ENVELOPE)  # the lookup cannot settle it
    (made,) = fresh_sandbox.state.orders("xportcn-open")
    runner = CliRunner()
    listed = runner.invoke(app, ["unknown"])
    assert listed.exit_code == 0 and made["sellerOrderNumber"] in listed.output
    refused = runner.invoke(app, ["resolve", made["sellerOrderNumber"]])
    assert refused.exit_code == 2 and "exactly one of" in refused.output
    done = runner.invoke(app, ["resolve", made["sellerOrderNumber"], "--created", made["orderNo"], "--note", "seen"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["resolve", made["sellerOrderNumber"], "--absent"])
    assert again.exit_code == 2 and "not unsettled" in again.output  # created is final
    assert import_cli(sheet, env, monkeypatch).exit_code == 0
    rows = list(openpyxl.load_workbook(tmp_path / "orders.results.xlsx")["Orders"].values)
    status, order_id = rows[0].index("status"), rows[0].index("provider_order_id")
    assert {(row[status], row[order_id]) for row in rows[1:]} == {("ALREADY_CREATED", made["orderNo"])}
    assert fresh_sandbox.state.create_calls() == 1
    assert runner.invoke(app, ["unknown"]).output.startswith("no unsettled orders")
