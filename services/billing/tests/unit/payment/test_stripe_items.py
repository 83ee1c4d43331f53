from datetime import UTC, datetime
from decimal import Decimal

import pytest
from billing.invoices.models import Invoice, InvoiceLine
from billing.payment.stripe_items import TotalMismatch, stripe_items

START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def invoice(lines: list[int], credits: int, tax: int, total: int) -> Invoice:
    return Invoice(
        id="inv_1",
        period_start=START,
        period_end=END,
        tax_rate=Decimal("0.075"),
        credits_applied_minor=credits,
        tax_minor=tax,
        total_minor=total,
        lines=[
            InvoiceLine(position=n, description=f"line {n}", amount_minor=amount, period_start=START, period_end=END)
            for n, amount in enumerate(lines)
        ],
    )


def test_lines_then_credits_as_a_negative_item_then_tax_add_up_to_the_total() -> None:
    items = stripe_items(invoice([9900, -1650, 1200], credits=400, tax=676, total=9726))
    assert [(i.key, i.description, i.amount_minor) for i in items] == [
        ("line-0", "line 0", 9900),
        ("line-1", "line 1", -1650),
        ("line-2", "line 2", 1200),
        ("credits", "Credits applied", -400),
        ("tax", "Tax (7.5%)", 676),
    ]


def test_no_credits_and_no_tax_make_no_items_of_zero() -> None:
    assert [i.key for i in stripe_items(invoice([500], credits=0, tax=0, total=500))] == ["line-0"]


def test_an_invoice_whose_parts_do_not_make_its_total_is_never_sent() -> None:
    with pytest.raises(TotalMismatch):
        stripe_items(invoice([500], credits=0, tax=0, total=501))
