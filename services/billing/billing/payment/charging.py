"""One collection attempt, the two ways Stripe can collect a Tally invoice.

By invoice: Stripe gets the invoice (its items, then finalized by us, never by Stripe's automation) and each attempt
pays it. Each step has an idempotency key made from our ids, and the Stripe invoice names ours in its metadata, so an
attempt interrupted anywhere (even for longer than an idempotency key lives) finds what it made instead of making it
again. By PaymentIntent: each attempt is one PaymentIntent for the total; one-off purchases are always paid so."""

from billing.invoices.models import Invoice
from billing.payment.dunning import Policy
from billing.payment.models import Collection, StripeCustomer
from billing.payment.stripe_api import Charge, StripeApi, StripeInvoice, StripeRefused
from billing.payment.stripe_items import stripe_items


async def charge(  # noqa: PLR0917 (the attempt and its parts)
    api: StripeApi, policy: Policy, payer: StripeCustomer, invoice: Invoice, collection: Collection, attempt: int
) -> Charge:
    method = payer.payment_method_id
    assert method is not None, "an attempt needs a payment method"
    if policy.collect_by == "payment_intent" or invoice.subscription_id is None:  # a one-off purchase
        return await api.charge(
            payer.stripe_customer_id, method, invoice.total_minor, invoice.currency, invoice.id, attempt
        )
    if collection.stripe_invoice_id is None:
        collection.stripe_invoice_id = (await _stripe_invoice(api, payer, invoice)).id
        collection.stripe_invoice_status = "open"
    return await api.pay_invoice(collection.stripe_invoice_id, invoice.id, method, attempt)


async def _stripe_invoice(api: StripeApi, payer: StripeCustomer, invoice: Invoice) -> StripeInvoice:
    items = stripe_items(invoice)
    made = await api.find_invoice(payer.stripe_customer_id, invoice.id)
    if made is None:
        made = await api.create_invoice(
            payer.stripe_customer_id, invoice.id, invoice.number or invoice.id, invoice.currency
        )
    if made.status == "draft":
        missing = [item for item in items if item.key not in made.item_keys]
        await api.add_items(payer.stripe_customer_id, made.id, invoice.currency, missing)
        made = await api.finalize_invoice(made.id)
    if made.total_minor != invoice.total_minor:
        raise StripeRefused(f"Stripe's invoice {made.id} totals {made.total_minor}, ours {invoice.total_minor}")
    return made
