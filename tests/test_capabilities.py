"""Each adapter's declared capabilities, and its lookup read strictly against the sandbox over HTTP.

A lookup answer proves an order absent only in the exact "no such order"
shape the adapter declares; null data, missing keys, an error envelope and
HTTP 500 are Unsure for every provider.
"""

import inspect

import pytest

from importer.models import LinePreview, OrderDraft, OrderLine, OrderPreview, Receiver
from importer.providers import REGISTRY
from importer.providers.base import Absent, Found, Provider, Unsure
from importer.providers.capabilities import Capabilities, Fact, Lookup
from importer.sandbox import SANDBOX_MODULES, Faults, LookupAnswer

PROVIDERS = sorted(REGISTRY)
BAD_SHAPES = [LookupAnswer.NULL_DATA, LookupAnswer.MISSING_KEYS, LookupAnswer.ERROR_ENVELOPE, LookupAnswer.HTTP_500]
EXTERNAL_ID = "OI-CAPABILITIES-TEST"


def adapter(sandbox, key) -> Provider:
    return REGISTRY[key](sandbox.settings().account(key))


@pytest.mark.parametrize("key", PROVIDERS)
def test_every_adapter_declares_each_fact_with_a_basis_and_a_source(key):
    capabilities = REGISTRY[key].capabilities
    assert isinstance(capabilities, Capabilities)
    for name, value, basis, source in capabilities.rows():
        assert basis in ("documented", "inferred"), name
        assert source and value, name
    assert capabilities.caller_id_field.value in {
        "outOrderId",
        "thirdOrderId",
        "outer_purchase_id",
        "sellerOrderNumber",
    }


def test_no_provider_document_says_a_repeated_id_is_refused_so_none_is_trusted_to_dedupe():
    assert {REGISTRY[k].capabilities.repeated_id.value for k in PROVIDERS} == {"not documented"}
    assert not any(REGISTRY[k].capabilities.absence_documented for k in PROVIDERS)  # every lookup is inferred


@pytest.mark.parametrize("key", PROVIDERS)
def test_the_endpoint_table_shows_the_preview_call_as_the_capability_declares_it(key):
    preview = REGISTRY[key].capabilities.preview
    (endpoint,) = (e for e in REGISTRY[key].ENDPOINTS if e.role == "preview")
    assert (endpoint.basis, endpoint.source) == (preview.basis, preview.source)
    assert preview.value in endpoint.path


def test_only_the_ka_taobao_preview_is_inferred_and_its_create_needs_none():
    """The Open render is documented by the PandaPon twin, Dajisaas' and Shanjing's render by their own pages."""
    assert {k for k in PROVIDERS if REGISTRY[k].capabilities.preview_inferred} == {"xportcn-ka-taobao"}
    needing = {k for k in PROVIDERS if REGISTRY[k].capabilities.create_needs_preview.value}
    assert needing == set(PROVIDERS) - {"xportcn-ka-taobao"}


def test_a_fact_needs_a_known_basis_and_a_source():
    with pytest.raises(ValueError, match="basis"):
        Fact(True, "guessed", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="source"):
        Fact(True, "inferred", "")


def test_no_adapter_keeps_its_own_copy_of_the_lookup_facts():
    for key in PROVIDERS:
        source = inspect.getsource(inspect.getmodule(REGISTRY[key]))
        assert "NotImplementedError" not in source, key


@pytest.mark.parametrize("key", PROVIDERS)
def test_the_declared_caller_id_field_carries_the_external_id_on_create(key, sandbox):
    module = {m.PROVIDER_KEY: m for m in SANDBOX_MODULES}[key]
    provider = adapter(sandbox, key)
    lines = tuple(
        OrderLine(row_id=n, line_no=str(n + 1), item_id=line["item_id"], sku_id=line["sku_id"], quantity=1)
        for n, line in enumerate(module.EXAMPLE_LINES["clean"])
    )
    order = OrderDraft(provider=key, order_ref="R", receiver=Receiver(name="张三", mobile="13800138000"), lines=lines)
    priced = {ln.line_no: LinePreview(unit_price=1, amount=1, currency="CNY") for ln in lines}
    preview = OrderPreview(ok=True, lines=priced, freight=0, total=len(lines), currency="CNY", context={})
    request = provider.build_create_request(order, preview, EXTERNAL_ID)
    assert request.json[REGISTRY[key].capabilities.caller_id_field.value] == EXTERNAL_ID


@pytest.mark.parametrize("key", PROVIDERS)
def test_the_lookup_reads_its_declared_examples_and_calls_the_declared_endpoint(key, sandbox):
    provider = adapter(sandbox, key)
    lookup = provider.capabilities.lookup.value
    assert isinstance(lookup, Lookup)
    request = provider.lookup_request(lookup.example_id)
    assert (request.method, request.path) == (lookup.method, lookup.path)
    assert isinstance(provider.parse_lookup(lookup.example_id, dict(lookup.found)), Found)
    assert provider.parse_lookup(lookup.example_id, dict(lookup.absent)) == Absent()
    assert provider.parse_lookup("OI-SOMEONE-ELSE", dict(lookup.found)) != Absent()


@pytest.mark.parametrize("key", PROVIDERS)
def test_an_order_never_sent_is_absent_in_the_declared_shape(key, sandbox):
    assert adapter(sandbox, key).look_up(EXTERNAL_ID) == Absent()


@pytest.mark.parametrize("shape", BAD_SHAPES, ids=lambda s: s.value)
@pytest.mark.parametrize("key", PROVIDERS)
def test_a_lookup_answer_of_another_shape_is_unsure_never_absent(key, shape, fresh_sandbox):
    fresh_sandbox.faults = Faults(lookup_answer=shape)
    answer = adapter(fresh_sandbox, key).look_up(EXTERNAL_ID)
    assert isinstance(answer, Unsure), answer
    assert answer.reason
    assert fresh_sandbox.state.calls() >= 1  # it was asked over HTTP


@pytest.mark.parametrize("key", PROVIDERS)
def test_a_lookup_that_times_out_is_unsure(key, fresh_sandbox):
    import dataclasses

    fresh_sandbox.faults = Faults(latency=0.5)
    account = dataclasses.replace(fresh_sandbox.settings().account(key), read_timeout=0.1)
    answer = REGISTRY[key](account).look_up(EXTERNAL_ID)
    assert isinstance(answer, Unsure) and "no answer within" in answer.reason


def test_the_sandbox_config_trusts_its_own_lookups_with_a_settle_time_above_its_create_delay():
    from importer.sandbox import Sandbox

    with Sandbox.start(create_delay=1.5) as slow:
        options = slow.settings().account("dajisaas").options
        assert options["trust_lookup_absent"] is True
        assert options["settle_seconds"] > 1.5
        assert "settle_seconds = 3.5" in slow.config_text()


def test_the_docs_show_the_capabilities_as_the_adapters_declare_them():
    from pathlib import Path

    from importer.providers.capabilities import markdown_table

    docs = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text("utf-8")
    assert markdown_table({key: cls.capabilities for key, cls in REGISTRY.items()}) in docs
