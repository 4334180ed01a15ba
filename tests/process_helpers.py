"""Helpers for the tests that run envoy2mqtt as a child process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def never_left_running(proc: asyncio.subprocess.Process) -> AsyncIterator[None]:
    """Kills ``proc`` on the way out if it still runs (a wait timed out, an assert failed).

    A child left behind would hold its broker connection and ports into later tests.
    """
    try:
        yield
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
