"""The contract every provider adapter keeps, run against its sandbox module over real HTTP.

Parametrised over every registered provider, so a new adapter is held to the
same behaviour the moment it is registered: clean orders are created with ids
on their rows, unbuyable lines fail on their own rows, bad credentials and
unreachable or slow providers fail clearly, and nothing is created twice.
"""

import dataclasses
import socket

import pandas as pd
import pytest

import importer
from importer.config import Secret
from importer.models import Status
from importer.providers import REGISTRY
from importer.sandbox import SANDBOX_MODULES, Faults
from importer.submit.orders import RetryPolicy

PROVIDERS = sorted(REGISTRY)
SANDBOXED = {module.PROVIDER_KEY: module for module in SANDBOX_MODULES}
# How a provider reports a clean two-seller order, and whether its create may buy some lines and refuse
# others: read from each adapter's declared capabilities, never kept here.
SPLITS_BY_SELLER = {key for key in PROVIDERS if REGISTRY[key].capabilities.splits_by_seller.value}
PARTIAL_SUCCESS = {key for key in PROVIDERS if REGISTRY[key].capabilities.partial_create.value}
# Providers with no documented preview call (their declared capability): by default their orders go straight to create.
NO_PREVIEW = {key for key, cls in REGISTRY.items() if cls.capabilities.preview_inferred}
PREVIEWED = sorted(set(PROVIDERS) - NO_PREVIEW)

RECEIVER = {
    "receiver_name": "张三",
    "receiver_mobile": "013800138000",
    "country": "中国",
    "province": "浙江省",
    "city": "杭州市",
    "district": "余杭区",
    "address": "文一西路969号",
    "zip": "311121",
    "town": "五常街道",
}
NO_WAIT = RetryPolicy(attempts=3, sleep=lambda seconds: None)


def sheet(provider: str, cases: dict[str, str]) -> pd.DataFrame:
    """One order per entry of ``cases`` (order_ref -> example name), lines from the provider's sandbox examples."""
    examples = SANDBOXED[provider].EXAMPLE_LINES
    rows = [
        {"provider": provider, "order_ref": ref, **line, **RECEIVER}
        for ref, case in cases.items()
        for line in examples[case]
    ]
    return pd.DataFrame(rows, dtype=str)


def run(frame, sandbox, tmp_path, settings=None, **kwargs):
    return importer.run(
        frame,
        settings=settings or sandbox.settings(),
        output=tmp_path / "results.xlsx",
        ledger=tmp_path / "ledger.sqlite",
        policy=NO_WAIT,
        **kwargs,
    )


def with_account(sandbox, provider, **changes):
    settings = sandbox.settings()
    account = dataclasses.replace(settings.account(provider), **changes)
    return settings.with_accounts({provider: account})


def test_every_registered_provider_has_a_sandbox():
    assert set(REGISTRY) == set(SANDBOXED)
    for key, module in SANDBOXED.items():
        assert {"clean", "unknown_item", "out_of_stock"} <= set(module.EXAMPLE_LINES), key


@pytest.mark.parametrize("provider", PROVIDERS)
def test_clean_order_is_previewed_created_and_ids_land_on_rows(provider, fresh_sandbox, tmp_path):
    result = run(sheet(provider, {"A-1": "clean"}), fresh_sandbox, tmp_path)
    out = result.outcomes
    assert list(out["status"]) == [Status.CREATED] * len(out), out["error"].tolist()
    assert out["provider_order_id"].str.len().gt(0).all()
    if provider not in NO_PREVIEW:
        assert pd.to_numeric(out["estimated_unit_price"]).gt(0).all()
    assert fresh_sandbox.state.create_calls(provider=provider) == 1
    ids = set(out["provider_order_id"])
    assert len(ids) == (2 if provider in SPLITS_BY_SELLER else 1)  # the clean example spans two sellers
    assert result.output.exists()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rerun_creates_nothing_twice(provider, fresh_sandbox, tmp_path):
    frame = sheet(provider, {"A-1": "clean"})
    run(frame, fresh_sandbox, tmp_path)
    again = run(frame, fresh_sandbox, tmp_path)
    assert set(again.outcomes["status"]) == {Status.ALREADY_CREATED}
    assert fresh_sandbox.state.create_calls(provider=provider) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("case", ["unknown_item", "out_of_stock"])
def test_unbuyable_line_fails_on_its_row_and_holds_its_order(provider, case, fresh_sandbox, tmp_path):
    frame = sheet(provider, {"BAD": case, "GOOD": "clean"})
    frame.loc[frame["order_ref"] == "BAD", "title"] = "bad line"
    result = run(frame, fresh_sandbox, tmp_path)
    out = result.outcomes
    bad = out[frame["order_ref"].eq("BAD").to_numpy()]
    good = out[frame["order_ref"].eq("GOOD").to_numpy()]
    failed = Status.CREATE_FAILED if provider in NO_PREVIEW else Status.PREVIEW_FAILED
    assert set(bad["status"]) == {failed}
    assert bad["error"].str.len().gt(10).all()
    assert set(good["status"]) == {Status.CREATED}
    assert result.exit_code == 1
    assert fresh_sandbox.state.create_calls(provider=provider) == (2 if provider in NO_PREVIEW else 1)


@pytest.mark.parametrize("provider", sorted(NO_PREVIEW))
def test_without_a_documented_preview_the_order_goes_straight_to_create_and_the_run_says_so(
    provider, fresh_sandbox, tmp_path
):
    result = run(sheet(provider, {"A-1": "clean"}), fresh_sandbox, tmp_path)
    assert set(result.outcomes["status"]) == {Status.CREATED}
    assert result.outcomes["warning"].str.contains("documents no preview call").all()
    module = fresh_sandbox.module(provider)
    assert module.log.bodies(module.RENDER_PATH) == []  # the inferred render path was never called


@pytest.mark.parametrize("provider", sorted(NO_PREVIEW))
def test_a_configured_preview_path_is_called(provider, fresh_sandbox, tmp_path):
    module = fresh_sandbox.module(provider)
    account = fresh_sandbox.settings().account(provider)
    options = {**account.options, "preview_path": module.RENDER_PATH}
    result = run(
        sheet(provider, {"A-1": "clean"}),
        fresh_sandbox,
        tmp_path,
        settings=with_account(fresh_sandbox, provider, options=options),
    )
    assert set(result.outcomes["status"]) == {Status.CREATED}
    assert pd.to_numeric(result.outcomes["estimated_unit_price"]).gt(0).all()
    assert len(module.log.bodies(module.RENDER_PATH)) == 1


@pytest.mark.parametrize("provider", PREVIEWED)
def test_bad_credentials_fail_preview_with_a_clear_message(provider, sandbox, tmp_path):
    account = sandbox.settings().account(provider)
    wrong = {name: Secret(value.reveal() + "x") for name, value in account.credentials.items()}
    settings = with_account(sandbox, provider, credentials=wrong)
    before = sandbox.state.create_calls(provider=provider)
    result = run(sheet(provider, {"A-1": "clean"}), sandbox, tmp_path, settings=settings)
    out = result.outcomes
    assert set(out["status"]) == {Status.PREVIEW_FAILED}
    assert out["error"].str.contains("preview failed").all()
    for secret in wrong.values():
        assert not out["error"].str.contains(secret.reveal(), regex=False).any()
    assert sandbox.state.create_calls(provider=provider) == before


@pytest.mark.parametrize("provider", PREVIEWED)
def test_unreachable_provider_fails_preview_after_retries(provider, sandbox, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    base = sandbox.settings().account(provider).base_url.replace(sandbox.url, f"http://127.0.0.1:{closed_port}")
    result = run(
        sheet(provider, {"A-1": "clean"}), sandbox, tmp_path, settings=with_account(sandbox, provider, base_url=base)
    )
    assert set(result.outcomes["status"]) == {Status.PREVIEW_FAILED}
    assert result.outcomes["error"].str.contains("could not connect").all()


@pytest.mark.parametrize("provider", PREVIEWED)
def test_slow_preview_times_out_and_is_retried(provider, fresh_sandbox, tmp_path):
    fresh_sandbox.faults = Faults(latency=0.3)
    settings = with_account(fresh_sandbox, provider, read_timeout=0.1)
    result = run(sheet(provider, {"A-1": "clean"}), fresh_sandbox, tmp_path, settings=settings, stage="preview")
    assert set(result.outcomes["status"]) == {Status.PREVIEW_FAILED}
    assert result.outcomes["error"].str.contains("no answer within").all()
    assert fresh_sandbox.state.calls() >= NO_WAIT.attempts


@pytest.mark.parametrize("provider", PROVIDERS)
def test_line_sold_out_between_preview_and_create(provider, fresh_sandbox, tmp_path):
    frame = sheet(provider, {"A-1": "clean"})
    order = importer.group(importer.validate(frame))
    previewed = importer.preview(order, fresh_sandbox.settings(), policy=NO_WAIT)
    assert set(previewed["status"]) == {Status.PREVIEWED}
    for item in _catalogue_keys(fresh_sandbox, provider)[:1]:
        fresh_sandbox.state.set_stock(*item, 0)
    created = importer.create(order, previewed, fresh_sandbox.settings(), policy=NO_WAIT)
    statuses = list(created["status"])
    assert statuses[0] == Status.CREATE_FAILED
    assert created["error"].iloc[0]
    if provider in PARTIAL_SUCCESS:
        assert statuses[1] == Status.CREATED
    else:
        assert statuses[1] in (Status.CREATE_FAILED, Status.CREATED)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_create_buys_only_the_orders_left_in_a_filtered_preview(provider, fresh_sandbox, tmp_path):
    """An analyst may drop orders from the preview frame before creating: only the ones left are bought."""
    order = importer.group(importer.validate(sheet(provider, {"KEEP-1": "clean", "DROP-1": "clean"})))
    previewed = importer.preview(order, fresh_sandbox.settings(), policy=NO_WAIT)
    kept = previewed[~previewed["order_key"].str.contains("DROP-1")]
    created = importer.create(order, kept, fresh_sandbox.settings(), policy=NO_WAIT)
    assert set(created["order_key"]) == set(kept["order_key"])
    assert set(created["status"]) == {Status.CREATED}
    assert list(created["line_no"]) == list(kept["line_no"])
    assert len(fresh_sandbox.state.orders_per_external_id(provider)) == 1
    first_line = created.index[0]
    assert str(created.loc[first_line, "freight"]) == str(kept.loc[first_line, "freight"])


def _catalogue_keys(sandbox, provider):
    """The (item, sku) stock keys of the clean example's lines, as the sandbox stores them."""
    module = sandbox.module(provider)
    keys = getattr(module, "stock_keys", None)
    if keys is not None:
        return keys(SANDBOXED[provider].EXAMPLE_LINES["clean"])
    from importer.sandbox.catalogue import find_raw, find_sku

    result = []
    for line in SANDBOXED[provider].EXAMPLE_LINES["clean"]:
        found = find_sku(line["item_id"], line["sku_id"])
        if found is None:
            item = find_raw(line["item_id"])
            sku = next(s for s in item.skus if s.raw_sku_id == line["sku_id"])
            found = (item, sku)
        result.append((found[0].item_id, found[1].sku_id))
    return result


def test_a_create_that_needs_a_preview_no_document_gives_stops_with_nothing_sent(fresh_sandbox):
    """No such provider is registered today; the rule holds for the next one."""
    from importer.errors import Rejected
    from importer.models import OrderDraft, OrderLine, Receiver
    from importer.providers.capabilities import Fact
    from importer.providers.xportcn_ka_taobao import XportcnKaTaobao

    needs = Fact(True, "inferred", "a provider whose create needs previewed prices")

    class NeedsPreview(XportcnKaTaobao):
        capabilities = dataclasses.replace(XportcnKaTaobao.capabilities, create_needs_preview=needs)

    provider = NeedsPreview(fresh_sandbox.account("xportcn-ka-taobao"))
    line = OrderLine(row_id=0, line_no="1", item_id="908842788582", sku_id="5770276409292", quantity=1)
    with pytest.raises(Rejected, match="preview unavailable") as stopped:
        provider.preview(OrderDraft("xportcn-ka-taobao", "P-1", Receiver(name="张三"), (line,)))
    assert "nothing was created" in str(stopped.value)
    assert fresh_sandbox.state.calls() == 0
