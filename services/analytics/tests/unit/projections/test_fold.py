"""The rebuild's in-memory fold applies the live consumer's rules: each event once, newest states by their own
times whatever the arrival order, revenue from the invoices that count."""

import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import contracts
from analytics.projections.facts import Fact, read_fact
from analytics.projections.fold import Folded
from analytics.projections.segments import Policy

EXAMPLES = Path(contracts.__file__).parent / "examples"
POLICY = Policy(past_due_active_days=30, churn_at_cancellation=False)
STARTER = {"plan_key": "starter", "plan_version": 1, "interval": "month", "base_price_minor": 4900, "mrr_minor": 4900}


def fact(event_type: str, event_id: str, **data: Any) -> Fact:
    envelope = json.loads((EXAMPLES / f"{event_type}.json").read_bytes())
    envelope["id"] = event_id
    envelope["data"].update(data)
    read = read_fact(json.dumps(envelope).encode())
    assert isinstance(read, Fact)
    return read


def folded(facts: list[Fact]) -> Folded:
    result = Folded()
    for each in facts:
        result.add(each)
    return result


def test_an_event_counts_once() -> None:
    payment = fact("tally.payment.failed", "evt_p1")
    result = Folded()
    assert result.add(payment)
    assert not result.add(payment)
    assert result.applied == ["evt_p1"]
    assert len(result.payments) == 1


def test_a_customer_is_its_newest_state_created_at_its_earliest_in_any_order() -> None:
    older = fact("tally.customer.created", "evt_c1", name="Old", updated_at="2026-01-01T00:00:00Z")
    newer = fact("tally.customer.updated", "evt_c2", name="New", updated_at="2026-03-01T00:00:00Z")
    for order in ([older, newer], [newer, older]):
        (row,) = folded(order).customers.values()
        assert row[2] == "New"
        assert (row[6], row[7]) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def test_an_invoice_takes_its_latest_status_by_change_time_and_only_counting_ones_earn_revenue() -> None:
    finalized = fact("tally.invoice.finalized", "evt_i1", status="finalized", changed_at="2026-12-01T00:00:00Z")
    voided = fact("tally.invoice.voided", "evt_i2", status="void", changed_at="2026-12-05T00:00:00Z")
    for order in itertools.permutations([finalized, voided]):
        result = folded(list(order))
        (invoice,) = result.invoices.values()
        assert (invoice[4], invoice[13]) == ("void", datetime(2026, 12, 5, tzinfo=UTC))
        assert len(list(result.line_rows())) == len(finalized.lines)
        assert result.derive(POLICY).revenue == []
    paid = folded([finalized, fact("tally.invoice.paid", "evt_i3", status="paid")]).derive(POLICY).revenue
    expected: dict[tuple[str, date, str], int] = {}
    for line in finalized.lines:
        key = ("USD", date(line[6].year, line[6].month, 1), line[2])
        expected[key] = expected.get(key, 0) + line[5]
    assert sorted(paid) == sorted((*key, amount) for key, amount in expected.items() if amount)


def test_mrr_follows_the_changes_effective_times_not_their_arrival() -> None:
    created = fact(
        "tally.subscription.updated",
        "evt_s1",
        change="created",
        previous=None,
        terms={**STARTER, "status": "active"},
        effective_at="2026-01-10T00:00:00Z",
    )
    upgraded = fact("tally.subscription.updated", "evt_s2", effective_at="2026-03-10T00:00:00Z")
    in_order = folded([created, upgraded]).derive(POLICY)
    late = folded([upgraded, created]).derive(POLICY)
    assert in_order.segments == late.segments
    assert in_order.moves == late.moves
    assert [(m.month, m.closing_mrr_minor, m.movement) for m in in_order.moves] == [
        (date(2026, 1, 1), 4900, "new"),
        (date(2026, 3, 1), 9900, "expansion"),
    ]
