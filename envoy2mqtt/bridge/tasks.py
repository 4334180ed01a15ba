"""Cancelling background tasks reliably."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object]], retry: float = 0.2) -> None:
    """Cancel ``tasks`` and wait until all are done, cancelling again if one ignored it.

    On Python 3.11 ``asyncio.wait_for`` (used inside aiomqtt and aiohttp) can swallow a
    cancellation that arrives just as the awaited operation completes; a single
    ``cancel()`` would then leave a poll loop running forever.
    """
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=retry)
