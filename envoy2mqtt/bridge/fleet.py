"""One named instance of a fleet: serves only the Envoys it owns (see ``bridge.ownership``).

The bridge uses this only when ``instance`` is configured. It gates every worker on
ownership, subscribes to the ``/set`` topics of owned Envoys only, and when another
instance wins an Envoy it stops that worker, forgets what it published for it (the new
owner publishes it now) and lets it wait for the Envoy again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from envoy2mqtt.bridge.ownership import Ownership
from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.catalog.topics import sanitize_level
from envoy2mqtt.mqtt.router import CommandRouter
from envoy2mqtt.mqtt.session import MqttSession
from envoy2mqtt.settings import Settings

_LOGGER = logging.getLogger(__name__)


class FleetMember:
    """Ownership-aware worker control for one bridge with an ``instance`` name.

    Args:
        session: the bridge's MQTT session.
        router: the bridge's command router (per-Envoy ``/set`` subscriptions).
        settings: the configuration (instance, shard and the Envoys this shard serves).
        workers: the bridge's workers, read when ownership changes.
        forget: stops re-publishing what was published for a worker's Envoy.
        on_change: refreshes ``bridge/info`` after a gain, loss or new owner.
        retry: see :class:`~envoy2mqtt.bridge.ownership.Ownership`.
        takeover_delay: see :class:`~envoy2mqtt.bridge.ownership.Ownership`.
    """

    def __init__(
        self,
        session: MqttSession,
        router: CommandRouter,
        settings: Settings,
        *,
        workers: Callable[[], Sequence[EnvoyWorker]],
        forget: Callable[[EnvoyWorker], None],
        on_change: Callable[[], Awaitable[None]],
        retry: float,
        takeover_delay: float,
    ) -> None:
        """Serve ``workers`` on behalf of the named instance of ``settings``."""
        self._session = session
        self._router = router
        self._settings = settings
        self._served = settings.served_envoys()
        self._workers = workers
        self._forget = forget
        self.ownership = Ownership(
            session,
            expected=self._expected,
            on_gained=self._gained,
            on_lost=self._lost,
            on_change=on_change,
            retry=retry,
            takeover_delay=takeover_delay,
        )
        self._runs: dict[int, asyncio.Task[None]] = {}
        self._claimed: dict[int, str] = {}

    async def install(self) -> None:
        """Subscribe to claims and instance states (before the session runs)."""
        settings = self._settings
        if not self._served:
            _LOGGER.warning(
                "no configured Envoy in this shard instance=%s shard=%s envoys=%d",
                settings.instance,
                settings.shard,
                len(settings.envoys),
            )
        await self.ownership.install()

    def start(self) -> list[asyncio.Task[None]]:
        """The background task resolving ownership conflicts (cancelled with the bridge's)."""
        return [asyncio.create_task(self.ownership.run(), name="ownership")]

    def owns(self, worker: EnvoyWorker) -> bool:
        """Whether ``worker``'s Envoy is served by this instance right now."""
        serial = worker.serial
        return serial is not None and self.ownership.owns(serial)

    def owner_of(self, worker: EnvoyWorker) -> str | None:
        """The live instance serving ``worker``'s Envoy, as far as this instance knows."""
        serial = worker.serial
        return None if serial is None else self.ownership.live_owner(serial)

    async def gate(self, worker: EnvoyWorker) -> bool:
        """The worker's gate: wait until this instance owns the Envoy."""
        serial = worker.serial
        assert serial is not None  # the worker calls its gate once the serial is known
        level = sanitize_level(serial)
        old = self._claimed.get(id(worker))
        if old is not None and old != level:
            await self._release(old)  # the host now answers with another serial
        self._claimed[id(worker)] = level
        return await self.ownership.acquire(level)

    async def run_worker(self, worker: EnvoyWorker) -> None:
        """Run ``worker`` until it fails or loses its Envoy (then it is reset for a re-run)."""
        task = asyncio.create_task(worker.run(), name=f"envoy-run-{worker.host}")
        self._runs[id(worker)] = task
        try:
            await asyncio.wait({task})
        finally:
            self._runs.pop(id(worker), None)
            if not task.done():  # the supervisor itself is being cancelled
                task.cancel()
                await asyncio.wait({task})
        if not task.cancelled():
            task.result()  # a worker never returns normally: re-raise its failure
            return
        await self._retire(worker)

    def restart(self, worker: EnvoyWorker) -> None:
        """Stop ``worker``'s current run; :meth:`run_worker` then retires it."""
        task = self._runs.get(id(worker))
        if task is not None:
            task.cancel()

    async def release_all(self) -> None:
        """Clean exit: clear every claim of this instance."""
        await self.ownership.release_all()

    async def _retire(self, worker: EnvoyWorker) -> None:
        claimed = self._claimed.get(id(worker))
        if claimed is not None and claimed != sanitize_level(worker.serial or claimed):
            await self._release(claimed)
        self._forget(worker)
        worker.reset()

    async def _release(self, level: str) -> None:
        await self._router.drop_envoy(level)
        await self.ownership.release(level)

    async def _gained(self, level: str, previous: str | None) -> None:
        await self._router.serve_envoy(level)
        if previous is not None and previous != self.ownership.instance:
            # Taken over: what the dead owner left retained says "online" until our first
            # poll; say what this instance knows instead.
            topic = self._session.topics.availability(level)
            await self._session.publish(topic, b"offline", qos=1, retain=True)

    async def _lost(self, level: str, owner: str) -> None:
        await self._router.drop_envoy(level)
        for worker in self._workers():
            if worker.serial is not None and sanitize_level(worker.serial) == level:
                _LOGGER.info("envoy handed over serial=%s owner=%s", level, owner)
                self.restart(worker)

    def _expected(self) -> set[str]:
        configured = {e.serial for e in self._served if e.serial}
        known = {w.serial for w in self._workers() if w.serial}
        return {sanitize_level(s) for s in configured | known}
