"""The team server's routes: sign-in, roles, CSRF and origin checks, the CLI's upload messages, buying.

Every test runs the real app (Starlette's TestClient) against a fresh sandbox
over HTTP, with its data folder and users under ``tmp_path``.
"""

from __future__ import annotations

import re
import stat
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

pytest.importorskip("fastapi", reason="the team server needs the web extra: pip install 'order-importer[web]'")

from fastapi.testclient import TestClient

import importer
from importer.config import InputLimits
from importer.errors import ImporterError
from importer.submit.ledger import Ledger
from importer.web import create_app
from tests.web_helpers import SAMPLES, counts, server_config, sign_in, text, token, upload, wait_for_job


@pytest.fixture
def config(tmp_path):
    return server_config(tmp_path)


@pytest.fixture
def client(fresh_sandbox, config):
    with TestClient(create_app(fresh_sandbox.settings(), config)) as running:
        yield running


def _check_path(answer) -> str:
    assert re.fullmatch(r"/uploads/[\w-]+/check", answer.url.path), (answer.url, text(answer)[:2000])
    return answer.url.path.removesuffix("/check")


def _preview(client, csrf: str, sheet: Path = SAMPLES / "orders.xlsx") -> str:
    base = _check_path(upload(client, csrf, sheet))
    job = client.post(f"{base}/preview", data={"csrf_token": csrf})
    assert wait_for_job(client, job.url.path)["state"] == "done"
    return base


def test_anonymous_gets_the_sign_in_page(client):
    for path in ("/", "/history", "/uploads/abcdefghijklmnopqrstuvwx/check", "/jobs/x"):
        answer = client.get(path)
        assert answer.url.path == "/signin" and 'name="password"' in answer.text, path
    anonymous_token = token(client.get("/signin").text)
    refused = client.post("/uploads", data={"csrf_token": anonymous_token}, files={"sheet": ("a.csv", b"x")})
    assert refused.status_code == 401 and 'name="password"' in refused.text


def test_wrong_password_is_refused(client):
    form = client.get("/signin")
    answer = client.post("/signin", data={"username": "bob", "password": "nope", "csrf_token": token(form.text)})
    assert answer.status_code == 401 and "wrong name or password" in answer.text
    assert client.get("/").url.path == "/signin"


def test_session_cookie_is_signed_httponly_and_samesite(client):
    cookie = client.get("/signin").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    sign_in(client, "bob")
    forged = client.cookies["oi_session"][:-3] + "abc"  # the signature no longer matches
    client.cookies.clear()
    client.cookies.set("oi_session", forged)
    assert client.get("/").url.path == "/signin"


@pytest.mark.parametrize(
    ("headers", "form_token"),
    [
        ({}, None),  # no token
        ({}, "forged-token"),
        ({"Origin": "http://evil.example"}, "good"),
        ({"Sec-Fetch-Site": "cross-site"}, "good"),
    ],
    ids=["missing", "forged", "foreign-origin", "cross-site-fetch"],
)
def test_posts_without_the_token_or_from_another_site_are_refused(client, headers, form_token):
    csrf = sign_in(client, "bob")
    data = {} if form_token is None else {"csrf_token": csrf if form_token == "good" else form_token}
    with (SAMPLES / "orders.xlsx").open("rb") as sheet:
        answer = client.post("/uploads", data=data, headers=headers, files={"sheet": ("orders.xlsx", sheet)})
    assert answer.status_code == 403 and "refused" in answer.text
    assert not any((client.app.state.server.storage.uploads).iterdir()), "a refused upload was kept"


def test_sign_in_needs_the_token_too(client):
    answer = client.post("/signin", data={"username": "bob", "password": "correct horse battery"})
    assert answer.status_code == 403
    assert client.get("/").url.path == "/signin"


def test_viewer_previews_but_cannot_buy(client, fresh_sandbox):
    csrf = sign_in(client, "vera")
    base = _preview(client, csrf)
    page = client.get(f"{base}/preview")
    assert "Only a buyer can buy" in page.text and "confirm-buy" not in page.text
    total = re.search(r"<tfoot>.*?¥([\d.]+)", page.text, re.S).group(1)
    refused = client.post(f"{base}/buy", data={"csrf_token": csrf, "confirmed_total": total})
    assert refused.status_code == 403 and "vera is a viewer" in text(refused)
    assert fresh_sandbox.state.orders_per_external_id() == {}


def test_buyer_buys_and_every_purchase_names_who_confirmed(client, fresh_sandbox, config):
    csrf = sign_in(client, "bob")
    base = _preview(client, csrf)
    page = client.get(f"{base}/preview")
    total = re.search(r'name="confirmed_total" value="([^"]+)"', page.text).group(1)
    assert f"Buy 5 orders for ¥{total}" in page.text
    job = client.post(f"{base}/buy", data={"csrf_token": csrf, "confirmed_total": total})
    assert wait_for_job(client, job.url.path)["state"] == "done"
    done = client.get(job.url.path)
    assert counts(done.text) == {"CREATED": 8}
    assert len(fresh_sandbox.state.orders_per_external_id()) == 5
    assert fresh_sandbox.state.duplicates() == {}
    results = client.get(f"{job.url.path}/results.xlsx")
    workbook = openpyxl.load_workbook(__import__("io").BytesIO(results.content), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    header = list(rows[0])
    assert {r[header.index("confirmed_by")] for r in rows[1:]} == {"bob"}
    assert {r[header.index("status")] for r in rows[1:]} == {"CREATED"}
    with Ledger.open(config.data_dir / "order-importer.ledger.sqlite") as journal:
        assert {journal.confirmed_by(e.key) for e in journal.entries()} == {"bob"}
        assert [(r["confirmed_by"], r["source"]) for r in journal.runs()] == [("bob", "orders.xlsx")]
    history = client.get("/history")
    # the bought amount: the previewed total plus the order its provider prices only when buying (KA Taobao)
    order_totals = [
        r[header.index("order_total")] for r in rows[1:] if r[header.index("order_total")] not in (None, "")
    ]
    bought = sum(Decimal(str(v)) for v in order_totals)
    assert bought > Decimal(total) and "1 order of these has no price before buying" in page.text
    assert "orders.xlsx" in history.text and "bob" in history.text and f"¥{bought:.2f}" in history.text


def test_buying_at_a_total_nobody_saw_is_refused(client, fresh_sandbox):
    csrf = sign_in(client, "bob")
    base = _preview(client, csrf)
    refused = client.post(f"{base}/buy", data={"csrf_token": csrf, "confirmed_total": "1.00"})
    assert refused.status_code == 400 and "preview again" in text(refused)
    assert fresh_sandbox.state.orders_per_external_id() == {}


def test_budget_guard_keeps_the_buy_button_away(fresh_sandbox, tmp_path):
    from decimal import Decimal

    config = server_config(tmp_path, max_total=Decimal("10"))
    with TestClient(create_app(fresh_sandbox.settings(), config)) as client:
        csrf = sign_in(client, "bob")
        base = _preview(client, csrf)
        page = client.get(f"{base}/preview")
        assert "above the budget of ¥10" in page.text and "confirm-buy" not in page.text
        total = re.search(r"<tfoot>.*?¥([\d.]+)", page.text, re.S).group(1)
        refused = client.post(f"{base}/buy", data={"csrf_token": csrf, "confirmed_total": total})
        assert refused.status_code == 403
    assert fresh_sandbox.state.orders_per_external_id() == {}


def _cli_message(path: Path, limits: InputLimits | None = None) -> str:
    try:
        importer.load(path, limits=limits)
    except ImporterError as error:
        return str(error).replace(str(path), path.name)
    raise AssertionError(f"{path} loaded")


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<" + "a" * 5_000_000 + "/>")
    return path


def _file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda d: _bomb(d / "bomb.xlsx"),
        lambda d: _file(d / "old.xls", b"\xd0\xcf\x11\xe0 old excel"),
        lambda d: _file(d / "notes.txt.exe", b"MZ"),
        lambda d: _file(d / "broken.xlsx", b"PK\x03\x04 not really a zip"),
        lambda d: _file(d / "empty.csv", b""),
    ],
    ids=["zip-bomb", "xls", "exe", "damaged-xlsx", "empty"],
)
def test_hostile_files_get_the_cli_message(client, tmp_path, make):
    path = make(tmp_path)
    csrf = sign_in(client, "vera")
    answer = upload(client, csrf, path)
    assert answer.status_code == 400
    assert _cli_message(path) in text(answer)
    assert not any(client.app.state.server.storage.uploads.iterdir()), "a refused file was kept"


def test_size_limit_gets_the_cli_message(fresh_sandbox, tmp_path):
    from dataclasses import replace

    settings = replace(fresh_sandbox.settings(), limits=InputLimits(max_file_mb=0.001))
    big = tmp_path / "big.csv"
    big.write_text("order_ref,item_id,quantity\n" + "PO-1,600126245031041190,1\n" * 200, encoding="utf-8")
    huge = tmp_path / "huge.csv"
    huge.write_text("order_ref,item_id,quantity\n" + "PO-1,600126245031041190,1\n" * 10_000, encoding="utf-8")
    with TestClient(create_app(settings, server_config(tmp_path))) as client:
        csrf = sign_in(client, "vera")
        answer = upload(client, csrf, big)
        refused_unread = upload(client, csrf, huge)  # far above the limit: refused from its Content-Length
    assert answer.status_code == 400
    assert _cli_message(big, settings.limits) in text(answer)
    assert refused_unread.status_code == 413 and "above the limit of 0.001 MB (max_file_mb" in refused_unread.text


def test_check_page_shows_bad_cells_and_filters_to_problems(client):
    csrf = sign_in(client, "vera")
    answer = upload(client, csrf, SAMPLES / "orders-with-errors.xlsx")
    base = _check_path(answer)
    assert counts(answer.text)["INVALID"] >= 1
    assert '<td class="bad" title="quantity must be a whole number above 0; got &#39;2.5&#39;">2.5' in answer.text
    problems = client.get(f"{base}/check?problems=1")
    rows = re.findall(r'<tr class="status-(\w+)">', problems.text)
    assert rows and all(status in ("INVALID", "HELD") for status in rows)
    fragment = client.get(f"{base}/check?page=1", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="grid">') and "<html" not in fragment.text
    workbook = client.get(f"{base}/results.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_unknown_headers_lead_to_the_mapping_page(client, tmp_path):
    sheet = tmp_path / "theirs.csv"
    sheet.write_text("PO,Offer,How many pieces\nPO-1,600126245031041190,2\n", encoding="utf-8")
    csrf = sign_in(client, "vera")
    answer = upload(client, csrf, sheet)
    assert answer.url.path.endswith("/mapping")
    selected = dict(re.findall(r'aria-label="([^"]+)">.*?<option value="(\w*)"[^>]*selected', answer.text, re.S))
    assert selected["PO"] == "order_ref"
    base = answer.url.path.removesuffix("/mapping")
    wrong = client.post(f"{base}/mapping", data={"csrf_token": csrf, "map-0": "order_ref", "map-1": "item_id"})
    assert wrong.status_code == 400 and "no header is mapped to &#39;quantity&#39;" in wrong.text
    data = {"csrf_token": csrf, "map-0": "order_ref", "map-1": "item_id", "map-2": "quantity"}
    checked = client.post(f"{base}/mapping", data=data)
    assert checked.url.path == f"{base}/check" and "How many pieces" not in checked.text


def test_provider_values_can_be_mapped(client, tmp_path):
    sheet = tmp_path / "names.csv"
    sheet.write_text(
        "provider,order_ref,item_id,sku_id,quantity,receiver_name,receiver_mobile,province,city,address\n"
        "Taobao mirror,PO-1,600126245031041190,5016042822039,2,Li Lei,13800138000,浙江省,杭州市,西湖区 1 号\n",
        encoding="utf-8",
    )
    csrf = sign_in(client, "vera")
    base = _check_path(upload(client, csrf, sheet))
    mapping = client.get(f"{base}/mapping")
    assert 'value="Taobao mirror"' in mapping.text
    headers = re.findall(r'name="(map-\d+)".*?<option value="(\w*)"[^>]*selected', mapping.text, re.S)
    data = {"csrf_token": csrf, **dict(headers), "value-from-0": "Taobao mirror", "value-to-0": "xportcn-open"}
    checked = client.post(f"{base}/mapping", data=data)
    assert counts(checked.text) == {"VALID": 1}, text(checked)[:3000]


def test_files_are_private_to_the_server(client, config):
    csrf = sign_in(client, "vera")
    _check_path(upload(client, csrf, SAMPLES / "orders.xlsx"))
    for path in [config.data_dir, *config.data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_old_uploads_are_deleted(client, config):
    import os

    csrf = sign_in(client, "vera")
    base = _check_path(upload(client, csrf, SAMPLES / "orders.xlsx"))
    folder = client.app.state.server.storage.folder(base.rsplit("/", 1)[1])
    old = folder.stat().st_mtime - config.keep_days * 86400 - 60
    os.utime(folder, (old, old))
    assert client.app.state.server.purge() == [folder.name]
    assert client.get(f"{base}/check").status_code == 400


def test_unknown_orders_show_what_to_check_and_only_admins_resolve_them(fresh_sandbox, config, tmp_path):
    from importer.sandbox import Faults

    app = create_app(fresh_sandbox.settings(), config)
    with TestClient(app) as admin, TestClient(app) as buyer:
        csrf = sign_in(admin, "ada")
        base = _preview(admin, csrf)
        total = re.search(r'name="confirmed_total" value="([^"]+)"', admin.get(f"{base}/preview").text).group(1)
        fresh_sandbox.faults = Faults(error_after_commit=1.0)  # every order is made, then the answer is a 500
        job = admin.post(f"{base}/buy", data={"csrf_token": csrf, "confirmed_total": total})
        assert wait_for_job(admin, job.url.path)["state"] == "done"
        fresh_sandbox.faults = Faults()
        done = admin.get(job.url.path)
        assert counts(done.text) == {"UNKNOWN": 8}
        keys = list(dict.fromkeys(re.findall(r'name="key" value="([^"]+)"', done.text)))
        assert len(keys) == 5 and "Orders to check at the provider" in done.text

        buyer_csrf = sign_in(buyer, "bob")
        seen = buyer.get(job.url.path)
        assert "Orders to check at the provider" in seen.text and "Found it" not in seen.text
        refused = buyer.post(
            "/orders/resolve", data={"csrf_token": buyer_csrf, "job_id": job.url.path.rsplit("/", 1)[1], "key": keys[0]}
        )
        assert refused.status_code == 403

        job_id = job.url.path.rsplit("/", 1)[1]
        found = admin.post(
            "/orders/resolve", data={"csrf_token": csrf, "job_id": job_id, "key": keys[0], "found_id": "P-123"}
        )
        assert "recorded as created" in text(found) and "checked by ada" in text(found)
        absent = admin.post("/orders/resolve", data={"csrf_token": csrf, "job_id": job_id, "key": keys[1]})
        assert "recorded as not at" in text(absent)
        assert len(re.findall(r'name="key" value="([^"]+)"', absent.text)) == 2 * 3  # two forms per order left
    with Ledger.open(config.data_dir / "order-importer.ledger.sqlite") as journal:
        first, second = journal.get(keys[0]), journal.get(keys[1])
    assert first.state == "CREATED" and first.provider_ids == "P-123"
    assert second.state == "PLANNED" and "checked by ada" in second.note


def test_price_rises_are_flagged_and_those_orders_are_not_in_the_total(client, fresh_sandbox):
    fresh_sandbox.state.set_price("600126245031041190", "5016042822039", 1500)  # the sheet says 12.50
    csrf = sign_in(client, "bob")
    base = _preview(client, csrf)
    page = client.get(f"{base}/preview")
    assert "2 lines cost more than the sheet's unit_price allows" in text(page)
    assert '<tr class="status-PRICE_CHANGED"><td>xportcn-open</td><td>PO-1001</td>' in page.text
    assert re.search(r"Buy (\d) orders", page.text).group(1) == "3"  # PO-1001 and PO-1002 (the same item) held


def test_a_long_check_answers_with_its_progress_page_and_then_the_check(client, monkeypatch):
    import threading

    from importer.web import checks

    release = threading.Event()
    real_check = checks.run_check

    def slow_check(*args, **kwargs):
        release.wait(30)  # the check takes longer than the request waits
        return real_check(*args, **kwargs)

    monkeypatch.setattr(checks, "run_check", slow_check)
    monkeypatch.setattr("importer.web.tasks.QUICK_SECONDS", 0.2)
    csrf = sign_in(client, "vera")
    answer = upload(client, csrf, SAMPLES / "orders.xlsx")
    assert re.fullmatch(r"/jobs/[\w-]+", answer.url.path) and "Checking: orders.xlsx" in answer.text
    assert client.get(f"{answer.url.path}/status").json()["state"] == "running"
    release.set()
    assert wait_for_job(client, answer.url.path)["state"] == "done"
    checked = client.get(answer.url.path)
    assert checked.url.path.endswith("/check") and counts(checked.text) == {"VALID": 8}
