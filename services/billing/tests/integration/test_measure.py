"""`measure`, what invoices read: many windows at once, their mid-day edges read from the events, equal to the
usage counted here by hand from the events sent."""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from billing.config import BillingSettings
from billing.usage.service import UnknownMeter, UsageWindow, measure
from contracts.envelope import encode_event
from contracts.topics import USAGE_EVENTS
from contracts.usage import usage_recorded
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_stack.testing import eventually, produce

pytestmark = pytest.mark.usefixtures("billing_worker")
DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
MODELS = ("small", "large", None)  # None: the event has no model


@dataclass(frozen=True)
class Sent:
    customer: str
    event_id: str
    at: datetime
    properties: dict[str, Any]


@pytest.fixture
def sessions(billing_sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """The conftest's sessions on billing's schema."""
    return billing_sessions


def unique(name: str) -> str:
    return f"{name}_{uuid4().hex[:10]}"


def random_events(customers: Sequence[str], per_customer: int, seed: int) -> list[Sent]:
    """Four days of events at random seconds, in random order; tokens with two decimals, a few users and models."""
    rng = random.Random(seed)
    events = []
    for customer in customers:
        for n in range(per_customer):
            properties: dict[str, Any] = {
                "tokens": round(rng.uniform(0, 100), 2),
                "user": rng.choice(["u1", "u2", "u3", "u4", 7, 7.0, "7"]),
                "seats": rng.randrange(1, 50),
            }
            model = rng.choice(MODELS)
            if model is not None:
                properties["model"] = model
            if rng.random() < 0.1:
                properties["tokens"] = "n/a"  # not a number: no tokens, no peak, still a call
            at = DAY1 + timedelta(seconds=rng.randrange(4 * 24 * 3600))
            events.append(Sent(customer, f"e{n}", at, properties))
    rng.shuffle(events)
    return events


def by_hand(events: Sequence[Sent], window: UsageWindow) -> dict[str, dict[str | None, Decimal]]:
    """Meter name -> group -> value, counted in Python from the events in the window."""
    inside = [e for e in events if e.customer == window.customer_id and window.start <= e.at < window.end]
    numbers = [e for e in inside if not isinstance(e.properties["tokens"], str)]
    tokens: dict[str | None, Decimal] = {}
    for e in numbers:
        group = e.properties.get("model", "")
        tokens[group] = tokens.get(group, Decimal(0)) + Decimal(str(e.properties["tokens"]))
    latest = max(inside, key=lambda e: (e.at, e.event_id), default=None)
    users = {(type(e.properties["user"]) is str, e.properties["user"]) for e in inside}  # 7 == 7.0, not "7"
    found = {
        "calls": {None: Decimal(len(inside))} if inside else {},
        "tokens": tokens,
        "peak": {None: max(Decimal(str(e.properties["tokens"])) for e in numbers)} if numbers else {},
        "users": {None: Decimal(len(users))} if users else {},
        "seats": {None: Decimal(latest.properties["seats"])} if latest else {},
    }
    return {name: values for name, values in found.items() if values}


async def test_measure_many_windows_with_mid_day_edges_exactly(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    event_type = unique("ai_request")
    meters = {
        "calls": {"aggregation": "count"},
        "tokens": {"aggregation": "sum", "property": "tokens", "group_by": "model"},
        "peak": {"aggregation": "max", "property": "tokens"},
        "users": {"aggregation": "unique_count", "property": "user"},
        "seats": {"aggregation": "latest", "property": "seats"},
    }
    keys = {name: unique(name) for name in meters}
    for name, fields in meters.items():
        response = await billing_api.post("/v1/meters", json={"key": keys[name], "event_type": event_type, **fields})
        assert response.status_code == 201, response.text
    customers = [unique("acme"), unique("globex"), unique("initech")]
    events = random_events(customers[:2], per_customer=150, seed=20261121)
    records = [
        (
            e.customer.encode(),
            encode_event(
                usage_recorded(e.event_id, e.customer, event_type, e.at, properties=e.properties, source="test")
            ),
        )
        for e in events
    ]
    await produce(billing_settings.kafka_bootstrap_servers, USAGE_EVENTS, [*records, *records[:20]])  # 20 resent
    everything = [UsageWindow(customer, DAY1, DAY1 + timedelta(days=4)) for customer in customers[:2]]

    async def all_counted() -> None:
        async with sessions() as session:
            counted = await measure(session, [keys["calls"]], everything)
        assert counted == {(customer, keys["calls"], None): 150 for customer in customers[:2]}

    await eventually(all_counted)
    windows = [
        UsageWindow(customers[0], DAY1 + timedelta(hours=5, minutes=30, seconds=7), DAY1 + timedelta(days=3, hours=2)),
        UsageWindow(customers[1], DAY1 + timedelta(days=1, hours=13), DAY1 + timedelta(days=1, hours=20)),  # one day
        UsageWindow(customers[2], DAY1, DAY1 + timedelta(days=4)),  # no usage: absent
    ]
    async with sessions() as session:
        measured = await measure(session, list(keys.values()), windows)
    expected = {
        (window.customer_id, keys[name], group): value
        for window in windows
        for name, values in by_hand(events, window).items()
        for group, value in values.items()
    }
    assert measured == expected
    assert {key[2] for key in measured if key[1] == keys["tokens"]} <= {"small", "large", ""}


async def test_measure_takes_thousands_of_windows_and_refuses_bad_ones(
    billing_api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    key = unique("calls")
    response = await billing_api.post(
        "/v1/meters", json={"key": key, "event_type": unique("x"), "aggregation": "count"}
    )
    assert response.status_code == 201
    start = DAY1 + timedelta(hours=12)
    many = [UsageWindow(unique("c"), start, start + timedelta(days=31)) for _ in range(3000)]
    async with sessions() as session:
        assert await measure(session, [key], many) == {}
        assert await measure(session, [key], []) == {}
        assert await measure(session, [key], [many[0], many[0]]) == {}  # the same window twice is one window
        problems: list[tuple[type[Exception], str, Callable[[], Any]]] = [
            (UnknownMeter, "nope", lambda: measure(session, [key, "nope"], many[:1])),
            (
                ValueError,
                "one window",
                lambda: measure(
                    session, [key], [many[0], UsageWindow(many[0].customer_id, start, start + timedelta(days=1))]
                ),
            ),
            (
                ValueError,
                "aware",
                lambda: measure(session, [key], [UsageWindow("c", datetime(2026, 11, 1), datetime(2026, 11, 2))]),
            ),
            (ValueError, "end after", lambda: measure(session, [key], [UsageWindow("c", start, start)])),
        ]
        for error, message, call in problems:
            with pytest.raises(error, match=message):
                await call()
