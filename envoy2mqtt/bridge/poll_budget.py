"""A tier poll's time budget: it bounds the Envoy's answers, not the bridge's publishing.

A poll of a tier must get its answers from the Envoy within the tier's budget, or its groups
are reported stale ("no answer within N s"). Publishing what was read is no part of that:
the first poll announces discovery for every device, another tier may hold the report lock
while it publishes, and a loaded host or a slow broker makes both take seconds. Counting that
time would cut off a poll whose Envoy had answered, cancel its publishing midway and report
its groups stale. So the budget's clock stops while the poll publishes (:func:`off_budget`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from types import TracebackType

_CURRENT: ContextVar[PollBudget | None] = ContextVar("poll_budget", default=None)


class PollBudget:
    """``async with PollBudget(seconds):`` like :func:`asyncio.timeout`, with a pausable clock."""

    def __init__(self, seconds: float) -> None:
        """Start the clock: the poll must end ``seconds`` from now (pauses excluded)."""
        self._loop = asyncio.get_running_loop()
        self.deadline = self._loop.time() + seconds
        self._timeout = asyncio.timeout_at(self.deadline)
        self._paused = False

    def remaining(self) -> float:
        """Seconds left of the budget (negative once it has run out)."""
        return self.deadline - self._loop.time()

    def expired(self) -> bool:
        """Whether the budget ran out and cancelled the poll."""
        return self._timeout.expired()

    async def __aenter__(self) -> PollBudget:
        """Enter the timeout; publishing inside this task is off the clock from now on."""
        await self._timeout.__aenter__()
        self._token = _CURRENT.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Leave the timeout (turns its cancellation into TimeoutError)."""
        _CURRENT.reset(self._token)
        await self._timeout.__aexit__(exc_type, exc, tb)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the clock inside the block; the deadline moves by the time it took."""
        if self._paused or self._timeout.expired():
            yield  # nested, or already cancelling: nothing to stop
            return
        self._paused = True
        started = self._loop.time()
        self._timeout.reschedule(None)
        try:
            yield
        finally:
            self._paused = False
            self.deadline += self._loop.time() - started
            if not self._timeout.expired():
                self._timeout.reschedule(self.deadline)


@contextlib.contextmanager
def off_budget() -> Iterator[None]:
    """Pause the current task's poll budget, if it runs inside one, for the block."""
    budget = _CURRENT.get()
    if budget is None:
        yield
        return
    with budget.paused():
        yield
