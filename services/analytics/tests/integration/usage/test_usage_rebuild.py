"""Rebuilding the usage projections from the topic gives what the live consumer built."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from analytics.config import AnalyticsSettings
from analytics.db import SCHEMA
from analytics.usage.rebuild import rebuild_usage
from sqlalchemy import text
from tally_runtime.db import create_engine, session_factory
from tally_stack.testing import eventually

pytestmark = pytest.mark.usefixtures("analytics_worker")
SNAPSHOT = "SELECT customer_key, event_type, day, events FROM usage_daily ORDER BY 1, 2, 3"
ANALYZED = """SELECT relname FROM pg_stat_user_tables
    WHERE schemaname = 'analytics' AND relname IN ('usage_events', 'usage_daily') AND last_analyze >= :since"""


async def test_rebuild_gives_identical_daily_counts(
    analytics_api: httpx.AsyncClient, analytics_settings: AnalyticsSettings, usage_feed: Any, quiet_monday: date
) -> None:
    customer, feature = f"rebuild_{uuid4().hex[:8]}", f"query_{uuid4().hex[:8]}"
    start = datetime.combine(quiet_monday, time(), UTC)
    ids = [usage_feed.event(customer, feature, start + timedelta(hours=n * 7)) for n in range(12)]
    for event_id in ids[:4]:  # resent, with another time: the first copy counts
        usage_feed.event(customer, feature, start + timedelta(days=30), event_id=event_id)
    await usage_feed.publish()
    params = {"from": quiet_monday.isoformat(), "to": (quiet_monday + timedelta(days=40)).isoformat()}

    async def counted() -> None:
        response = await analytics_api.get(f"/v1/customers/{customer}/usage-trend", params=params | {"period": "month"})
        assert response.status_code == 200 and response.json()["features"][0]["total"] == 12

    await eventually(counted)
    engine = create_engine(analytics_settings.database_url, SCHEMA)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            before = (await session.execute(text(SNAPSHOT))).all()
        began = datetime.now(UTC)
        result = await rebuild_usage(analytics_settings, sessions)
        async with sessions() as session:
            after = (await session.execute(text(SNAPSHOT))).all()
            analyzed = set((await session.execute(text(ANALYZED), {"since": began})).scalars())
    finally:
        await engine.dispose()
    assert result.records >= 16 and result.new < result.events
    assert after == before
    assert analyzed == {"usage_events", "usage_daily"}  # planner statistics for the rebuilt rows
    assert (customer, feature, quiet_monday, 4) in after  # 0, 7, 14 and 21 hours: 4 on the first day
