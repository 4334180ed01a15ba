"""The bridge: one MQTT session, one worker per Envoy, publishing and command routing.

Lifecycle of :meth:`Bridge.run`:

1. connect to the broker (a refused login or TLS failure at the first connect raises
   :class:`~envoy2mqtt.mqtt.session.MqttFatalError`; later losses are retried forever);
2. scan the retained topics a previous run left (see :mod:`envoy2mqtt.mqtt.retained`);
3. start one :class:`~envoy2mqtt.bridge.worker.EnvoyWorker` per Envoy, the periodic
   re-publisher and the health reporter;
4. on :meth:`stop` (SIGTERM/SIGINT) or cancellation: every Envoy's availability and
   ``bridge/state`` go ``offline``, HTTP sessions are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from envoy2mqtt.bridge.clients import ClientContext, ClientFactory, default_client
from envoy2mqtt.bridge.commands import CommandExecutor
from envoy2mqtt.bridge.fleet import FleetMember
from envoy2mqtt.bridge.health import BridgeStats, health_payload
from envoy2mqtt.bridge.http import HealthView, start_health_server
from envoy2mqtt.bridge.info import info_payload
from envoy2mqtt.bridge.lifetime_guard import LifetimeGuard
from envoy2mqtt.bridge.publish import EnvoyPublisher, EnvoyView
from envoy2mqtt.bridge.tasks import cancel_and_wait
from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.discovery import DiscoveryOptions
from envoy2mqtt.catalog.topics import sanitize_level
from envoy2mqtt.envoy.snapshot import EnvoySnapshot
from envoy2mqtt.logs import error_text
from envoy2mqtt.mqtt.publisher import StatePublisher, encode_payload
from envoy2mqtt.mqtt.retained import scan_retained
from envoy2mqtt.mqtt.router import CommandRouter
from envoy2mqtt.mqtt.session import MqttSession
from envoy2mqtt.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["Bridge", "max_pending_publishes"]

_LOGGER = logging.getLogger(__name__)


def max_pending_publishes(envoys: int) -> int:
    """Publishes that may await their PUBACK at once in a healthy bridge of ``envoys``.

    Per Envoy: one publishing pass (passes run under the Envoy's lock, one message at a
    time), one availability change and one ``bridge/info`` refresh; plus the bridge's own
    (re-publish timer, health, command results). More than that means PUBACKs are late.
    """
    return 3 * envoys + 20


class Bridge:
    """Runs the whole bridge for one configuration."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: ClientFactory | None = None,
        setup_delays: tuple[float, float] = (2.0, 120.0),
        id_prefix: str = "",
        ownership_retry: float = 60.0,
        takeover_delay: float = 10.0,
    ) -> None:
        """Build every part; nothing connects until :meth:`run`.

        ``id_prefix`` namespaces the discovery ids (see ``DiscoveryOptions.id_prefix``).
        """
        self.settings = settings
        self.served = settings.served_envoys()
        self.session = MqttSession(
            settings.mqtt,
            instance=settings.instance,
            max_pending=max_pending_publishes(len(self.served)),
        )
        self.topics = self.session.topics
        self.publisher = StatePublisher(
            self.session, republish_interval=settings.publish.republish_interval
        )
        self.stats = BridgeStats()
        self._factory = client_factory or default_client
        self._setup_delays = setup_delays
        self._stop = asyncio.Event()
        self._clients: ClientContext | None = None
        self.workers: list[EnvoyWorker] = []
        self._views: dict[int, EnvoyView] = {}
        ha = settings.homeassistant
        self.controls = ControlFlags(
            grid_relay=settings.controls.grid_relay,
            dry_contacts=settings.controls.dry_contacts,
            storage=settings.controls.storage,
        )
        options = DiscoveryOptions(
            base_topic=settings.mqtt.base_topic,
            discovery_prefix=ha.discovery_prefix,
            mode=ha.discovery_mode,
            controls=self.controls,
            id_prefix=id_prefix,
            bridge_state_topic=self.topics.bridge_state,
        )
        self.output = EnvoyPublisher(
            self.publisher,
            self.topics,
            LifetimeGuard(),
            options if ha.enabled else None,
        )
        self.commands = CommandExecutor(self.find_worker, self.controls)
        named = settings.instance is not None
        self.router = CommandRouter(
            self.session,
            self.commands.handle,
            ha_status_topic=ha.status_topic if ha.enabled else None,
            on_ha_online=self._republish_everything,
            max_payload=settings.mqtt.max_command_bytes,
            per_envoy=named,
            accepts=self._serves_serial if named else None,
        )
        # Several instances on one base topic: Envoys are served only once owned.
        self.fleet = (
            FleetMember(
                self.session,
                self.router,
                settings,
                workers=lambda: self.workers,
                forget=lambda worker: self.output.forget(self.view(worker)),
                on_change=self.refresh_info,
                retry=ownership_retry,
                takeover_delay=takeover_delay,
            )
            if named
            else None
        )

    def stop(self) -> None:
        """Ask :meth:`run` to shut down gracefully (safe from a signal handler)."""
        self._stop.set()

    def view(self, worker: EnvoyWorker) -> EnvoyView:
        """The publishing state of ``worker``."""
        return self._views[id(worker)]

    def find_worker(self, serial_level: str) -> EnvoyWorker | None:
        """The worker whose (sanitised) serial is the topic level ``serial_level``."""
        for worker in self.workers:
            if worker.serial is not None and sanitize_level(worker.serial) == serial_level:
                return worker
        return None

    def serves(self, worker: EnvoyWorker) -> bool:
        """Whether this bridge publishes for ``worker``'s Envoy (named instances: owned)."""
        return self.fleet is None or self.fleet.owns(worker)

    def _serves_serial(self, serial: str) -> bool:
        return self.fleet is not None and self.fleet.ownership.owns(serial)

    async def run(self) -> None:
        """Run until :meth:`stop` or cancellation.

        Raises:
            MqttFatalError: the broker refused the first connection (credentials, TLS).
        """
        await self.router.install()
        if self.fleet is not None:
            await self.fleet.install()
        self.session.add_on_connect(self._on_connect)
        session_task = asyncio.create_task(self.session.run(), name="mqtt-session")
        try:
            await self._first_connect(session_task)
            await self._serve()
        finally:
            await self._shutdown(session_task)

    async def _first_connect(self, session_task: asyncio.Task[None]) -> None:
        connected = asyncio.create_task(self.session.wait_connected())
        stopping = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait(
                {session_task, connected, stopping}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
            stopping.cancel()
        if session_task.done():
            session_task.result()  # raises MqttFatalError

    async def _serve(self) -> None:
        if self._stop.is_set():
            return
        fast = (e.intervals.fast for e in self.settings.envoys)
        self._clients = ClientContext.open(
            fast, self.settings.enlighten, self.settings.token_cache_dir
        )
        self._make_workers(self._clients)
        await self._publish_info()
        tasks = [
            asyncio.create_task(self._scan(), name="retained-scan"),
            asyncio.create_task(self.publisher.run(), name="republish"),
            asyncio.create_task(self._health_loop(), name="health"),
            *(self.fleet.start() if self.fleet is not None else ()),
            *(
                asyncio.create_task(self._supervise(w), name=f"envoy-{w.host}")
                for w in self.workers
            ),
        ]
        runner = None
        try:
            runner = await self._start_health_http()
            await self._stop.wait()
        finally:
            await cancel_and_wait(tasks)
            if runner is not None:
                await runner.cleanup()

    def _make_workers(self, context: ClientContext) -> None:
        for envoy in self.served:
            worker = EnvoyWorker(
                self._factory(envoy, context),
                self,
                host=envoy.host,
                name=envoy.name,
                intervals=(envoy.intervals.fast, envoy.intervals.normal, envoy.intervals.slow),
                configured_serial=envoy.serial,
                grace=envoy.grace(),
                setup_delays=self._setup_delays,
                watch_offsets=self.settings.controls.storage_watch,
                gate=self.fleet.gate if self.fleet is not None else None,
                firmware_check=envoy.intervals.firmware,
            )
            self.workers.append(worker)
            self._views[id(worker)] = EnvoyView()

    async def _supervise(self, worker: EnvoyWorker) -> None:
        # A bug in one Envoy's handling must not stop the others: log, wait, start again.
        while True:
            try:
                if self.fleet is None:
                    await worker.run()
                else:
                    await self.fleet.run_worker(worker)  # returns when the Envoy was lost
                    continue
            except Exception as exc:
                _LOGGER.exception("envoy worker crashed host=%s", worker.host)
                worker.stats.error(f"internal error: {type(exc).__name__}")
                await asyncio.sleep(self._setup_delays[1])

    async def _scan(self) -> None:
        filters = [f"{self.topics.base}/+/#"]
        if self.settings.homeassistant.enabled:
            filters.append(f"{self.settings.homeassistant.discovery_prefix}/#")
        try:
            scan = await scan_retained(self.settings.mqtt, filters)
            serials = [w.serial for w in self.workers if w.serial]
            self.output.seed_guard(scan, serials)
            self.output.scan = scan
        finally:
            self.output.scan_done.set()

    async def _on_connect(self) -> None:
        # Runs inside the session's connect sequence: never wait for incoming messages here.
        await self._republish_everything()

    async def _republish_everything(self) -> None:
        # Discovery configs are not stored (only digests): rebuilt from each Envoy's data.
        for worker in self.workers:
            await self._guarded(self.output.rediscover(worker, self.view(worker)))
        await self.publisher.republish_all()

    async def _health_loop(self) -> None:
        interval = self.settings.publish.health_interval
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            self.stats.messages_published = self.session.stats.published
            payload = health_payload(self.stats, [w.stats for w in self.workers])
            await self.session.publish(self.topics.bridge_health, encode_payload(payload), qos=0)

    async def _start_health_http(self) -> web.AppRunner | None:
        port = self.settings.health.port
        if port is None:
            return None
        view = HealthView(
            stats=self.stats,
            # Named instances: only the Envoys served now (the owner reports the others).
            envoys=lambda: [w.stats for w in self.workers if self.serves(w)],
            mqtt_connected=lambda: self.session.connected,
            published=lambda: self.session.stats.published,
        )
        try:
            return await start_health_server(view, self.settings.health.bind, port)
        except OSError as exc:
            # Optional endpoint: the bridge keeps running; a container HEALTHCHECK will say so.
            _LOGGER.error(
                "health endpoint not started bind=%s port=%d error=%s",
                self.settings.health.bind,
                port,
                error_text(exc),
            )
            return None

    def info_payload(self) -> dict[str, object]:
        """The ``bridge/info`` JSON (settings in force without secrets, Envoys)."""
        return info_payload(self.settings, self.workers, self.fleet)

    async def _publish_info(self) -> None:
        await self.publisher.publish(self.topics.bridge_info, self.info_payload())

    async def refresh_info(self) -> None:
        """Publish ``bridge/info`` again (ownership changed); never raises."""
        await self._guarded(self._publish_info())

    # -- WorkerListener -------------------------------------------------------------------

    async def envoy_ready(self, worker: EnvoyWorker, snapshot: EnvoySnapshot) -> None:
        """Publish discovery and states after a (re-)probe."""
        if self.fleet is not None and not self.fleet.owns(worker):
            # Re-probed as another serial (gateway replaced): claim that one first.
            self.fleet.restart(worker)
            return
        await self._guarded(self.output.announce(worker, self.view(worker), snapshot))
        await self._guarded(self._publish_info())

    async def envoy_updated(
        self, worker: EnvoyWorker, snapshot: EnvoySnapshot, groups: set[str]
    ) -> None:
        """Publish what a poll or a command re-read changed."""
        if not self.serves(worker):
            return
        await self._guarded(self.output.update(worker, self.view(worker), snapshot, groups))

    async def envoy_availability(self, worker: EnvoyWorker, online: bool) -> None:
        """Publish an availability change and refresh ``bridge/info``."""
        if not self.serves(worker):
            return
        _LOGGER.info(
            "envoy availability host=%s serial=%s online=%s", worker.host, worker.serial, online
        )
        await self._guarded(self.output.availability(worker, online=online))
        await self._guarded(self._publish_info())

    async def _guarded(self, work: Awaitable[None]) -> None:
        # Publishing problems must not kill a poll loop; the session reconnects by itself.
        try:
            await work
        except Exception as exc:
            self.stats.last_error = f"{type(exc).__name__}: {error_text(exc)}"
            _LOGGER.exception("publishing failed")

    async def _shutdown(self, session_task: asyncio.Task[None]) -> None:
        await self.router.close()
        for worker in self.workers:
            if worker.serial is not None and self.serves(worker) and self.session.connected:
                with contextlib.suppress(Exception):
                    await self.session.publish(
                        self.topics.availability(worker.serial), b"offline", qos=1, retain=True
                    )
        if self.fleet is not None and self.session.connected:
            with contextlib.suppress(Exception):
                await self.fleet.release_all()
        if not session_task.done():
            await self.session.stop()
        session_task.cancel()
        with contextlib.suppress(BaseException):
            await session_task
        for worker in self.workers:
            await worker.close()
        if self._clients is not None:
            await self._clients.close()
        _LOGGER.info("bridge stopped")
