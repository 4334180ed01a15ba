"""Helpers for the multi-instance tests: log waiting, a fake instance with a real Last Will."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

FAKE_OWNER = textwrap.dedent(
    """
    import asyncio, sys
    import aiomqtt

    async def main() -> None:
        port, base, name, *serials = sys.argv[1:]
        state = f"{base}/bridge/{name}/state"
        will = aiomqtt.Will(state, b"offline", qos=1, retain=True)
        client = aiomqtt.Client("127.0.0.1", int(port), identifier=f"fake-{name}", will=will)
        async with client as c:
            await c.publish(state, b"online", qos=1, retain=True)
            for serial in serials:
                await c.publish(f"{base}/{serial}/owner", name.encode(), qos=1, retain=True)
            print("ready", flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())
    """
)


class LogWaiter(logging.Handler):
    """Collects log records; ``wait`` returns the first one matching, without polling."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._changed = asyncio.Event()
        self.hooks: list[Callable[[logging.LogRecord], None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        for hook in self.hooks:
            hook(record)
        self._changed.set()
        self._changed = asyncio.Event()

    def matching(self, level: int, *needles: str) -> list[str]:
        texts = [r.getMessage() for r in self.records if r.levelno == level]
        return [t for t in texts if all(n in t for n in needles)]

    async def wait(self, level: int, *needles: str, limit: float = 20) -> str:
        async def found() -> str:
            while not (hits := self.matching(level, *needles)):
                await self._changed.wait()
            return hits[0]

        return await asyncio.wait_for(found(), limit)


@asynccontextmanager
async def log_waiter() -> AsyncIterator[LogWaiter]:
    """A :class:`LogWaiter` on the ``envoy2mqtt`` loggers for the duration of the block."""
    waiter = LogWaiter()
    logger = logging.getLogger("envoy2mqtt")
    previous = logger.level
    logger.addHandler(waiter)
    logger.setLevel(logging.INFO)
    try:
        yield waiter
    finally:
        logger.removeHandler(waiter)
        logger.setLevel(previous)


@asynccontextmanager
async def fake_owner(
    tmp_path: Path, port: int, name: str, serials: list[str], base: str = "envoy2mqtt"
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A process that looks like live instance ``name`` owning ``serials``; SIGKILL it to die."""
    script = tmp_path / f"fake_{name}.py"
    script.write_text(FAKE_OWNER)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(port), base, name, *serials,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.strip() == b"ready"
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
