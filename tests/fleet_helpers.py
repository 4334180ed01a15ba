"""Helpers for the multi-instance tests: log waiting, a fake instance with a real Last Will."""

from __future__ import annotations

import asyncio
import contextlib
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


class LogLines:
    """Reads a child process's log stream line by line; ``wait`` returns on a matching line."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        try:
            while line := await stream.readline():
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
                self._changed.set()
                self._changed = asyncio.Event()
        finally:
            self._changed.set()  # end of the log wakes every waiter

    def matching(self, *needles: str) -> list[str]:
        return [line for line in self.lines if all(n in line for n in needles)]

    async def wait(self, *needles: str, limit: float = 30) -> str:
        async def found() -> str:
            while not (hits := self.matching(*needles)):
                changed = self._changed
                if self._task.done():
                    raise AssertionError(f"log ended without {needles}")
                await changed.wait()
            return hits[0]

        return await asyncio.wait_for(found(), limit)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task
