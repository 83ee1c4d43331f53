"""A Tally invoice as Stripe invoice items: one per line, then the credits applied and the tax, so Stripe's total is
ours to the minor unit (checked before anything is sent)."""

from billing.invoices.models import Invoice
from billing.payment.stripe_api import InvoiceItem, StripeRefused


class TotalMismatch(StripeRefused):
    """A bug, never sent to Stripe: the collection keeps it as its last error, and the other invoices go on."""


def stripe_items(invoice: Invoice) -> list[InvoiceItem]:
    items = [
        InvoiceItem(f"line-{line.position}", line.description, line.amount_minor, line.period_start, line.period_end)
        for line in invoice.lines
    ]
    if invoice.credits_applied_minor:
        items.append(_whole_period(invoice, "credits", "Credits applied", -invoice.credits_applied_minor))
    if invoice.tax_minor:
        items.append(_whole_period(invoice, "tax", f"Tax ({invoice.tax_rate.normalize():%})", invoice.tax_minor))
    if sum(item.amount_minor for item in items) != invoice.total_minor:
        raise TotalMismatch(f"the items of {invoice.id} do not add up to its total {invoice.total_minor}")
    return items


def _whole_period(invoice: Invoice, key: str, description: str, amount_minor: int) -> InvoiceItem:
    return InvoiceItem(key, description, amount_minor, invoice.period_start, invoice.period_end)
