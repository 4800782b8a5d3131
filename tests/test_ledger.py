"""The ledger on its own: states, fingerprints, the run lock, re-export rows."""

import sqlite3
import subprocess
import sys

import pytest

from importer.errors import LedgerBusy, LedgerConflict, LedgerError, LedgerMissing
from importer.models import OrderDraft, OrderLine, Receiver
from importer.submit.ledger import (
    TRANSITIONS,
    Fingerprint,
    Ledger,
    OrderState,
    allowed_from,
    default_ledger_path,
    known_ledgers,
    open_existing,
    open_for_run,
)


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
        ledger.mark_sending("K", "run")
        ledger.mark_created("K", "X", {})
        second = order(quantities=(5, 5))
        with pytest.raises(LedgerConflict, match="is CREATED"):
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


# ----- guarded transitions ---------------------------------------------------------------------

MOVES = {
    OrderState.PLANNED: lambda ledger, key: ledger.mark_planned(key, Fingerprint.of(order())),
    OrderState.SENDING: lambda ledger, key: ledger.mark_sending(key, "run"),
    OrderState.CREATED: lambda ledger, key: ledger.mark_created(key, "ORD-1", {"ids": ["ORD-1"]}),
    OrderState.REJECTED: lambda ledger, key: ledger.mark_rejected(key, "no"),
    OrderState.UNKNOWN: lambda ledger, key: ledger.mark_unknown(key, "unclear"),
}


def _entry_in(ledger, key, state):
    draft = order(ref=key)
    ledger.plan(key, draft, "a", Fingerprint.of(draft))
    ledger._db.execute("UPDATE orders SET state = ? WHERE key = ?", (str(state), key))  # arrange the from-state


@pytest.mark.parametrize("target", list(OrderState))
@pytest.mark.parametrize("source", list(OrderState))
def test_every_allowed_move_is_made_and_every_other_refused(tmp_path, source, target):
    with Ledger.open(tmp_path / "l.sqlite") as ledger:
        _entry_in(ledger, "K", source)
        if (source, target) in TRANSITIONS:
            MOVES[target](ledger, "K")
            assert ledger.get("K").state is target
        else:
            with pytest.raises(LedgerConflict, match=f"is {source}; it cannot become {target}"):
                MOVES[target](ledger, "K")
            assert ledger.get("K").state is source  # nothing changed


def test_transitions_table_matches_the_diagram():
    assert allowed_from(OrderState.SENDING) == {OrderState.PLANNED}
    assert allowed_from(OrderState.CREATED) == {OrderState.SENDING, OrderState.UNKNOWN}
    assert not any(source is OrderState.CREATED for source, _ in TRANSITIONS)  # created is final


def test_a_change_to_an_order_not_in_the_ledger_is_refused(tmp_path):
    with Ledger.open(tmp_path / "l.sqlite") as ledger, pytest.raises(LedgerConflict, match="not in the ledger"):
        ledger.mark_created("NOPE", "X", {})


def test_resolving_records_time_and_note_and_only_unsettled_orders(tmp_path):
    with Ledger.open(tmp_path / "l.sqlite") as ledger:
        for key in ("A", "B"):
            _entry_in(ledger, key, OrderState.UNKNOWN)
        ledger.resolve_created("A", "ORD-7", note="seen in the console")
        ledger.resolve_absent("B", note="support said no")
        a, b = ledger.get("A"), ledger.get("B")
        assert (a.state, a.provider_ids, a.note) == (OrderState.CREATED, "ORD-7", "seen in the console")
        assert (b.state, b.note) == (OrderState.PLANNED, "support said no")
        assert a.resolved_at and b.resolved_at
        with pytest.raises(LedgerConflict):
            ledger.resolve_absent("A")  # created is final
        assert ledger.unsettled() == []


def test_an_older_ledger_gains_the_new_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE orders (key TEXT PRIMARY KEY, provider TEXT NOT NULL, account TEXT NOT NULL,"
            " order_ref TEXT NOT NULL, content_hash TEXT NOT NULL, line_count INTEGER NOT NULL,"
            " total_quantity INTEGER NOT NULL, lines_hash TEXT NOT NULL, receiver_hash TEXT NOT NULL,"
            " state TEXT NOT NULL, provider_ids TEXT NOT NULL DEFAULT '', result TEXT NOT NULL DEFAULT '{}',"
            " message TEXT NOT NULL DEFAULT '', run_id TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL)"
        )
        db.execute("INSERT INTO orders VALUES ('K','p','a','R','h',1,1,'l','r','UNKNOWN','','{}','','','t','t')")
    with Ledger.open(path) as ledger:
        assert ledger.get("K").sent_at == "" and ledger.unsettled()[0].key == "K"


# ----- where the ledger lives ------------------------------------------------------------------


def test_the_default_ledger_is_one_per_user_in_the_data_folder(data_dir):
    assert default_ledger_path() == data_dir / "ledger.sqlite"
    with open_for_run() as ledger:
        assert ledger.path == (data_dir / "ledger.sqlite").resolve()
    assert known_ledgers() == {(data_dir / "ledger.sqlite").resolve()}


def test_a_ledger_earlier_runs_used_that_is_gone_stops_the_run_unless_asked_for_a_new_one(tmp_path):
    path = tmp_path / "l.sqlite"
    with open_for_run(path):
        pass
    path.unlink()
    with pytest.raises(LedgerMissing, match="that earlier runs used is missing") as caught, open_for_run(path):
        pass
    assert caught.value.exit_code == 2 and not path.exists()
    with open_for_run(path, new=True) as ledger:
        assert ledger.counts() == {}


def test_a_ledger_that_cannot_be_read_stops_the_run(tmp_path):
    path = tmp_path / "l.sqlite"
    path.write_bytes(b"not a database at all, just some bytes " * 100)
    with pytest.raises(LedgerError, match="is damaged or truncated") as caught, open_for_run(path):
        pass
    assert caught.value.exit_code == 2
    with pytest.raises(LedgerMissing, match="no ledger at"), open_existing(tmp_path / "never.sqlite"):
        pass


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
