"""One Envoy's life in the bridge: setup with retries, tiered poll loops, availability.

The worker knows the Envoy client and nothing of MQTT: it reports to a
:class:`WorkerListener` (the bridge) when the Envoy became ready (probe done: publish
discovery), when data was read, and when availability changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence

from envoy2mqtt.bridge.clients import ClientLike
from envoy2mqtt.bridge.health import EnvoyStats
from envoy2mqtt.bridge.listener import Gate, WorkerListener
from envoy2mqtt.bridge.loops import TierLoops, watchdog
from envoy2mqtt.bridge.poll_budget import PollBudget, off_budget
from envoy2mqtt.bridge.poll_rules import (
    classify,
    describe,
    failure_kind,
    reread_server_errors,
    retry_budget,
    server_error,
    warn_if_grace_too_short,
)
from envoy2mqtt.bridge.schedule import (
    FIRMWARE_CHECK,
    Availability,
    Tier,
    TierName,
    plan_tiers,
)
from envoy2mqtt.bridge.tariff_watch import DEFAULT_OFFSETS, TariffWatcher, read_tariff
from envoy2mqtt.bridge.tasks import cancel_and_wait
from envoy2mqtt.envoy.command_types import Command
from envoy2mqtt.envoy.errors import EnvoyError
from envoy2mqtt.envoy.firmware import EnvoyInfo
from envoy2mqtt.envoy.snapshot import EnvoySnapshot, UpdateResult
from envoy2mqtt.envoy.transport import RetryBudget
from envoy2mqtt.logs import error_text
from envoy2mqtt.settings.envoy import default_grace

_LOGGER = logging.getLogger(__name__)


class EnvoyWorker:
    """Polls one Envoy in three independent tiers and tracks its availability."""

    def __init__(
        self,
        client: ClientLike,
        listener: WorkerListener[EnvoyWorker],
        *,
        host: str,
        intervals: tuple[float, float, float],
        name: str | None = None,
        configured_serial: str | None = None,
        grace: float | None = None,
        setup_delays: tuple[float, float] = (1.0, 60.0),
        watch_offsets: Sequence[float] = DEFAULT_OFFSETS,
        gate: Gate[EnvoyWorker] | None = None,
        firmware_check: float = FIRMWARE_CHECK,
    ) -> None:
        """Create a worker (it does nothing until :meth:`run`).

        Args:
            client: the Envoy client.
            listener: where results go.
            host: the configured host (for logs and ``bridge/info``).
            name: the configured friendly name (the HA gateway device's name).
            intervals: fast, normal and slow poll periods in seconds.
            configured_serial: serial from the config, used before /info is known.
            grace: seconds without a successful poll before ``offline`` (default:
                :func:`~envoy2mqtt.settings.envoy.default_grace` of the normal interval).
            setup_delays: first and maximum delay between setup attempts.
            watch_offsets: seconds after a storage write at which the tariff is re-read.
            gate: awaited before the Envoy is contacted (configured serial) or right after
                its setup (serial from /info); see :data:`Gate`.
            firmware_check: seconds between two /info re-checks (firmware tier).
        """
        self.client = client
        self.host = host
        self.name = name
        self.configured_serial = configured_serial
        self.stats = EnvoyStats(host=host, serial=configured_serial)
        self._listener = listener
        self._intervals = intervals
        self._setup_delays = setup_delays
        self._firmware_check = firmware_check
        self._tiers: dict[TierName, Tier] = {}
        self._loops = TierLoops(host, self._poll_tier, lambda: self._tiers)
        self.availability = Availability(
            grace=default_grace(intervals[1]) if grace is None else grace
        )
        self.stale: set[str] = set()
        self.snapshot: EnvoySnapshot | None = None
        """The newest snapshot from the client (None before the first setup)."""
        self.ready = asyncio.Event()
        self.polled: set[TierName] = set()
        self._was_online = False
        # Serialises availability changes with state reports, see _report().
        self._report_lock = asyncio.Lock()
        self._unreported: set[str] = set()
        self.tariff_watch = TariffWatcher(
            lambda: read_tariff(self._update),
            lambda: self._report({"tariff"}),
            watch_offsets,
            describe=lambda: f"host={self.host} serial={self.serial} firmware={self.firmware}",
        )
        self._gate = gate

    @property
    def info(self) -> EnvoyInfo | None:
        """``/info`` as soon as it answered, also if setup failed later (before a snapshot)."""
        return self.client.info

    @property
    def firmware(self) -> str | None:
        """The firmware version from /info, once known."""
        info = self.info
        return None if info is None else info.firmware

    @property
    def serial(self) -> str | None:
        """The Envoy's serial: from /info once known, else the configured one."""
        info = self.info
        return info.serial if info is not None and info.serial else self.configured_serial

    def _take(self, snapshot: EnvoySnapshot) -> EnvoySnapshot:
        """Keep ``snapshot`` if it is newer than the one held; returns the newest."""
        if self.snapshot is None or snapshot.seq > self.snapshot.seq:
            self.snapshot = snapshot
        return self.snapshot

    @property
    def first_round_done(self) -> bool:
        """Whether every tier has completed (or failed) one poll since the last probe."""
        return bool(self._tiers) and set(self._tiers) <= self.polled

    @property
    def tiers(self) -> list[Tier]:
        """The current tier plan (empty before setup)."""
        return list(self._tiers.values())

    async def run(self) -> None:
        """Set up (retrying) and poll until cancelled."""
        if self._gate is not None and self.configured_serial:
            await self._gate(self)  # no request to an Envoy this instance may not serve
        await self._setup_until_ready()
        tasks = [
            asyncio.create_task(self._loops.loop(name), name=f"poll-{self.host}-{name}")
            for name in list(self._tiers)
        ]
        guard = watchdog(lambda: self.availability, self._changed)
        tasks.append(asyncio.create_task(guard, name=f"watchdog-{self.host}"))
        try:
            await asyncio.gather(*tasks)
        finally:
            await cancel_and_wait(tasks)
            await self.tariff_watch.stop()

    def reset(self) -> None:
        """Forget the poll state (before :meth:`run` starts again after an interruption)."""
        self.availability = Availability(grace=self.availability.grace)
        self.stats.online = False
        self._set_stale(set())
        self.ready.clear()
        self.polled.clear()
        self._tiers = {}
        self._loops.clear()
        self._was_online = False
        self._unreported.clear()

    async def close(self) -> None:
        """Close the client's HTTP resources."""
        with contextlib.suppress(Exception):
            await self.client.close()

    async def execute(self, command: Command) -> set[str]:
        """Send ``command``; the client re-reads the affected groups, which are then reported.

        Raises:
            EnvoyError: the command was rejected (nothing sent), refused or not delivered.
        """
        try:
            written = await self.client.execute(command)
        except EnvoyError as exc:
            self.stats.commands_failed += 1
            self.stats.error(describe(exc))
            raise
        self.stats.commands_ok += 1
        snapshot, groups = self._take(written.snapshot), written.groups
        if groups:
            self._set_stale(self.stale - groups)
            await self._listener.envoy_updated(self, snapshot, groups)
        return groups

    async def _update(
        self, groups: Sequence[str], budget: RetryBudget | None = None
    ) -> UpdateResult:
        result = await self.client.update(groups=groups, budget=budget)
        self._take(result.snapshot)
        return result

    async def _setup_until_ready(self) -> None:
        delay, max_delay = self._setup_delays
        first = True
        while True:
            try:
                snapshot = self._take(await self.client.setup())
            except (EnvoyError, TimeoutError, OSError) as exc:
                self.stats.error(describe(exc))
                _LOGGER.warning(
                    "envoy setup failed host=%s retry_in=%.1fs error=%s",
                    self.host,
                    delay,
                    describe(exc),
                )
                self.availability.failure(asyncio.get_running_loop().time(), failure_kind(exc))
                if first:
                    # Availability starts offline; say so once so consumers see a state.
                    await self._announce(False)
                first = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay)
                continue
            if self._gate is not None and await self._gate(self):
                continue  # waited for the Envoy: set up again for fresh data
            self.stats.answered()
            await self._after_probe(snapshot)
            return

    async def _after_probe(self, snapshot: EnvoySnapshot) -> None:
        fast, normal, slow = self._intervals
        tiers = plan_tiers(fast, normal, slow, list(snapshot.probe.groups), self._firmware_check)
        self._tiers = {t.name: t for t in tiers}
        warn_if_grace_too_short(self.host, tiers, self.availability.grace)
        self.stats.serial = self.serial
        _LOGGER.info(
            "envoy ready host=%s serial=%s tiers=%s",
            self.host,
            self.serial,
            ",".join(f"{t.name}:{'+'.join(t.groups) or 'info'}" for t in tiers),
        )
        self.ready.set()
        with off_budget():  # a re-probe on the firmware tier announces discovery
            await self._listener.envoy_ready(self, snapshot)

    def _set_stale(self, groups: set[str]) -> None:
        self.stale = groups
        self.stats.stale = sorted(groups)

    async def _changed(self, changed: bool) -> None:
        """Announce the availability if ``changed`` (what evaluating it returned)."""
        if changed:
            self.stats.online = self.availability.online
            await self._announce(self.availability.online)

    async def _announce(self, online: bool) -> None:
        with off_budget():
            async with self._report_lock:
                await self._listener.envoy_availability(self, online)

    async def _report(self, groups: set[str]) -> None:
        # Tiers run concurrently: another tier may have taken the Envoy offline since this
        # poll read its data. Nothing is published while offline (a consumer would see new
        # values after "offline"); what was read goes out with the next successful poll.
        with off_budget():  # publishing is no part of the Envoy's answer time
            async with self._report_lock:
                if not self.availability.online:
                    self._unreported |= groups
                    return
                groups, self._unreported = groups | self._unreported, set()
                if self.snapshot is not None:
                    await self._listener.envoy_updated(self, self.snapshot, groups)

    async def _poll_tier(self, tier: Tier) -> None:
        budget = PollBudget(tier.budget)
        try:
            async with budget:
                retries = retry_budget(tier)
                probed = await self.client.refresh_info(budget=retries) if tier.check_info else None
                if probed is not None:
                    await self._reprobe(probed)
                    return
                if tier.groups:
                    await self._poll_groups(list(tier.groups), tier.name, retries, budget)
                else:
                    self.polled.add(tier.name)
        except (EnvoyError, TimeoutError, OSError) as exc:
            self.polled.add(tier.name)
            if budget.expired() and tier.groups:
                await self._tier_overran(tier)
            else:
                await self._poll_failed(exc, tier.groups)

    async def _tier_overran(self, tier: Tier) -> None:
        # A request still hanging when the budget ran out proves nothing about the Envoy's
        # reachability (other tiers may be answering): its groups are stale, and only the
        # grace period (no successful poll at all) may take the Envoy offline.
        self._set_stale(self.stale | set(tier.groups))
        self.stats.poll_failed(f"no answer within the {tier.name} budget of {tier.budget:g} s")
        for group in tier.groups:
            _LOGGER.warning(
                "group stale host=%s group=%s error=no answer within %gs",
                self.host,
                group,
                tier.budget,
            )
        await self._changed(self.availability.evaluate(asyncio.get_running_loop().time()))
        await self._report(set())

    async def _reprobe(self, snapshot: EnvoySnapshot) -> None:
        # refresh_info() has already re-authenticated and re-probed; re-plan and re-announce.
        _LOGGER.info("envoy changed, re-planning host=%s serial=%s", self.host, self.serial)
        self.stale.clear()
        self.polled.clear()
        await self._after_probe(self._take(snapshot))

    async def _poll_groups(
        self,
        groups: list[str],
        tier: TierName | None = None,
        retries: RetryBudget | None = None,
        deadline: PollBudget | None = None,
    ) -> None:
        result = await self._update(groups, retries)
        ok, failed = set(result.ok), dict[str, BaseException](result.failed)
        if failed and not ok and all(classify(e) is not None for e in failed.values()):
            # Nothing answered (or auth is gone): a whole-poll failure, not a stale group.
            raise next(iter(failed.values()))
        if ok:
            await self._read_ok()
        report = set(ok)
        if deadline is not None and any(server_error(e) for e in failed.values()):
            if ok:
                # The groups read are published now, not after the re-reads of the others.
                self._set_stale(self.stale - ok)
                await self._report(ok)
            report, failed = await reread_server_errors(self._update, failed, deadline, retries)
            if report and not ok:
                await self._read_ok()
            ok |= report
        self._set_stale((self.stale - ok) | set(failed))
        for group, error in failed.items():
            _LOGGER.warning(
                "group stale host=%s group=%s error=%s", self.host, group, error_text(error)
            )
        if not ok:
            # The Envoy answered, with errors only: stale data, availability unchanged.
            self.stats.poll_failed(describe(next(iter(failed.values()))))
        await self._report(report)
        if tier is not None:
            # Only now: orphans are cleared once every tier has polled, and this tier's
            # devices must have been announced by then.
            self.polled.add(tier)

    async def _read_ok(self) -> None:
        self.stats.poll_ok()
        if self.availability.success(asyncio.get_running_loop().time()):
            self.stats.online = True
            if self._was_online:
                self._loops.abandon_others()
                # Back after an outage: it may have rebooted into new firmware.
                self._loops.wake(TierName.FIRMWARE)
            self._was_online = True
            await self._announce(True)

    async def _poll_failed(self, exc: BaseException, groups: Iterable[str]) -> None:
        text = describe(exc)
        self.stats.poll_failed(text)
        _LOGGER.warning(
            "poll failed host=%s groups=%s error=%s", self.host, ",".join(groups) or "info", text
        )
        now = asyncio.get_running_loop().time()
        kind = classify(exc)
        await self._changed(
            self.availability.failure(now, kind)
            if kind is not None
            else self.availability.evaluate(now)
        )
