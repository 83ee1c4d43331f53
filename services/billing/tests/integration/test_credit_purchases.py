"""Credit packs bought outright: a one-off invoice charged by PaymentIntent (localstripe) while the caller waits, the
units granted only once it is paid."""

from typing import Any

import stripe
from tally_stack.stripe_local import LocalStripe

GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000341"


async def paying_customer(kit: Any, local_stripe: LocalStripe, number: str) -> tuple[dict[str, Any], str]:
    """A customer (20% tax) paying by card `number`, and a meter its credits can cover."""
    meter, _ = await kit.count_meter()
    customer = await kit.customer(tax_rate="0.2")
    client = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    attached = await kit.api.post(f"/v1/customers/{customer['id']}/payment-method", json={"payment_method": method.id})
    assert attached.status_code == 200, attached.text
    return customer, meter


def pack(meter: str) -> dict[str, Any]:
    return {"credit_type": "sms", "meter": meter, "quantity": "500", "unit_cost_minor": "2.5"}


async def test_a_paid_pack_is_invoiced_charged_and_granted_once(kit: Any, local_stripe: LocalStripe) -> None:
    customer, meter = await paying_customer(kit, local_stripe, GOOD_CARD)
    bought = await kit.api.post(f"/v1/customers/{customer['external_id']}/credit-purchases", json=pack(meter))
    assert bought.status_code == 201, bought.text
    purchase = bought.json()
    assert purchase["status"] == "paid" and purchase["grant_id"].startswith("crg_")

    invoice = (await kit.api.get(f"/v1/invoices/{purchase['invoice_id']}")).json()
    assert invoice["status"] == "paid" and invoice["subscription_id"] is None
    assert [(line["kind"], line["amount_minor"]) for line in invoice["lines"]] == [("credit_pack", 1250)]
    assert (invoice["tax_minor"], invoice["total_minor"]) == (250, 1500)
    payment = (await kit.api.get(f"/v1/invoices/{purchase['invoice_id']}/payment")).json()
    assert payment["status"] == "paid" and payment["payment_intent_id"].startswith("pi_")

    credits = (await kit.api.get(f"/v1/customers/{customer['id']}/credits")).json()
    [grant] = credits["grants"]
    assert (grant["id"], grant["quantity"], grant["remaining"]) == (purchase["grant_id"], "500", "500")


async def test_a_declined_card_voids_the_pack_and_grants_nothing(kit: Any, local_stripe: LocalStripe) -> None:
    customer, meter = await paying_customer(kit, local_stripe, DECLINED_CARD)
    bought = await kit.api.post(f"/v1/customers/{customer['id']}/credit-purchases", json=pack(meter))
    assert bought.status_code == 201, bought.text
    assert bought.json()["status"] == "declined" and bought.json()["grant_id"] is None
    invoice = (await kit.api.get(f"/v1/invoices/{bought.json()['invoice_id']}")).json()
    assert invoice["status"] == "void"
    assert (await kit.api.get(f"/v1/customers/{customer['id']}/credits")).json()["grants"] == []


async def test_a_bad_pack_or_a_customer_without_a_card_is_refused_before_anything_is_written(
    kit: Any, local_stripe: LocalStripe
) -> None:
    customer, meter = await paying_customer(kit, local_stripe, GOOD_CARD)
    unknown = await kit.api.post(
        f"/v1/customers/{customer['id']}/credit-purchases", json=pack(meter) | {"meter": "no_such_meter"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "body.meter", "reason": "no meter has the key 'no_such_meter'"}]
    cardless = await kit.customer()
    refused = await kit.api.post(f"/v1/customers/{cardless['id']}/credit-purchases", json=pack(meter))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "path.customer"
    for someone in (customer, cardless):
        assert (await kit.api.get("/v1/invoices", params={"customer_id": someone["id"]})).json()["data"] == []
