import asyncio

from prometheus_client import REGISTRY
from tally_runtime.periodic import Periodic


def runs(job: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("tally_job_runs_total", {"job": job, "outcome": outcome}) or 0.0


async def test_a_failing_run_is_counted_and_the_job_goes_on() -> None:
    calls = 0
    third = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            third.set()
        if calls == 1:
            raise RuntimeError("the database restarted")

    periodic = Periodic("flaky test job", flaky, every_s=0.01)
    await periodic.start()
    await asyncio.wait_for(third.wait(), timeout=10)
    await periodic.stop()
    assert runs("flaky test job", "failed") == 1
    assert runs("flaky test job", "ok") == calls - 1
    assert REGISTRY.get_sample_value("tally_job_duration_seconds_count", {"job": "flaky test job"}) == calls
