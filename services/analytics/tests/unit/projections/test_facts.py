"""The rebuild's fast reader gives exactly the rows the live consumer's pydantic decoding gives, and trusts nothing
that pydantic would reject or read differently."""

import copy
import json
import random
from pathlib import Path
from typing import Any

import contracts
import pytest
from analytics.projections.decoding import PROJECTED, Ignored, decode_billing
from analytics.projections.facts import Fact, fact_of, model_fact, read_fact
from contracts.envelope import ContractError

EXAMPLES = Path(contracts.__file__).parent / "examples"
PROJECTED_EXAMPLES = sorted(PROJECTED)


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_bytes())
    return loaded


def encoded(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope).encode()


def pydantic_fact(raw: bytes) -> Fact | Ignored:
    return model_fact(decode_billing(raw))


@pytest.mark.parametrize("name", PROJECTED_EXAMPLES)
def test_every_projected_example_is_read_fast_as_pydantic_reads_it(name: str) -> None:
    raw = encoded(example(name))
    fact = read_fact(raw)
    assert fact is not None
    assert fact == pydantic_fact(raw)


def test_absent_optional_fields_take_the_models_defaults() -> None:
    customer = example("tally.customer.created")
    for name in ("external_id", "email", "metadata"):
        del customer["data"][name]
    subscription = example("tally.subscription.updated")
    for name in ("previous", "trial_end", "cancel_at_period_end", "canceled_at"):
        del subscription["data"][name]
    invoice = example("tally.invoice.paid")
    del invoice["data"]["subscription_id"]
    for line in invoice["data"]["lines"]:
        line.pop("meter", None)
        line.pop("quantity", None)
    payment = example("tally.payment.failed")
    for name in ("subscription_id", "payment_intent_id", "reason", "next_attempt_at"):
        del payment["data"][name]
    for envelope in (customer, subscription, invoice, payment):
        del envelope["datacontenttype"]
        raw = encoded(envelope)
        assert read_fact(raw) is not None
        assert read_fact(raw) == pydantic_fact(raw)


@pytest.mark.parametrize(
    "moment", ["2026-11-01T12:00:00.5Z", "2026-11-01T13:30:00.123456+01:30", "2026-11-01T07:00:00-05:00"]
)
def test_timestamps_with_offsets_and_fractions_are_the_same_instants(moment: str) -> None:
    envelope = example("tally.subscription.updated")
    envelope["data"]["effective_at"] = envelope["time"] = moment
    raw = encoded(envelope)
    fact = read_fact(raw)
    assert fact is not None
    assert fact == pydantic_fact(raw)


def broken(name: str, change: Any) -> bytes:
    envelope = example(name)
    change(envelope)
    return encoded(envelope)


REJECTED = {
    "subject is not the customer": ("tally.payment.failed", lambda e: e.update(subject="cus_other")),
    "unknown field": ("tally.invoice.paid", lambda e: e["data"].update(discount=1)),
    "bad currency": ("tally.customer.created", lambda e: e["data"].update(currency="usd")),
    "negative tax": ("tally.invoice.paid", lambda e: e["data"].update(tax_minor=-1)),
    "leap second": ("tally.subscription.updated", lambda e: e["data"].update(effective_at="2026-06-30T23:59:60Z")),
    "year zero": ("tally.payment.failed", lambda e: e["data"].update(next_attempt_at="0000-01-01T00:00:00Z")),
    "naive time": ("tally.customer.created", lambda e: e["data"].update(updated_at="2026-11-01T12:00:00")),
    "bad extension name": ("tally.invoice.paid", lambda e: e.update(Trace="x")),
    "no data": ("tally.payment.failed", lambda e: e.pop("data")),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_what_pydantic_rejects_is_never_read_fast(case: str) -> None:
    name, change = REJECTED[case]
    raw = broken(name, change)
    assert read_fact(raw) is None
    with pytest.raises(ContractError):
        fact_of(raw)


def test_what_only_pydantic_accepts_is_read_by_pydantic() -> None:
    lax = broken(
        "tally.invoice.paid", lambda e: e["data"].update(total_minor="13320", changed_at="2026-12-01t00:05:00z")
    )
    assert read_fact(lax) is None
    assert fact_of(lax) == pydantic_fact(lax)


def test_other_types_are_ignored_and_garbage_left_to_pydantic() -> None:
    assert read_fact(encoded(example("tally.meter.created"))) == Ignored("tally.meter.created")
    for garbage in (b"{not json", b"[1, 2]", b'{"type": 7}'):
        assert read_fact(garbage) is None
        with pytest.raises(ContractError):
            fact_of(garbage)


def mutations(envelope: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One field somewhere in the message dropped, emptied, retyped or bent."""
    mutated = copy.deepcopy(envelope)
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            paths.append((node, key))
            walk(value)

    walk(mutated)
    node, key = rng.choice(paths)
    value = node[key]
    options: list[Any] = [None, "", 0, -1, 1.0, 1.5, True, [], {}, "x" * 300, "2026-13-01T00:00:00Z"]
    if isinstance(value, str):
        options += [value.upper(), value.lower(), value + " ", value.replace("Z", "+00:00"), value[:-1]]
    if isinstance(value, int):
        options += [value + 1, -value, str(value), float(value)]
    if isinstance(node, dict) and rng.random() < 0.2:
        del node[key]
    else:
        node[key] = rng.choice(options)
    return mutated


def test_a_fast_reading_always_agrees_with_pydantic_on_bent_messages() -> None:
    """Whatever the fast reader accepts, pydantic accepts and reads the same; what it leaves, fact_of still reads
    exactly as pydantic does (or rejects)."""
    rng = random.Random(2026)
    read_fast = 0
    for _ in range(3000):
        raw = encoded(mutations(example(rng.choice(PROJECTED_EXAMPLES)), rng))
        try:
            expected: Fact | Ignored | None = pydantic_fact(raw)
        except ContractError:
            expected = None
        fast = read_fact(raw)
        if fast is not None:
            read_fast += 1
            assert fast == expected, raw
        if expected is None:
            with pytest.raises(ContractError):
                fact_of(raw)
        else:
            assert fact_of(raw) == expected
    assert read_fast > 100  # the property was exercised on accepted messages too
