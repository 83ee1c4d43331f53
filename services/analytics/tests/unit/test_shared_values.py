"""Values shared by the answers computed at one set of projection versions: computed once by the first to ask."""

import asyncio

import pytest
from analytics.answers.cache import Shared
from cachetools import LRUCache


class Counted:
    def __init__(self, fail_first: bool = False) -> None:
        self.calls = 0
        self.fail_first = fail_first

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(0.01)  # long enough for every asker to arrive before it is done
        if self.fail_first and self.calls == 1:
            raise RuntimeError("the database went away")
        return f"EUR{self.calls}"


async def test_askers_at_one_version_share_one_computation_and_a_new_version_computes_again() -> None:
    tasks: LRUCache = LRUCache(16)
    compute = Counted()
    at_one = [Shared(tasks, ("billing", 1)).value("currency", compute) for _ in range(3)]
    assert await asyncio.gather(*at_one) == ["EUR1"] * 3
    assert compute.calls == 1
    assert await Shared(tasks, ("billing", 2)).value("currency", compute) == "EUR2"
    assert await Shared(tasks, ("billing", 1)).value("currency", compute) == "EUR1"  # still kept
    assert compute.calls == 2


async def test_a_failed_computation_fails_its_askers_and_is_not_kept() -> None:
    tasks: LRUCache = LRUCache(16)
    compute = Counted(fail_first=True)
    failed = await asyncio.gather(
        *(Shared(tasks, 1).value("currency", compute) for _ in range(2)), return_exceptions=True
    )
    assert [type(outcome) for outcome in failed] == [RuntimeError, RuntimeError]
    assert await Shared(tasks, 1).value("currency", compute) == "EUR2"


async def test_nothing_is_shared_when_nothing_is_kept() -> None:
    compute = Counted()
    await asyncio.gather(*(Shared(None, None).value("currency", compute) for _ in range(2)))
    assert compute.calls == 2


async def test_an_asker_cancelled_while_waiting_leaves_the_computation_to_the_others() -> None:
    tasks: LRUCache = LRUCache(16)
    compute = Counted()
    first = asyncio.ensure_future(Shared(tasks, 1).value("currency", compute))
    second = asyncio.ensure_future(Shared(tasks, 1).value("currency", compute))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == "EUR1" and compute.calls == 1
