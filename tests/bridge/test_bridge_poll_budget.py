"""A tier poll's budget bounds the Envoy's answers; publishing what was read is off the clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from envoy2mqtt.bridge import schedule as bridge_schedule
from envoy2mqtt.bridge.poll_budget import PollBudget, off_budget
from envoy2mqtt.bridge.schedule import Tier, TierName
from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.envoy.snapshot import EnvoySnapshot
from tests.bridge.test_bridge_worker import FakeClient, Recorder, make

#: Longer than any budget below: the "publishing" that must not count against it.
PUBLISHING = 1.0


async def test_the_clock_stops_while_publishing_and_the_deadline_moves() -> None:
    async with PollBudget(0.3) as budget:
        first = budget.deadline
        with off_budget():
            await asyncio.sleep(PUBLISHING)  # the work itself, longer than the whole budget
        assert not budget.expired()
        assert budget.deadline >= first + PUBLISHING


async def _hang_after_a_pause(budget: PollBudget) -> None:
    async with budget:
        with off_budget():
            pass  # a finished pause does not stop the clock for good
        await asyncio.Event().wait()


async def test_outside_a_pause_the_budget_still_cuts_a_hang_off() -> None:
    budget = PollBudget(0.05)
    with pytest.raises(TimeoutError):
        await _hang_after_a_pause(budget)
    assert budget.expired()


async def test_off_budget_without_a_poll_budget_changes_nothing() -> None:
    with off_budget():
        await asyncio.sleep(0)


class SlowPublisher(Recorder):
    """Publishing every update takes longer than the tier's budget (a loaded host)."""

    async def envoy_updated(
        self, worker: EnvoyWorker, snapshot: EnvoySnapshot, groups: set[str]
    ) -> None:
        await asyncio.sleep(PUBLISHING)
        await super().envoy_updated(worker, snapshot, groups)


async def test_slow_publishing_neither_cuts_off_the_poll_nor_makes_its_groups_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bridge_schedule, "_BUDGET_MIN", 0.3)
    tier = Tier(TierName.FAST, 0.1, ("meters",))
    assert tier.budget < PUBLISHING
    client, rec = FakeClient(), SlowPublisher()
    worker: Any = make(client, rec)
    await client.setup()
    await worker._poll_tier(tier)
    assert ("updated", frozenset({"meters"})) in rec.events  # published in full
    assert worker.stale == set()
    assert worker.stats.polls_failed == 0
