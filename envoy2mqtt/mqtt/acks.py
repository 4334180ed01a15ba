"""Waiting for a broker's acknowledgement on an event loop that may be blocked for a while.

A PUBACK that arrived while the loop was blocked (a long synchronous step somewhere in the
process) sits unread in the socket; when the loop runs again, the expired timeout is handled
before the task that reads it, so a plain timeout would call a live connection dead. The
wait here counts only time the loop was running: a timeout handled much later than it was
due means the loop was blocked, and the broker gets its full time again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["STALL", "acknowledged"]

STALL = 1.0
"""A due timer handled this many seconds late means the loop was blocked (a running loop
handles one within milliseconds)."""


async def acknowledged(send: Coroutine[Any, Any, None], seconds: float) -> None:
    """Run ``send`` (a publish awaiting its acknowledgement without a timeout of its own).

    Raises:
        TimeoutError: no acknowledgement within ``seconds`` of a running loop.
        Whatever ``send`` raises.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(send)
    try:
        deadline = loop.time() + seconds
        while True:
            await asyncio.wait({task}, timeout=max(0.0, deadline - loop.time()))
            if task.done():
                return task.result()
            now = loop.time()
            if now - deadline < STALL:
                msg = f"no acknowledgement within {seconds:g} s"
                raise TimeoutError(msg)
            deadline = now + seconds
    finally:
        if not task.done():
            task.cancel()
