"""Hostile and broken input: every bad file gets one clear sentence, nothing crashes, nothing leaks.

Every attack file is built by the test itself; none is committed.
"""

import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import importer
from importer.config import load_settings
from importer.errors import ConfigError, InputError
from importer.models import OrderSheet, Status
from importer.read.limits import InputLimits, check_archive
from importer.write.workbook import write_results

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
HEADER = ["provider", "order_ref", "item_id", "sku_id", "quantity", "receiver_name", "receiver_mobile", "province",
          "city", "address"]  # fmt: skip
ROW = ["xportcn-open", "PO-1", "600126245031041190", "5016042822039", "1", "张三", "13800138000", "浙江省", "杭州市",
       "文一西路969号"]  # fmt: skip


def sheet_file(path, rows):
    book = openpyxl.Workbook()
    book.active.title = "Orders"
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def rewrite_member(path, member, data, extra=()):
    """Copy an .xlsx with one zip member replaced (and extra members added)."""
    source = zipfile.ZipFile(path)
    target = path.with_name("hostile-" + path.name)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, data if item.filename == member else source.read(item.filename))
        for name, content in extra:
            out.writestr(name, content)
    return target


# ----- XML and zip bombs -------------------------------------------------------------------------


def test_openpyxl_parses_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML, "defusedxml must be installed so openpyxl refuses entity declarations"


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, b"".join(b"&lol%s;" % (str(n - 1).encode() if n > 1 else b"") for _ in range(10)))
        for n in range(1, 10)
    )
    + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
    b'<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)


def test_xml_bomb_is_refused_fast_and_small(tmp_path):
    clean = sheet_file(tmp_path / "orders.xlsx", [HEADER, ROW])
    bomb = rewrite_member(clean, "xl/worksheets/sheet1.xml", BILLION_LAUGHS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match="XML bomb"):
        importer.load(bomb)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB on Linux, never expanded


@pytest.mark.parametrize(
    "padding", [70_000, 65_536 - len(b'<?xml version="1.0"?><!--') - 3 - len(b"--><!DOCTYPE lolz [")]
)
def test_entity_declaration_after_a_long_prolog_is_refused(tmp_path, padding):
    """Only the prolog is unpacked for the check: a long comment, or the marker split by a read, hides nothing."""
    clean = sheet_file(tmp_path / "orders.xlsx", [HEADER, ROW])
    long_prolog = BILLION_LAUGHS.replace(b"?><!DOCTYPE", b"?><!--" + b"x" * padding + b"--><!DOCTYPE", 1)
    with pytest.raises(InputError, match="XML bomb"):
        importer.load(rewrite_member(clean, "xl/worksheets/sheet1.xml", long_prolog))


def test_entity_text_inside_the_sheet_is_not_a_declaration(tmp_path):
    """Declarations stand before the root element; the same letters in a comment further on are harmless."""
    clean = sheet_file(tmp_path / "orders.xlsx", [HEADER, ROW])
    with zipfile.ZipFile(clean) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    marked = xml.replace(b"<sheetData>", b"<!-- <!ENTITY is only text here --><sheetData>", 1)
    assert marked != xml
    sheet = importer.load(rewrite_member(clean, "xl/worksheets/sheet1.xml", marked))
    assert sheet.frame["order_ref"].tolist() == [ROW[HEADER.index("order_ref")]]


def test_zip_bomb_member_is_refused_before_unpacking(tmp_path):
    clean = sheet_file(tmp_path / "orders.xlsx", [HEADER, ROW])
    bomb = rewrite_member(clean, "", b"", extra=[("xl/media/padding.bin", b"\0" * (40 * 2**20))])
    with pytest.raises(InputError, match=r"compressed \d+:1.*max_compression_ratio"):
        importer.load(bomb)


def test_zip_limits_are_configurable_and_named(tmp_path):
    clean = sheet_file(tmp_path / "orders.xlsx", [HEADER, ROW])
    with pytest.raises(InputError, match="max_zip_members"):
        importer.load(clean, limits=InputLimits(max_zip_members=3))
    with pytest.raises(InputError, match="max_uncompressed_mb"):
        importer.load(clean, limits=InputLimits(max_uncompressed_mb=0.001))
    with pytest.raises(InputError, match="max_file_mb"):
        importer.load(clean, limits=InputLimits(max_file_mb=0.0001))


def test_limits_come_from_the_config_and_typos_are_refused(tmp_path):
    config = tmp_path / "importer.toml"
    config.write_text("[limits]\nmax_rows = 3\n", encoding="utf-8")
    assert load_settings(config, {}).limits.max_rows == 3
    config.write_text("[limits]\nmax_row = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_settings(config, {})


# ----- size -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_row_limit_is_a_clear_error(tmp_path, suffix):
    rows = [HEADER] + [[*ROW[:1], f"PO-{n}", *ROW[2:]] for n in range(5)]
    path = tmp_path / f"many{suffix}"
    if suffix == ".xlsx":
        sheet_file(path, rows)
    else:
        pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"more than 3 data rows \(max_rows"):
        importer.load(path, limits=InputLimits(max_rows=3))


def test_a_cell_of_32767_characters_goes_through(tmp_path, sandbox):
    long_text = "长" * 32767
    path = sheet_file(tmp_path / "long.xlsx", [[*HEADER, "packing list"], [*ROW, long_text]])
    result = importer.run(path, settings=sandbox.settings(), stage="validate")
    assert result.sheet.frame.loc[0, "packing list"] == long_text
    cell = openpyxl.load_workbook(result.output)["Orders"]["K2"]
    assert cell.value == long_text


# ----- odd but real spreadsheets -------------------------------------------------------------------


def test_password_protected_workbook_says_so(tmp_path):
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    with pytest.raises(InputError, match="password-protected"):
        importer.load(path)


def test_no_sheet_with_the_required_headers_lists_what_was_found(tmp_path):
    path = sheet_file(tmp_path / "wrong.xlsx", [["provider", "order_ref", "itm", "qty "], ROW[:4]])
    with pytest.raises(InputError) as caught:
        importer.load(path)
    message = str(caught.value)
    assert "wrong.xlsx" in message and "sheet 'Orders'" in message
    assert "no column for item_id; did you mean 'itm'?" in message
    assert "headers found: 'provider', 'order_ref', 'itm', 'qty'" in message


def test_full_width_digits_in_ids_and_phones_are_folded_and_names_kept(tmp_path, sandbox):
    wide = [*ROW[:2], "６００１２６２４５０３１０４１１９０", "５０１６０４２８２２０３９", "２", "Ｚｈａｎｇ 三"]
    wide += ["＋８６１３８００１３８０００", *ROW[7:]]
    path = sheet_file(tmp_path / "wide.xlsx", [HEADER, wide])
    result = importer.run(path, settings=sandbox.settings())
    assert list(result.outcomes["status"]) == [Status.CREATED], result.outcomes["error"].tolist()
    out = openpyxl.load_workbook(result.output)["Orders"]
    assert out["C2"].value == wide[2] and out["F2"].value == "Ｚｈａｎｇ 三"  # the user's cells as typed


def test_merged_cells_and_hidden_rows_are_read_as_excel_shows_them(tmp_path):
    path = tmp_path / "merged.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    for row in (HEADER, ROW, [*ROW[:4], "2", "", "", "", "", ""]):
        sheet.append(row)
    sheet.merge_cells("B2:B3")  # one order_ref cell spanning two lines
    sheet.row_dimensions[3].hidden = True
    book.save(path)
    frame = importer.load(path).frame
    assert list(frame["order_ref"]) == ["PO-1", ""]
    report = importer.validate(frame)
    assert "order_ref" in set(report.errors["column"])  # the blank merged part is reported, not guessed


# ----- output safety ------------------------------------------------------------------------------------


LEADERS = ["=", "+", "-", "@", "\t", "\r", "＝"]
XML_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
    lambda c: c in "\t\n\r" or ord(c) >= 0x20
)
ADVERSARIAL = st.builds(lambda lead, rest: lead + rest, st.sampled_from(LEADERS), st.text(XML_TEXT, max_size=30))


@settings(max_examples=40, deadline=None)
@given(values=st.lists(ADVERSARIAL, min_size=25, max_size=30))
def test_no_formula_ever_reaches_the_results_and_text_round_trips(tmp_path_factory, values):
    """40 workbooks x 25-30 values: over 1,000 adversarial texts through both writers."""
    folder = tmp_path_factory.mktemp("adversarial")
    frame = pd.DataFrame({"order_ref": [f"R{n}" for n in range(len(values))], "note": values})
    frame["_sheet"], frame["_row"] = "Orders", range(2, len(values) + 2)
    outcomes = pd.DataFrame({"status": "INVALID", "error": values}, index=frame.index)
    source = folder / "in.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Orders"
    book.active.append(["order_ref", "note"])
    for ref, note in zip(frame["order_ref"], values, strict=True):
        book.active.append([ref, note])
        for cell in book.active[book.active.max_row]:
            cell.data_type = "s"
    book.save(source)
    for sheet in (OrderSheet(frame=frame), OrderSheet(frame=frame, source=source)):
        path = write_results(
            sheet,
            outcomes,
            pd.DataFrame(columns=["row_id", "sheet", "row", "column", "value", "message"]),
            folder / "out.xlsx",
        )
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
        got = openpyxl.load_workbook(path)["Orders"]
        header = [c.value for c in got[1]]
        notes = [excel_text(got.cell(row=r, column=header.index("note") + 1).value) for r in range(2, len(values) + 2)]
        errors = [
            excel_text(got.cell(row=r, column=header.index("error") + 1).value) for r in range(2, len(values) + 2)
        ]
        kept = (
            values
            if sheet.source is None
            else [excel_text(c.value) for c in openpyxl.load_workbook(source)["Orders"]["B"][1:]]
        )
        assert errors == values  # what the importer wrote
        assert notes == kept  # the user's own cells, untouched (a raw CR in their file reads back as LF)


def excel_text(value):
    """Text as Excel shows it: OOXML's _xHHHH_ escapes (xlsxwriter writes CR as _x000D_) decoded."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), value or "")


def test_control_characters_from_outside_do_not_break_the_workbook(tmp_path):
    frame = pd.DataFrame({"order_ref": ["R1"], "note": ["bad\x01byte\x0bhere"], "_sheet": "Orders", "_row": [2]})
    outcomes = pd.DataFrame({"status": ["CREATE_FAILED"], "error": ["provider said \x07no"]}, index=frame.index)
    source = sheet_file(tmp_path / "in.xlsx", [["order_ref", "note"], ["R1", "plain"]])
    for sheet in (OrderSheet(frame=frame), OrderSheet(frame=frame, source=source)):
        path = write_results(
            sheet,
            outcomes,
            pd.DataFrame(columns=["row_id", "sheet", "row", "column", "value", "message"]),
            tmp_path / "out.xlsx",
        )
        openpyxl.load_workbook(path)  # opens: the XML is valid


# ----- secrets never leak ---------------------------------------------------------------------------------


CANARIES = {
    "XPORTCN_OPEN_ACCESS_KEY": "canaryAK7f3e9d1c",
    "XPORTCN_OPEN_SECRET": "canarySECRETb81a44e0",
    "DAJISAAS_APP_KEY": "canaryDAJIKEY5521",
    "DAJISAAS_APP_SECRET": "canaryDAJISECRET0c9e",
    "SHANJING_ACCESS_TOKEN": "canaryTOKEN77aa01",
    "SHANJING_REFRESH_TOKEN": "canaryREFRESH3b2f",
}


def accept_canaries(sandbox, accept):
    """Make the sandbox take the canary credentials (success paths) or refuse them (auth-failure paths)."""
    sandbox.module("xportcn-open").gate.keys = (
        {CANARIES["XPORTCN_OPEN_ACCESS_KEY"]: CANARIES["XPORTCN_OPEN_SECRET"]} if accept else {}
    )
    daji = {"app_key": CANARIES["DAJISAAS_APP_KEY"], "app_secret": CANARIES["DAJISAAS_APP_SECRET"]}
    sandbox.module("dajisaas").CREDENTIALS = daji if accept else {"app_key": "other", "app_secret": "other"}
    shanjing = sandbox.module("shanjing")
    token, refresh = CANARIES["SHANJING_ACCESS_TOKEN"], CANARIES["SHANJING_REFRESH_TOKEN"]
    shanjing.CREDENTIALS = {"access_token": token, "refresh_token": refresh if accept else "other"}
    shanjing._tokens = {token: time.time() + 3600} if accept else {}


def test_canary_secrets_appear_nowhere(tmp_path, fresh_sandbox):
    """Success, auth failure, 5xx, timeout and a crash, at DEBUG, as text and JSON logs; then search everything."""
    from importer.sandbox import Faults

    config = tmp_path / "importer.toml"
    env = {**os.environ, **fresh_sandbox.write_config(config), **CANARIES, "ORDER_IMPORTER_CONFIG": str(config)}
    config.write_text(config.read_text(encoding="utf-8").replace("rate_limit = 0", "rate_limit = 0\nread_timeout = 1"))
    log_file = tmp_path / "run.log"
    paths = [
        ("success", True, Faults(), {}),
        ("auth", False, Faults(), {}),
        ("5xx", True, Faults(error_rate=1.0), {}),
        ("timeout", True, Faults(stall_rate=1.0, stall=1.5), {}),
        ("crash", True, Faults(), {"ORDER_IMPORTER_KILL_AT": "after-create-response"}),
    ]
    outputs = []
    for name, accept, faults, extra_env in paths:
        accept_canaries(fresh_sandbox, accept)
        fresh_sandbox.faults = faults
        sheet = tmp_path / name / "orders.xlsx"
        sheet.parent.mkdir()
        shutil.copy(SAMPLES / "orders.xlsx", sheet)
        for fmt in ("text", "json"):
            command = [sys.executable, "-m", "importer", "--log-level", "DEBUG", "--log-format", fmt]
            command += ["--log-file", str(log_file), "import", str(sheet)]
            done = subprocess.run(command, env={**env, **extra_env}, capture_output=True, timeout=180)
            outputs += [done.stdout, done.stderr]
    fresh_sandbox.faults = Faults()
    statuses = pd.read_excel(tmp_path / "success" / "orders.results.xlsx", dtype=str, engine="openpyxl")["status"]
    assert set(statuses) <= {"CREATED", "ALREADY_CREATED"}  # the success path really succeeded
    haystack = b"".join(outputs)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            haystack += path.read_bytes()
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    haystack += b"".join(archive.read(member) for member in archive.namelist())
            if path.suffix == ".sqlite":
                with sqlite3.connect(path) as db:
                    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                        haystack += json.dumps(db.execute(f"SELECT * FROM {table}").fetchall()).encode()
    assert b"POST /open/order" in haystack  # the DEBUG log really logged the calls
    for value in CANARIES.values():
        assert value.encode() not in haystack, value


def test_formula_cells_use_their_cached_value_and_are_flagged(tmp_path):
    path = tmp_path / "formulas.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet.append([*ROW[:1], "=B2", *ROW[2:4], "=1+1", *ROW[5:]])
    book.save(path)
    # openpyxl writes no cached values; put them in as Excel would have after calculating
    clean = zipfile.ZipFile(path)
    xml = clean.read("xl/worksheets/sheet1.xml")
    xml = xml.replace(b'<c r="B3"><f>B2</f><v />', b'<c r="B3" t="str"><f>B2</f><v>PO-1</v>')
    xml = xml.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
    calculated = rewrite_member(path, "xl/worksheets/sheet1.xml", xml)
    loaded = importer.load(calculated)
    assert list(loaded.frame["quantity"]) == ["1", "2"]
    assert any("2 cells hold formulas (B3, E3)" in note for note in loaded.notes)


def test_credentials_from_a_private_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# order-importer\nXO_AK=fileAK123456\nexport XO_SECRET='fileSECRET789'\n", encoding="utf-8")
    secrets.chmod(0o600)
    config = tmp_path / "importer.toml"
    config.write_text(
        'secrets_file = "secrets.env"\n[providers.xportcn-open]\nbase_url = "http://x"\n'
        'access_key_env = "XO_AK"\nsecret_env = "XO_SECRET"\n',
        encoding="utf-8",
    )
    account = load_settings(config, {}).account("xportcn-open")
    assert account.credential("access_key") == "fileAK123456" and account.credential("secret") == "fileSECRET789"
    assert "fileSECRET789" not in repr(account)
    assert load_settings(config, {"XO_AK": "fromenv"}).account("xportcn-open").credential("access_key") == "fromenv"
    secrets.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600") as caught:
        load_settings(config, {})
    assert "fileSECRET789" not in str(caught.value)


# ----- a far cell, a shared-string bomb inside the limits, a CR in the --fix copy, over-long cells ---------------

HEADROOM_MB = 100
"""How far a refused file's peak memory may rise above a clean small sheet's (the bomb declares about 395 MB)."""


@pytest.fixture(scope="module")
def baseline_mb(tmp_path_factory):
    """The peak memory of validating a clean two-line sheet: the interpreter, pandas and the readers."""
    folder = tmp_path_factory.mktemp("baseline")
    run, peak = run_measured(["validate", sheet_file(folder / "clean.xlsx", [HEADER, ROW])], folder)
    assert peak is not None, run.stderr
    return peak


def run_measured(args, cwd, timeout=120):
    """``order-importer ARGS`` in a child process that reports its own peak RSS (MB) when it exits."""
    code = (
        "import atexit, resource, runpy, sys\n"
        "atexit.register(lambda: print(f'PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}',"
        " file=sys.stderr))\n"
        f"sys.argv = ['order-importer', *{[str(a) for a in args]!r}]\n"
        "runpy.run_module('importer', run_name='__main__')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    peak = re.search(r"^PEAK (\d+)$", run.stderr, re.M)
    return run, int(peak.group(1)) if peak else None


def far_cell_workbook(tmp_path, ref="XFD1048576"):
    """A few-KB order sheet with one more cell at ``ref``; a dense reader would allocate the whole range."""
    clean = sheet_file(tmp_path / "orders.xlsx", [HEADER, ROW])
    with zipfile.ZipFile(clean) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    row = int(re.sub(r"[A-Z]", "", ref))
    far = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{ref}"/>', xml).replace("</sheetData>", far)
    return rewrite_member(clean, "xl/worksheets/sheet1.xml", xml.encode())


def test_one_far_cell_is_refused_with_a_message_and_bounded_memory(tmp_path, baseline_mb):
    hostile = far_cell_workbook(tmp_path)
    assert hostile.stat().st_size < 10_000
    run, peak = run_measured(["validate", hostile], tmp_path)
    assert run.returncode == 2, run.stderr  # SIGABRT (-6) before: calamine asked for 512 GB
    assert "cells up to XFD1048576" in run.stderr and "max_cells" in run.stderr and "Ctrl+End" in run.stderr
    assert peak is not None and peak < baseline_mb + HEADROOM_MB, (peak, baseline_mb)


def test_a_stray_cell_within_the_limit_is_read(tmp_path):
    sheet = importer.load(far_cell_workbook(tmp_path, "AD3000"))
    assert sheet.frame["order_ref"].tolist()[0] == ROW[HEADER.index("order_ref")]
    with pytest.raises(InputError, match=r"cells up to AD3000 \(3,000 rows by 30 columns, 90,000 cells\)"):
        importer.load(far_cell_workbook(tmp_path, "AD3000"), limits=InputLimits(max_cells=50_000))


def test_an_inbox_files_away_the_far_cell_and_imports_the_rest(tmp_path, sandbox):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    far_cell_workbook(tmp_path).rename(inbox / "far.xlsx")
    shutil.copy(SAMPLES / "orders.xlsx", inbox / "good.xlsx")
    run, _ = run_measured(["import", inbox, "--sandbox"], tmp_path, timeout=300)
    assert run.returncode == 2, run.stderr
    assert (inbox / "done" / "good.xlsx").is_file() and (inbox / "failed" / "far.xlsx").is_file()
    assert "XFD1048576" in (inbox / "failed" / "far.xlsx.error.txt").read_text(encoding="utf-8")


def shared_string_bomb(tmp_path, megabytes=400):
    """An order sheet whose shared string table unpacks to ``megabytes`` MB, compressed about 50:1 (under the
    ratio limit), so it passes every zip limit; the sheet itself has a dozen cells."""
    rnd = __import__("random").Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    block = "".join(rnd.choice(alphabet) for _ in range(200))
    piece = "".join(
        f"<si><t>{''.join(rnd.choice(alphabet) for _ in range(10))}{block * 4}</t></si>" for _ in range(2000)
    ).encode()
    clean = sheet_file(tmp_path / "orders.xlsx", [HEADER, ROW])
    target = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(clean) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for item in source.infolist():
            if item.filename != "xl/sharedStrings.xml":
                out.writestr(item, source.read(item.filename))
        with out.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/')
            member.write(b'spreadsheetml/2006/main">')
            for _ in range(megabytes * 2**20 // len(piece)):
                member.write(piece)
            member.write(b"</sst>")
    return target


def test_a_shared_string_bomb_inside_the_zip_limits_is_refused_with_bounded_memory(tmp_path, baseline_mb):
    bomb = shared_string_bomb(tmp_path)
    with zipfile.ZipFile(bomb) as archive:
        declared = sum(i.file_size for i in archive.infolist())
        check_archive(InputLimits(), bomb, archive)  # every zip limit passes
    assert declared > 390 * 2**20 and bomb.stat().st_size < 12 * 2**20
    run, peak = run_measured(["validate", bomb], tmp_path)
    assert run.returncode == 2, run.stderr
    assert re.search(r"shared strings unpack to 39\d MB, more than its 20 cells can hold", run.stderr)
    assert peak is not None and peak < baseline_mb + HEADROOM_MB, (peak, baseline_mb)


def test_the_fixed_csv_copy_quotes_a_carriage_return_and_escapes_formulas(tmp_path):
    path = tmp_path / "o.csv"
    row = {"provider": "xportcn-open", "order_ref": "C", "item_id": "600126245031041190", "sku_id": "5016042822039"}
    row |= {"quantity": "２", "receiver_name": "张三", "receiver_mobile": "13800138000", "province": "浙江省"}
    row |= {"city": "杭州市", "address": "文一西路969号", "order_remark": "first line\r=1+1", "title": "=2+2"}
    pd.DataFrame([row]).to_csv(path, index=False, lineterminator="\r\n")  # the CR cell quoted, as Excel writes it
    assert importer.load(path).frame.loc[0, "order_remark"] == "first line\r=1+1"
    run = subprocess.run(
        [sys.executable, "-m", "importer", "validate", str(path), "--fix"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    copy = (tmp_path / "o.fixed.csv").read_bytes().decode("utf-8-sig")
    assert '"first line\r=1+1"' in copy and "'=2+2" in copy  # one quoted cell; the formula is text
    assert not [line for line in re.split(r"\r\n", copy) if line.startswith("=")]
    again = importer.load(tmp_path / "o.fixed.csv").frame
    assert len(again) == 1 and again.loc[0, "order_remark"] == "first line\r=1+1" and again.loc[0, "title"] == "=2+2"
    assert again.loc[0, "quantity"] == "2"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_result_cells_past_excels_limit_are_cut_with_a_note(tmp_path, suffix):
    long_text = "长" * 40_000
    frame = pd.DataFrame([[*ROW, long_text]], columns=[*HEADER, "packing list"])
    source = tmp_path / f"long{suffix}"
    if suffix == ".csv":
        frame.to_csv(source, index=False)
    else:
        sheet_file(source, [[*HEADER, "packing list"], [*ROW, "short"]])
    sheet = OrderSheet(frame=frame.assign(_sheet="Orders", _row=2), source=source)
    outcomes = pd.DataFrame({"status": ["CREATE_FAILED"], "error": ["e" * 40_000]}, index=frame.index)
    errors = pd.DataFrame(columns=["row_id", "sheet", "row", "column", "value", "message"])
    path = write_results(sheet, outcomes, errors, tmp_path / "out.xlsx")
    worksheet = openpyxl.load_workbook(path)["Orders"]
    header = [c.value for c in worksheet[1]]
    error = worksheet.cell(row=2, column=header.index("error") + 1).value
    assert len(error) == 32_767 and error.endswith("[…cut here: an Excel cell holds 32,767 characters]")
    if suffix == ".csv":
        packing = worksheet.cell(row=2, column=header.index("packing list") + 1).value
        assert len(packing) == 32_767 and packing.startswith("长" * 100) and packing.endswith("32,767 characters]")
