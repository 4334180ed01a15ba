"""A gateway whose Enlighten cloud owns the battery settings: local tariff writes are undone.

Public reports (named in docs/consumers.md) describe firmware 8.2.42xx and newer doing this:
``PUT /admin/lib/tariff`` is accepted, the next GET shows the new values, and one to two
minutes later the cloud pushes its own tariff back, with the storage settings as they were
and a ``date`` nobody wrote locally. A ``cloud_revert`` fault rule switches this on.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from typing import Any

from envoy2mqtt.simulator.state import DeviceState

_LOG = logging.getLogger(__name__)
_SLUG = "admin_lib_tariff"


def _tariff(state: DeviceState) -> dict[str, Any] | None:
    doc = state.doc(_SLUG)
    tariff = doc.get("tariff") if isinstance(doc, dict) else None
    return tariff if isinstance(tariff, dict) else None


def _bumped(old: Any, now: float) -> str:
    """A tariff date (epoch seconds as a string, as the Envoy has it) later than ``old``."""
    previous = int(old) if isinstance(old, str) and old.isdigit() else 0
    return str(max(int(now), previous + 1))


class CloudTariff:
    """The cloud's copy of the storage settings and the pending push that restores it."""

    def __init__(self, state: DeviceState, clock: Callable[[], float]) -> None:
        """Act on ``state``; ``clock`` gives the epoch seconds written as the new ``date``."""
        self._state = state
        self._clock = clock
        # Storage settings before the first local write the cloud has not yet undone.
        self._saved: dict[str, Any] | None = None
        self._push: asyncio.Task[None] | None = None
        self.pushes = 0

    def storage_now(self) -> dict[str, Any] | None:
        """A copy of the storage settings served right now (taken before a write)."""
        tariff = _tariff(self._state)
        settings = tariff.get("storage_settings") if tariff is not None else None
        return copy.deepcopy(settings) if isinstance(settings, dict) else None

    def written(self, before: dict[str, Any] | None, delay: float) -> None:
        """A local tariff write was accepted: push the cloud's settings back ``delay`` s later.

        Writes before that push are undone together (the cloud keeps the settings that
        were there before the first of them).
        """
        if before is None:
            return
        if self._saved is None:
            self._saved = before
        self._cancel_timer()
        self._push = asyncio.get_running_loop().create_task(self._push_later(delay))

    def cancel(self) -> None:
        """Forget a pending push and the settings it would restore (stop, faults cleared)."""
        self._cancel_timer()
        self._saved = None

    def _cancel_timer(self) -> None:
        if self._push is not None and not self._push.done():
            self._push.cancel()
        self._push = None

    async def wait_push(self) -> None:
        """Wait until the pending push (if any) has happened."""
        if self._push is not None:
            await asyncio.shield(self._push)

    def push(self) -> None:
        """Restore the cloud's storage settings now, with a new ``date`` (no later push)."""
        self._cancel_timer()
        tariff, saved, self._saved = _tariff(self._state), self._saved, None
        if tariff is None or saved is None:
            return
        now = self._clock()
        saved["date"] = _bumped(saved.get("date"), now)
        tariff["storage_settings"] = saved
        tariff["date"] = _bumped(tariff.get("date"), now)
        self.pushes += 1
        _LOG.info("sim cloud tariff push settings=%s date=%s", saved, tariff["date"])

    async def _push_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._push = None  # this task is the push: push() must not cancel it
        self.push()
