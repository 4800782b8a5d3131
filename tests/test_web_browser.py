"""The team server in a real browser: Debian's Chromium driven by Playwright, against a server on a free
loopback port and a fresh sandbox.

No browser is downloaded: Playwright launches the system's Chromium
(``apt-get install -y chromium``). Without it the tests skip with a message,
except when ``CI`` is set: there they fail, so a CI run never passes without
having driven the browser. Screenshots go to ``tmp_path``; with
``ORDER_IMPORTER_SCREENSHOTS=docs/web`` they refresh the documentation's.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import threading
from pathlib import Path

import openpyxl
import pytest

from importer.sandbox import Faults
from tests.web_helpers import PASSWORD, SAMPLES, server_config

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SCREENSHOTS_ENV = "ORDER_IMPORTER_SCREENSHOTS"


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}: the browser tests must run in CI (apt-get install -y chromium)")
    pytest.skip(f"{reason}; install Debian's Chromium (apt-get install -y chromium) and `pip install playwright`")


@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    executable = os.environ.get("CHROMIUM") or next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)
    if executable is None or shutil.which(executable) is None:
        _missing(f"no Chromium found at {', '.join(CHROMIUM_CANDIDATES)} or $CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def live_server(fresh_sandbox, tmp_path):
    """The app under uvicorn on a free port of 127.0.0.1, in a thread."""
    from importer.web.serve import bind, make_server

    config = server_config(tmp_path)
    server = make_server(fresh_sandbox.settings(), config, "127.0.0.1")
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def shots(tmp_path):
    """Save a numbered screenshot of each step."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    return context.new_page()


def _sign_in(page, url: str, name: str) -> None:
    page.goto(f"{url}/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _sheet_with_a_header_to_map(folder: Path) -> Path:
    """The sample sheet with two mistakes, its quantity column headed in words the importer does not know.

    PO-1002's quantity is 2.5 and PO-1004's phone is "call me": three of its five orders can be bought.
    """
    workbook = openpyxl.load_workbook(SAMPLES / "orders.xlsx")
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("order_ref")].value == "PO-1002":
            row[header.index("quantity")].value = "2.5"
        if row[header.index("order_ref")].value == "PO-1004":
            row[header.index("receiver_mobile")].value = "call me"
    sheet.cell(row=1, column=header.index("quantity") + 1).value = "Pieces wanted"
    path = folder / "team-orders.xlsx"
    workbook.save(path)
    return path


def test_a_buyer_uploads_maps_checks_previews_buys_and_downloads_the_results(
    chromium, live_server, fresh_sandbox, tmp_path, shots
):
    page = _page(chromium)
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/signin")
    shots(page, "01-sign-in")
    _sign_in(page, live_server, "bob")

    page.set_input_files("#sheet-input", str(_sheet_with_a_header_to_map(tmp_path)))
    shots(page, "02-upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/mapping$"))
    assert page.locator("select[aria-label='Pieces wanted']").input_value() == ""
    assert page.locator("select[aria-label='order_ref']").input_value() == "order_ref"
    page.select_option("select[aria-label='Pieces wanted']", "quantity")
    shots(page, "03-mapping")
    page.click("text=Use this mapping and check")

    page.wait_for_url(re.compile(r".*/check$"))
    bad = page.locator("td.bad")
    assert bad.count() == 2
    assert "quantity must be a whole number" in (page.locator("td.bad[title*='whole number']").first.inner_text())
    red = page.locator("td.bad").first.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert red == "rgb(253, 236, 234)"
    shots(page, "04-check")
    page.click("#problems-only")
    statuses = page.locator("table.grid tbody td:nth-child(3)").all_inner_texts()
    assert statuses == ["INVALID", "INVALID"]
    shots(page, "05-check-problems-only")
    page.click("text=Show all rows")

    page.click("text=Preview prices for")
    page.wait_for_url(re.compile(r".*/preview$"))
    buy = page.locator("#buy-button")
    label = buy.inner_text()
    orders, total = re.fullmatch(r"Buy (\d+) orders for ¥([\d.]+)", label).groups()
    assert orders == "3"
    shots(page, "06-preview")
    buy.click()
    dialog = page.locator("dialog#confirm-buy")
    assert dialog.is_visible() and f"¥{total}" in dialog.inner_text()
    shots(page, "07-confirm")

    fresh_sandbox.faults = Faults(latency=0.6)  # slow enough to watch the bar move
    page.click("#confirm-buy-button")
    page.wait_for_url(re.compile(r".*/jobs/[\w-]+$"))
    page.wait_for_function("document.getElementById('job-progress').value > 0")
    shots(page, "08-progress")
    page.wait_for_selector("#results-link", timeout=60_000)
    fresh_sandbox.faults = Faults()
    assert f"Confirmed by bob for ¥{total}" in page.inner_text("main")
    shots(page, "09-done")

    with page.expect_download() as download:
        page.click("#results-link")
    results = tmp_path / "results.xlsx"
    download.value.save_as(results)
    workbook = openpyxl.load_workbook(results, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    header = list(rows[0])
    statuses = [row[header.index("status")] for row in rows[1:]]
    assert statuses == ["CREATED", "CREATED", "INVALID", "CREATED", "CREATED", "INVALID", "CREATED", "CREATED"]
    assert {row[header.index("confirmed_by")] for row in rows[1:]} == {"bob"}
    assert len(fresh_sandbox.state.orders_per_external_id()) == int(orders)

    page.click("text=History")
    assert "team-orders.xlsx" in page.inner_text("table.grid")
    shots(page, "10-history")


def test_a_viewer_sees_no_buy_button(chromium, live_server, shots):
    page = _page(chromium)
    _sign_in(page, live_server, "vera")
    page.set_input_files("#sheet-input", str(SAMPLES / "orders.xlsx"))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/check$"))
    page.click("text=Preview prices for")
    page.wait_for_url(re.compile(r".*/preview$"))
    assert page.locator("#buy-button").count() == 0
    assert page.locator("#no-buy").is_visible()
    shots(page, "11-viewer-preview")


def test_the_progress_page_can_be_closed_and_opened_again(chromium, live_server, fresh_sandbox):
    page = _page(chromium)
    _sign_in(page, live_server, "bob")
    page.set_input_files("#sheet-input", str(SAMPLES / "orders.xlsx"))
    page.click("#upload-form button[type=submit]")
    page.click("text=Preview prices for")
    page.wait_for_url(re.compile(r".*/preview$"))
    page.click("#buy-button")
    fresh_sandbox.faults = Faults(latency=0.5)
    page.click("#confirm-buy-button")
    page.wait_for_url(re.compile(r".*/jobs/[\w-]+$"))
    job_url = page.url
    page.context.close()  # the user closes the tab while the purchase runs

    again = _page(chromium)
    _sign_in(again, live_server, "bob")
    again.goto(job_url)
    again.wait_for_selector("#results-link", timeout=60_000)
    fresh_sandbox.faults = Faults()
    assert "CREATED" in again.inner_text(".counts")
    assert fresh_sandbox.state.duplicates() == {}


def test_a_sheet_dropped_on_the_upload_box_is_uploaded(chromium, live_server):
    page = _page(chromium)
    _sign_in(page, live_server, "vera")
    sheet = base64.b64encode((SAMPLES / "orders.csv").read_bytes()).decode()  # as it is on disk (GB18030)
    page.evaluate(
        """encoded => {
            const bytes = Uint8Array.from(atob(encoded), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.csv", {type: "text/csv"}));
            const drop = new DragEvent("drop", {dataTransfer: transfer, bubbles: true});
            document.getElementById("drop").dispatchEvent(drop);
        }""",
        sheet,
    )
    assert page.inner_text("#drop span") == "dropped.csv"
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/check$"))
    assert "Check: dropped.csv" in page.inner_text("h1")
    assert "8 VALID" in page.inner_text(".counts")
