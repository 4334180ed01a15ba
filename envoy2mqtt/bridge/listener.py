"""What a worker reports to (the bridge) and what it waits on before serving an Envoy.

Generic in the worker type so that this module needs nothing of ``worker.py`` (which
imports it): the bridge is a ``WorkerListener[EnvoyWorker]``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from envoy2mqtt.envoy.snapshot import EnvoySnapshot

__all__ = ["Gate", "WorkerListener"]

W_contra = TypeVar("W_contra", contravariant=True)
W = TypeVar("W")


class WorkerListener(Protocol[W_contra]):
    """Callbacks from a worker to the bridge; they must not raise.

    Each is handed the snapshot the Envoy client returned (setup, poll, the re-read after a
    write, a re-probe): the listener never asks the client for one.
    """

    async def envoy_ready(self, worker: W_contra, snapshot: EnvoySnapshot) -> None:
        """Setup or a re-probe finished: (re)publish discovery and all states."""

    async def envoy_updated(
        self, worker: W_contra, snapshot: EnvoySnapshot, groups: set[str]
    ) -> None:
        """Some groups were read successfully (``groups``): publish what changed."""

    async def envoy_availability(self, worker: W_contra, online: bool) -> None:
        """Availability of this Envoy changed."""


Gate = Callable[[W], Awaitable[bool]]
"""Awaited once the serial is known, before anything is published or polled: returns when
the worker may serve this Envoy, True if it had to wait (its probe data is then old)."""
