"""A subscriber that timestamps every message under the bridge's topics (benchmarks only)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiomqtt


@dataclass
class Seen:
    """One received message with its wall-clock receive time."""

    at: float
    topic: str
    payload: bytes
    retain: bool


@dataclass
class Watch:
    """Everything received so far, plus availability per serial."""

    base: str
    messages: list[Seen] = field(default_factory=list)
    online: set[str] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def _add(self, seen: Seen) -> None:
        self.messages.append(seen)
        levels = seen.topic.split("/")
        if levels[-1] == "availability" and len(levels) >= 3:
            serial = levels[-2]
            if seen.payload == b"online":
                self.online.add(serial)
            else:
                self.online.discard(serial)
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        """Wait until ``predicate()`` is true (re-checked on every message).

        Raises:
            TimeoutError: it did not become true within ``within`` seconds.
        """

        async def _wait() -> None:
            while not predicate():
                await self.changed.wait()

        await asyncio.wait_for(_wait(), within)

    def count_since(self, since: float) -> int:
        """Messages received at or after wall-clock time ``since``."""
        return sum(1 for m in self.messages if m.at >= since)


@contextlib.asynccontextmanager
async def watching(port: int, base: str = "envoy2mqtt") -> AsyncIterator[Watch]:
    """Subscribe to ``<base>/#`` on 127.0.0.1:``port`` for the duration of the block."""
    watch = Watch(base)
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"bench-watch-{time.time_ns()}") as c:
        await c.subscribe(f"{base}/#", qos=0)

        async def pump() -> None:
            async for message in c.messages:
                payload = message.payload
                body = payload if isinstance(payload, bytes) else str(payload).encode()
                watch._add(Seen(time.time(), str(message.topic), body, bool(message.retain)))

        task = asyncio.create_task(pump())
        try:
            yield watch
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
