"""Per-Envoy publishing: state topics, discovery configs, availability and clean-up.

Every pass for one Envoy runs under that Envoy's lock and computes the complete topic set
from the client's current data, so that "clear what is no longer there" never races with
a concurrent pass of another poll tier.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import msgspec

from envoy2mqtt.bridge.clock import clock_of
from envoy2mqtt.bridge.daily_guard import DailyGuard
from envoy2mqtt.bridge.lifetime_guard import LifetimeGuard
from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.catalog.discovery import (
    DiscoveryOptions,
    discovery_payloads,
    with_removed_components,
)
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.catalog.state_topics import volatile_keys
from envoy2mqtt.catalog.topics import Topics, sanitize_level
from envoy2mqtt.envoy.snapshot import EnvoySnapshot
from envoy2mqtt.mqtt.publisher import StatePublisher
from envoy2mqtt.mqtt.retained import RetainedScan

_LOGGER = logging.getLogger(__name__)

ONLINE = "online"
OFFLINE = "offline"


def snapshot_of(worker: EnvoyWorker, envoy: EnvoySnapshot | None = None) -> Snapshot | None:
    """The catalogue's view of ``envoy`` (default: the worker's newest), None before setup."""
    envoy = envoy or worker.snapshot
    if envoy is None:
        return None
    last_poll = worker.stats.last_poll_at
    return Snapshot.of(
        envoy,
        name=worker.name,
        last_poll=round(last_poll) if last_poll else None,
        host=worker.host,
        settings_control=worker.tariff_watch.control.value,
    )


@dataclass
class EnvoyView:
    """What the bridge has published for one Envoy."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    serial: str | None = None
    # Discovery topic -> its components' platforms (key -> platform; empty for one-entity
    # configs): all a later removal needs. Full configs are rebuilt from the snapshot.
    discovery: dict[str, dict[str, str]] = field(default_factory=dict)
    announced: bool = False
    orphans_checked: bool = False
    newest: EnvoySnapshot | None = None

    def take(self, snapshot: EnvoySnapshot | None) -> EnvoySnapshot | None:
        """The newer of ``snapshot`` and the newest one seen (passes wait on the lock)."""
        if snapshot is not None and (self.newest is None or snapshot.seq > self.newest.seq):
            self.newest = snapshot
        return self.newest


class EnvoyPublisher:
    """Turns a worker's data into retained MQTT state and discovery."""

    def __init__(
        self,
        publisher: StatePublisher,
        topics: Topics,
        guard: LifetimeGuard,
        discovery: DiscoveryOptions | None,
        daily: DailyGuard | None = None,
    ) -> None:
        """Publish through ``publisher``; ``discovery`` None disables HA discovery."""
        self._publisher = publisher
        self._topics = topics
        self._guard = guard
        self.daily = daily or DailyGuard()
        self._discovery = discovery
        self.scan: RetainedScan | None = None
        self.scan_done = asyncio.Event()

    async def availability(self, worker: EnvoyWorker, *, online: bool) -> None:
        """Publish ``<base>/<sn>/availability``; an Envoy without any known serial is skipped."""
        serial = worker.serial
        if serial is None:
            _LOGGER.warning(
                "availability not published host=%s reason=serial unknown online=%s",
                worker.host,
                online,
            )
            return
        await self._publisher.publish(
            self._topics.availability(serial), ONLINE if online else OFFLINE
        )

    async def announce(self, worker: EnvoyWorker, view: EnvoyView, envoy: EnvoySnapshot) -> None:
        """After a (re-)probe: discovery and all states (orphans wait for the first round)."""
        view.take(envoy)
        async with view.lock:
            newest = view.newest
            snapshot = snapshot_of(worker, newest)
            if newest is None or snapshot is None:
                return
            await self._moved(view, snapshot.serial)
            _LOGGER.info("envoy day serial=%s %s", snapshot.serial, clock_of(newest).describe())
            await self._publish_discovery(snapshot, view)
            await self._publish_states(worker, newest, snapshot)
            view.announced = True

    async def rediscover(self, worker: EnvoyWorker, view: EnvoyView) -> None:
        """Send every discovery config again, rebuilt from current data (reconnect, HA birth)."""
        async with view.lock:
            snapshot = snapshot_of(worker, view.newest)
            if snapshot is None or not view.announced:
                return
            await self._publish_discovery(snapshot, view, force=True)

    async def update(
        self, worker: EnvoyWorker, view: EnvoyView, envoy: EnvoySnapshot, groups: set[str]
    ) -> None:
        """After a poll: publish changed states (and discovery when devices may change)."""
        view.take(envoy)
        async with view.lock:
            newest = view.newest
            snapshot = snapshot_of(worker, newest)
            if newest is None or snapshot is None:
                return
            if not view.announced:
                return
            if groups - {"meters", "livedata"}:
                await self._publish_discovery(snapshot, view)
            await self._publish_states(worker, newest, snapshot)
        if not view.orphans_checked and worker.first_round_done:
            # Only now is everything this run publishes known (each tier has polled once).
            view.orphans_checked = True
            await self._clear_orphans(view)

    async def _publish_states(
        self, worker: EnvoyWorker, envoy: EnvoySnapshot, snapshot: Snapshot
    ) -> None:
        payloads = state_payloads(snapshot)
        if worker.stale and "gateway" in payloads:
            payloads["gateway"] = {**payloads["gateway"], "stale": sorted(worker.stale)}
        serial = snapshot.serial
        keep = {self._topics.availability(serial)}
        day = clock_of(envoy).day(time.time())
        for suffix, payload in payloads.items():
            topic = self._topics.state(serial, suffix)
            keep.add(topic)
            # The daily guard reads the raw lifetime values (rule 2b), so it goes first.
            daily = self.daily.filter(topic, suffix, payload, day)
            await self._publisher.publish(
                topic, self._guard.filter(topic, suffix, daily), volatile=volatile_keys(suffix)
            )
        removed = await self._publisher.clear_missing(self._topics.device_prefix(serial), keep)
        if removed:
            self._guard.forget(removed)
            self.daily.forget(removed)
            _LOGGER.info("states cleared serial=%s topics=%s", serial, ",".join(removed))

    async def _publish_discovery(
        self, snapshot: Snapshot, view: EnvoyView, *, force: bool = False
    ) -> None:
        if self._discovery is None:
            return
        current = discovery_payloads(snapshot, self._discovery)
        configs = with_removed_components(_announced_configs(view.discovery), current)
        for topic, config in configs.items():
            # Not on the re-publish timer: HA reloads entities for every config it receives.
            # Only a digest is kept (configs are large); rediscover() rebuilds them.
            await self._publisher.publish(topic, config, periodic=False, keep=False, force=force)
        for topic in sorted(set(view.discovery) - set(current)):
            await self._publisher.clear(topic)
            _LOGGER.info("discovery cleared serial=%s topic=%s", snapshot.serial, topic)
        view.discovery = {topic: _platforms(config) for topic, config in current.items()}

    async def _moved(self, view: EnvoyView, serial: str) -> None:
        # The host now answers with another serial (replaced gateway): retire the old one.
        old, view.serial = view.serial, serial
        if old is None or old == serial:
            return
        _LOGGER.warning("envoy serial changed old=%s new=%s", old, serial)
        await self._publisher.publish(self._topics.availability(old), OFFLINE)
        await self._publisher.clear_missing(self._topics.device_prefix(old), ())
        for topic in view.discovery:
            await self._publisher.clear(topic)
        view.discovery = {}

    async def _clear_orphans(self, view: EnvoyView) -> None:
        """Clear retained topics of a previous run that this run no longer publishes."""
        await self.scan_done.wait()
        scan = self.scan
        if scan is None or not scan.complete or view.serial is None:
            return
        root = self._topics.device_prefix(view.serial)
        ours = self._publisher.topics(root) | set(view.discovery)
        found = set(scan.under(root))
        if self._discovery is not None:
            found |= scan.discovery_for(self._discovery.discovery_prefix, root)
        own = {self._topics.availability(view.serial), self._topics.owner(view.serial)}
        orphans = sorted(found - ours - own)
        for topic in orphans:
            await self._publisher.clear(topic)
            scan.messages.pop(topic, None)
        if orphans:
            _LOGGER.info("orphans cleared serial=%s count=%d", view.serial, len(orphans))

    def forget(self, view: EnvoyView) -> None:
        """Stop re-publishing an Envoy another instance now serves (its topics stay)."""
        if view.serial is not None:
            self._publisher.forget(self._publisher.topics(self._topics.device_prefix(view.serial)))
        self._publisher.forget(view.discovery)
        view.discovery = {}
        view.announced = False
        view.orphans_checked = False
        view.newest = None

    def seed_guard(self, scan: RetainedScan, serials: list[str]) -> None:
        """Take lifetime and daily counters from the retained states of the previous run."""
        for serial in serials:
            root = self._topics.device_prefix(sanitize_level(serial))
            for topic, payload in scan.under(root).items():
                decoded = _json_object(payload)
                if decoded is not None:
                    suffix = topic[len(root) + 1 :]
                    self._guard.seed(topic, suffix, decoded)
                    self.daily.seed(topic, suffix, decoded)


def _platforms(config: dict[str, object]) -> dict[str, str]:
    """Component key -> platform of a device-mode discovery config ({} otherwise)."""
    components = config.get("cmps")
    if not isinstance(components, dict):
        return {}
    return {key: str(c.get("platform")) for key, c in components.items()}


def _announced_configs(announced: dict[str, dict[str, str]]) -> dict[str, dict[str, object]]:
    """The announced configs as far as :func:`with_removed_components` reads them."""
    return {
        topic: {"cmps": {key: {"platform": p} for key, p in platforms.items()}}
        for topic, platforms in announced.items()
        if platforms
    }


def _json_object(payload: bytes) -> dict[str, object] | None:
    try:
        value = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, dict) else None
