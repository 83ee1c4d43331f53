import pytest
from contracts import (
    ANALYTICS_ALERTS,
    API_KEYS,
    BILLING_EVENTS,
    DLQ_PARTITIONS,
    EVENT_TYPES,
    METER_CREATED,
    TOPICS,
    USAGE_EVENTS,
    USAGE_RECORDED,
    all_topic_names,
    dlq_topic,
    event_type,
    topic,
)
from contracts.usage import USAGE_BATCH_RECORDED

SERVICES = {"usage-ingest", "billing", "analytics", "assistant", "gateway"}
DAY_MS = 24 * 60 * 60 * 1000


def test_topic_names_are_unique() -> None:
    names = [spec.name for spec in TOPICS]
    assert len(names) == len(set(names))
    assert len(all_topic_names()) == len(set(all_topic_names()))


def test_the_four_topics_of_the_design() -> None:
    assert [spec.name for spec in TOPICS] == [USAGE_EVENTS, BILLING_EVENTS, ANALYTICS_ALERTS, API_KEYS]
    assert (USAGE_EVENTS, BILLING_EVENTS, ANALYTICS_ALERTS, API_KEYS) == (
        "usage.events.v1",
        "billing.events.v1",
        "analytics.alerts.v1",
        "gateway.api-keys.v1",
    )
    usage, billing, alerts, keys = TOPICS
    assert (usage.partitions, usage.retention_ms, usage.compacted) == (6, 35 * DAY_MS, False)
    assert (billing.partitions, billing.retention_ms, billing.compacted) == (6, None, False)
    assert (alerts.partitions, alerts.compacted) == (3, False)
    assert (keys.partitions, keys.compacted) == (1, True)
    assert usage.key == "customer id"
    assert billing.key.startswith("customer id")
    assert (alerts.key, keys.key) == ("rule id", "key id")


def test_producers_and_consumers_follow_the_services_table() -> None:
    flows = {spec.name: (set(spec.producers), set(spec.consumers)) for spec in TOPICS}
    assert flows == {
        USAGE_EVENTS: ({"usage-ingest"}, {"billing", "analytics"}),
        BILLING_EVENTS: ({"billing"}, {"analytics", "assistant", "gateway"}),
        ANALYTICS_ALERTS: ({"analytics"}, {"assistant", "gateway"}),
        API_KEYS: ({"gateway"}, {"usage-ingest"}),
    }
    for spec in TOPICS:
        assert set(spec.producers) | set(spec.consumers) <= SERVICES
        assert spec.partitions >= 1


def test_every_registered_event_type_travels_on_a_topic_that_lists_it() -> None:
    names = {spec.name for spec in TOPICS}
    for name, spec in EVENT_TYPES.items():
        assert spec.type == name
        assert spec.topic in names
        assert name in topic(spec.topic).event_types


def test_every_event_type_a_topic_lists_is_registered() -> None:
    for spec in TOPICS:
        assert len(spec.event_types) == len(set(spec.event_types))
        for name in spec.event_types:
            assert event_type(name).topic == spec.name


def test_registered_types() -> None:
    billing = {
        "tally.meter.created",
        "tally.customer.created",
        "tally.customer.updated",
        "tally.subscription.created",
        "tally.subscription.updated",
        "tally.subscription.canceled",
        "tally.usage.threshold_reached",
        "tally.invoice.finalized",
        "tally.invoice.paid",
        "tally.invoice.voided",
        "tally.invoice.marked_uncollectible",
        "tally.payment.succeeded",
        "tally.payment.failed",
        "tally.payment.action_required",
        "tally.payment.refunded",
        "tally.payment.disputed",
        "tally.credits.granted",
        "tally.credits.consumed",
        "tally.credits.balance_adjusted",
    }
    topics = {name: spec.topic for name, spec in EVENT_TYPES.items()}
    assert topics == {
        USAGE_RECORDED: USAGE_EVENTS,
        USAGE_BATCH_RECORDED: USAGE_EVENTS,
        **dict.fromkeys(billing, BILLING_EVENTS),
        "tally.api_key.issued": API_KEYS,
        "tally.api_key.revoked": API_KEYS,
    }
    assert METER_CREATED in billing
    assert event_type(USAGE_BATCH_RECORDED).topic == USAGE_EVENTS
    assert event_type(USAGE_RECORDED).topic == USAGE_EVENTS
    assert event_type(METER_CREATED).topic == BILLING_EVENTS


def test_each_model_pins_its_type_name() -> None:
    for name, spec in EVENT_TYPES.items():
        assert spec.event_cls.model_json_schema()["properties"]["type"]["const"] == name


def test_dead_letter_topics() -> None:
    assert dlq_topic(USAGE_EVENTS) == "usage.events.v1.dlq"
    assert DLQ_PARTITIONS == 1
    assert all_topic_names() == [
        "usage.events.v1",
        "usage.events.v1.dlq",
        "billing.events.v1",
        "billing.events.v1.dlq",
        "analytics.alerts.v1",
        "analytics.alerts.v1.dlq",
        "gateway.api-keys.v1",
        "gateway.api-keys.v1.dlq",
    ]


def test_lookups_refuse_unknown_names() -> None:
    assert topic(API_KEYS).compacted
    with pytest.raises(KeyError, match=r"usage\.events\.v2"):
        topic("usage.events.v2")
    with pytest.raises(KeyError, match=r"tally\.usage\.deleted"):
        event_type("tally.usage.deleted")
