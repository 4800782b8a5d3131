"""The ledger on its own: states, fingerprints, the run lock, re-export rows."""

import sqlite3
import subprocess
import sys

import pytest

from importer.errors import LedgerBusy
from importer.models import OrderDraft, OrderLine, Receiver
from importer.submit.ledger import Fingerprint, Ledger, OrderState


def order(ref="PO-1", quantities=(2, 3), receiver="张三"):
    lines = tuple(
        OrderLine(row_id=i, line_no=str(i + 1), item_id="600126245031041190", sku_id="5016042822039", quantity=q)
        for i, q in enumerate(quantities)
    )
    return OrderDraft(provider="xportcn-open", order_ref=ref, receiver=Receiver(name=receiver), lines=lines)


def test_states_are_committed_as_they_change(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger.open(path) as ledger:
        draft = order()
        ledger.plan("K1", draft, "default", Fingerprint.of(draft))
        ledger.mark_sending("K1", "run-1")
        # another connection sees SENDING at once: it was committed before any request would leave
        other = sqlite3.connect(path)
        assert other.execute("SELECT state FROM orders WHERE key='K1'").fetchone() == ("SENDING",)
        other.close()
        ledger.mark_created("K1", "ORD-9", {"ids": ["ORD-9"], "lines": {}})
        entry = ledger.get("K1")
        assert entry.state is OrderState.CREATED
        assert entry.provider_ids == "ORD-9"
        assert ledger.counts() == {"CREATED": 1}
        assert ledger.integrity_ok()


def test_plan_does_not_overwrite_a_created_order(tmp_path):
    with Ledger.open(tmp_path / "l.sqlite") as ledger:
        first = order(quantities=(1,))
        ledger.plan("K", first, "a", Fingerprint.of(first))
        ledger.mark_created("K", "X", {})
        second = order(quantities=(5, 5))
        ledger.plan("K", second, "a", Fingerprint.of(second))
        entry = ledger.get("K")
        assert entry.state is OrderState.CREATED
        assert entry.fingerprint == Fingerprint.of(first)


def test_fingerprint_says_what_changed():
    base = Fingerprint.of(order(quantities=(1, 2, 3)))
    assert Fingerprint.of(order(quantities=(1, 2, 3, 4))).difference(base) == "with 3 lines; this sheet has 4"
    assert "total quantity of 6; this sheet has 7" in Fingerprint.of(order(quantities=(1, 2, 4))).difference(base)
    assert "receiver" in Fingerprint.of(order(quantities=(1, 2, 3), receiver="李四")).difference(base)
    assert Fingerprint.of(order(quantities=(1, 2, 3))) == base


def test_fingerprint_keeps_no_personal_data():
    fingerprint = Fingerprint.of(order(receiver="张三"))
    assert "张三" not in repr(fingerprint)


def test_second_run_on_the_same_ledger_is_refused(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger.open(path):
        code = (
            "import sys\n"
            "from importer.submit.ledger import Ledger\n"
            "from importer.errors import LedgerBusy\n"
            "try:\n"
            f"    Ledger.open({str(path)!r}).__enter__()\n"
            "except LedgerBusy as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 3
        assert "another run is using the ledger" in done.stdout
    with Ledger.open(path):  # released when the first run ends
        pass


def test_lock_is_per_ledger_in_one_process(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger.open(path), pytest.raises(LedgerBusy), Ledger.open(path):
        pass


def test_run_rows_round_trip(tmp_path):
    with Ledger.open(tmp_path / "l.sqlite") as ledger:
        ledger.start_run("r1", "orders.xlsx")
        ledger.finish_run("r1", 1, [(0, "Orders", 2, {"status": "CREATED", "error": ""})])
        assert ledger.runs()[0]["exit_code"] == 1
        assert ledger.run_rows("r1") == [(0, "Orders", 2, {"status": "CREATED", "error": ""})]


def test_an_earlier_run_is_exported_from_the_ledger(tmp_path, sandbox):
    import shutil
    from pathlib import Path

    import openpyxl

    import importer
    from importer.api import export_run
    from importer.errors import InputError

    sheet = tmp_path / "orders.xlsx"
    shutil.copy(Path(__file__).resolve().parent.parent / "samples" / "orders-with-errors.xlsx", sheet)
    result = importer.run(sheet, settings=sandbox.settings())
    exported = export_run(result.ledger, tmp_path / "again.xlsx")
    rows = list(openpyxl.load_workbook(exported).active.iter_rows(values_only=True))
    header = rows[0]
    got = {(r[header.index("sheet")], int(r[header.index("row")])): r[header.index("status")] for r in rows[1:]}
    frame = result.sheet.frame
    want = {(s, int(r)): st for s, r, st in zip(frame["_sheet"], frame["_row"], result.outcomes["status"], strict=True)}
    assert got == want
    with pytest.raises(InputError, match="matches 'nope'"):
        export_run(result.ledger, tmp_path / "x.xlsx", "nope")


def test_record_confirmation_names_the_buyer_on_runs_and_their_orders_once(tmp_path):
    from importer.submit.ledger import Ledger

    with Ledger.open(tmp_path / "l.sqlite") as journal:
        journal.start_run("r1", "<DataFrame>")
        journal.record_confirmation([], "nobody", "ignored.xlsx")  # no runs: nothing to name
        journal.record_confirmation(["r1"], "bob", "orders.xlsx")
        journal.record_confirmation(["r1"], "eve", "other.xlsx")  # the first name recorded stays
        runs = journal.runs()
    assert [(r["run_id"], r["confirmed_by"], r["source"]) for r in runs] == [("r1", "bob", "orders.xlsx")]


def test_ledgers_from_before_confirmations_get_the_column(tmp_path):
    import sqlite3

    from importer.submit.ledger import Ledger

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE runs (run_id TEXT PRIMARY KEY, source TEXT NOT NULL, started_at TEXT NOT NULL,"
        " finished_at TEXT NOT NULL DEFAULT '', exit_code INTEGER)"
    )
    old.execute("INSERT INTO runs (run_id, source, started_at) VALUES ('r0', 'a.xlsx', '2026-01-01')")
    old.commit()
    old.close()
    with Ledger.open(path) as journal:
        assert journal.runs()[0]["confirmed_by"] == ""
