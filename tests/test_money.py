"""Money in exact fen: parse, sum and show without a float anywhere."""

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.api import hold_over_budget
from importer.models import OrderSheet, Status
from importer.money import fen_text, fen_to_yuan, is_amount, sum_fen, text_to_fen, to_fen
from importer.outcomes import outcomes_frame
from importer.validate.number_text import read_column
from importer.write.workbook import summary_rows

FEN = st.integers(min_value=0, max_value=10**12)


def english(fen: int) -> str:
    whole, part = divmod(fen, 100)
    return f"{whole:,}.{part:02d}"


def european(fen: int) -> str:
    return english(fen).replace(",", " ").replace(".", ",").replace(" ", ".")


@given(FEN)
def test_fen_to_text_and_back_round_trips(fen):
    assert text_to_fen(fen_text(fen)) == fen
    assert to_fen(fen_to_yuan(fen)) == fen
    assert fen_to_yuan(fen) == Decimal(fen_text(fen))


@given(FEN, st.sampled_from(["{}", "¥{}", "{}元", "RMB {}"]), st.booleans())
def test_a_price_as_typed_reads_to_its_exact_fen(fen, mark, in_european):
    typed = mark.format(european(fen) if in_european else english(fen))
    # Two cells that decide the column's convention, so the reading never depends on the sample.
    reading = read_column([typed, european(12345) if in_european else english(12345)], money=True)
    assert text_to_fen(reading.cells[0].value) == fen
    assert reading.cells[0].against is None


@given(st.lists(FEN, max_size=300))
def test_a_sum_of_many_prices_is_the_exact_decimal_sum(amounts):
    texts = [fen_text(a) for a in amounts]
    assert sum_fen(texts) == sum((Decimal(t) for t in texts), Decimal(0)) * 100
    assert sum_fen(fen_to_yuan(a) for a in amounts) == sum(amounts)


@pytest.mark.parametrize(
    ("text", "fen"), [("12", 1200), ("12.5", 1250), ("0.05", 5), ("12.500", 1250), ("-3.10", -310), (" 7 ", 700)]
)
def test_plain_texts_in_fen(text, fen):
    assert text_to_fen(text) == fen


@pytest.mark.parametrize("text", ["12.345", "1,234.50", "¥12", "", "abc", "1e3"])
def test_what_is_not_an_exact_plain_amount_is_refused(text):
    with pytest.raises(ValueError):
        text_to_fen(text)


def test_floats_are_refused_and_blank_or_garbled_cells_are_not_amounts():
    with pytest.raises(TypeError, match="must be exact"):
        to_fen(0.1)
    with pytest.raises(ValueError, match="more than two decimal places"):
        to_fen(Decimal("0.001"))
    assert to_fen(3) == 300
    assert [is_amount(v) for v in ("", None, 0.1, "x", "1.5", Decimal("2"))] == [False] * 4 + [True] * 2


def test_the_budget_guard_adds_exactly():
    # 0.1 + 0.2 is 0.30000000000000004 in floats, which would hold this run for nothing.
    previewed = outcomes_frame(
        {"row_id": n, "status": str(Status.PREVIEWED), "order_total": total}
        for n, total in enumerate([Decimal("0.10"), Decimal("0.20"), ""])
    )
    previewed["order_key"] = ["A", "B", "B"]  # the total stands on an order's first row; B's second row has none
    assert hold_over_budget(previewed, Decimal("0.30")) == Decimal("0.30")
    assert set(previewed["status"]) == {str(Status.PREVIEWED)}
    assert hold_over_budget(previewed, Decimal("0.29")) == Decimal("0.30")
    assert set(previewed["status"]) == {str(Status.HELD)}


def test_the_summary_totals_per_currency_add_exactly():
    rows = 1000
    frame = pd.DataFrame({"provider": ["dajisaas"] * rows, "_sheet": "Orders", "_row": range(2, rows + 2)})
    outcomes = outcomes_frame(
        {"row_id": n, "status": str(Status.CREATED), "estimated_amount": "0.10", "currency_charged": "CNY"}
        for n in range(rows)
    )
    summary = summary_rows(OrderSheet(frame=frame), outcomes, "")
    assert ["CNY", Decimal("100.00"), rows, Decimal("0.00")] in summary
    assert ["dajisaas", rows, rows, rows, 0, "CNY", Decimal("100.00"), Decimal("0.00")] in summary


def test_the_price_guard_compares_in_fen_and_holds_what_it_cannot_compare_exactly():
    from importer.models import LinePreview, OrderLine
    from importer.submit.orders import price_rise

    line = OrderLine(row_id=0, line_no="1", item_id="1", sku_id="", quantity=1, unit_price=Decimal("10.00"))
    assert price_rise(line, LinePreview(unit_price=Decimal("10.50")), Decimal(5)) is None  # exactly +5%
    assert "(+5.1%)" in str(price_rise(line, LinePreview(unit_price=Decimal("10.51")), Decimal(5)))
    finer = OrderLine(row_id=0, line_no="1", item_id="1", sku_id="", quantity=1, unit_price=Decimal("10.005"))
    assert "price not compared" in str(price_rise(finer, LinePreview(unit_price=Decimal("10.00")), Decimal(0)))
