"""A worker's background loops: one per polling tier, and the availability watchdog.

A tier's poll runs at its tick, woken early, or abandoned and redone; it runs as its own
task so that another tier can abandon it (see :meth:`TierLoops.abandon_others`) without
cancelling the loop that waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping

from envoy2mqtt.bridge.schedule import Availability, Tier, TierName, next_tick
from envoy2mqtt.bridge.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

Poll = Callable[[Tier], Coroutine[object, object, None]]
"""Runs one poll of a tier (the worker's ``_poll_tier``)."""

#: The watchdog checks just after the grace deadline (the rule is "more than grace").
_DEADLINE_SLACK = 0.01


class TierLoops:
    """The poll loops of one Envoy's tiers."""

    def __init__(self, host: str, poll: Poll, plan: Callable[[], Mapping[TierName, Tier]]) -> None:
        """Loops that call ``poll`` for the tiers of ``plan`` (read anew before each poll)."""
        self._host = host
        self._poll = poll
        self._plan = plan
        # Set to run a tier's next poll now instead of at its tick (see wake()).
        self._poll_now: dict[TierName, asyncio.Event] = {}
        self._inflight: dict[TierName, asyncio.Task[None]] = {}

    def clear(self) -> None:
        """Forget the polls in flight (before the loops start again)."""
        self._inflight.clear()

    def wake(self, name: TierName) -> None:
        """Run the next poll of tier ``name`` now; its interval restarts from then."""
        self._poll_now.setdefault(name, asyncio.Event()).set()

    async def loop(self, name: TierName) -> None:
        """Poll tier ``name`` at its interval until cancelled."""
        loop = asyncio.get_running_loop()
        tick = loop.time()
        while True:
            tier = self._plan()[name]
            if await self._run_poll(tier):
                tick = loop.time()  # abandoned: poll again at once, then keep the rate
                continue
            tick = next_tick(tick, tier.interval, loop.time())
            wake = self._poll_now.setdefault(name, asyncio.Event())
            if not wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), max(0.0, tick - loop.time()))
            if wake.is_set():
                wake.clear()
                tick = loop.time()  # woken early: the interval restarts from now

    async def _run_poll(self, tier: Tier) -> bool:
        """Run one poll as its own task; True when it was abandoned (see below)."""
        task = asyncio.create_task(self._poll(tier), name=f"poll-{self._host}-{tier.name}-1")
        self._inflight[tier.name] = task
        try:
            await asyncio.wait({task})
        finally:
            if self._inflight.get(tier.name) is task:
                del self._inflight[tier.name]
            if not task.done():  # this loop itself is being cancelled
                await cancel_and_wait([task])
        if task.cancelled():
            return True
        task.result()  # a programming error must not pass silently
        return False

    def abandon_others(self) -> None:
        """Cancel the polls in flight except the calling one; their loops redo them at once.

        Called when the Envoy just came back: a request of another tier still pending now
        was sent before or during its absence and may never be answered (a reboot drops
        connections silently), so it is not left to run into its tier's budget (75 s for
        the long tier).
        """
        current = asyncio.current_task()
        for name, task in list(self._inflight.items()):
            if task is not current and not task.done():
                _LOGGER.info("poll abandoned host=%s tier=%s reason=envoy back", self._host, name)
                task.cancel()


async def watchdog(
    availability: Callable[[], Availability], changed: Callable[[bool], Awaitable[None]]
) -> None:
    """Evaluate the availability at each grace deadline; ``changed`` gets what it returned.

    This takes the Envoy offline when the grace runs out, also while every poll hangs
    inside its budget without failing: it wakes at the deadline, not on a coarse period.
    """
    loop = asyncio.get_running_loop()
    while True:
        current = availability()
        deadline = current.deadline()
        wait = current.grace if deadline is None else deadline - loop.time()
        await asyncio.sleep(max(wait, 0.0) + _DEADLINE_SLACK)
        await changed(availability().evaluate(loop.time()))
