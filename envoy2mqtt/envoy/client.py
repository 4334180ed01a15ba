"""``EnvoyClient``: one Envoy behind one object (identify, authenticate, probe, read, write).

The client wires the transport, the authentication scheme chosen from ``/info`` and the data
collector together, and owns the recovery rules: ``/info`` over HTTPS with HTTP fallback,
re-authentication after a 401 with the interrupted read retried, and re-probing after a
firmware change. It knows nothing of MQTT.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Protocol

import aiohttp
import msgspec

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.auth.cache import TokenCache
from envoy2mqtt.envoy.auth.choice import AuthWatch, Credentials
from envoy2mqtt.envoy.auth.enlighten import LOGIN_URL, TOKEN_URL, EnlightenClient
from envoy2mqtt.envoy.auth.errors import DigestCredentialsRejected
from envoy2mqtt.envoy.auth.legacy import DigestAuth
from envoy2mqtt.envoy.auth.token import DEFAULT_REFRESH_MARGIN, TokenAuth
from envoy2mqtt.envoy.command_types import Command
from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationRequired,
    EnvoyError,
    EnvoyProbeFailed,
)
from envoy2mqtt.envoy.fetch import Fetcher
from envoy2mqtt.envoy.firmware import EnvoyInfo
from envoy2mqtt.envoy.home import EnvoyHome, read_home
from envoy2mqtt.envoy.info_read import EnvoySerialMismatch, check_serial, read_info
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.probe import DataCollector, ProbeResult
from envoy2mqtt.envoy.snapshot import EnvoySnapshot, UpdateResult, WriteResult
from envoy2mqtt.envoy.transport import (
    DATA_BUDGET,
    DEFAULT_TIMEOUT,
    INFO_BUDGET,
    HttpTransport,
    RetryBudget,
    budget_scope,
)
from envoy2mqtt.secret import Secret

_LOGGER = logging.getLogger(__name__)


class Collector(Protocol):
    """What the client needs from the data side (``envoy.probe.DataCollector``)."""

    async def probe(self, fetcher: Fetcher) -> ProbeResult:
        """Discover the Envoy's data sources; returns the probe result."""
        ...

    async def update(
        self, fetcher: Fetcher, data: EnvoyData, groups: Collection[str] | None = None
    ) -> Mapping[str, EnvoyError]:
        """Read ``groups`` (all when None) into ``data``; returns per-group errors."""
        ...


CollectorFactory = Callable[[EnvoyInfo], Collector]


def _default_collector(info: EnvoyInfo) -> Collector:
    return DataCollector(info)


class EnvoyClient:
    """Async client for one Envoy; see the module docstring for the recovery rules."""

    def __init__(
        self,
        host: str,
        *,
        username: str | None = None,
        password: Secret | str | None = None,
        token: Secret | str | None = None,
        serial: str | None = None,
        session: aiohttp.ClientSession | None = None,
        token_cache_dir: str | Path | None = None,
        login_url: str = LOGIN_URL,
        token_url: str = TOKEN_URL,
        timeout: float = DEFAULT_TIMEOUT,
        budget: RetryBudget = DATA_BUDGET,
        info_budget: RetryBudget = INFO_BUDGET,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        enlighten: EnlightenClient | None = None,
        owns_enlighten: bool = False,
        collector_factory: CollectorFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Configure the client; no I/O happens until :meth:`setup`.

        Args:
            host: name or IP, optional ``:port``, optional ``http://``/``https://`` scheme.
            username: Enlighten e-mail (FW >= 7) or local user (FW < 7).
            password: the matching password.
            token: a pre-obtained Envoy token (FW >= 7).
            serial: expected gateway serial; setup fails if ``/info`` reports another one.
            session: aiohttp session to share (not closed by :meth:`close`).
            token_cache_dir: directory for cached tokens (None: no cache).
            login_url: Enlighten login endpoint.
            token_url: Enlighten token endpoint.
            timeout: total seconds per local request attempt.
            budget: retry budget for data requests.
            info_budget: retry budget for reading ``/info``.
            refresh_margin: renew tokens this many seconds before expiry.
            enlighten: a shared Enlighten client (overrides ``login_url``/``token_url``).
            owns_enlighten: close ``enlighten`` in :meth:`close` (made for this client alone).
            collector_factory: builds the data collector (default ``probe.DataCollector``).
            clock: epoch-seconds clock (tests).

        Raises:
            ValueError: ``host`` is not a valid host.
        """
        self.transport = HttpTransport(host, session=session, timeout=timeout, budget=budget)
        self.host = host
        self._serial = serial
        self._owns_enlighten = enlighten is None or owns_enlighten
        self._enlighten = enlighten or EnlightenClient(login_url, token_url, session=session)
        self._credentials = Credentials(
            self._enlighten,
            username,
            Secret.of(password),
            Secret.of(token),
            TokenCache(token_cache_dir) if token_cache_dir else None,
            refresh_margin,
            clock,
        )
        self._info_budget = info_budget
        self._collector_factory = collector_factory or _default_collector
        self._clock = clock
        self._collector: Collector | None = None
        self._auth: DigestAuth | TokenAuth | None = None
        # polls of several tiers run concurrently: one re-authentication serves them all
        self._auth_lock = asyncio.Lock()
        self._auth_generation = 0
        self.info: EnvoyInfo | None = None
        self.home: EnvoyHome | None = None
        self.clock_offset = 0.0
        """The gateway's clock minus ours (seconds), from the last ``/info`` ``<time>``."""
        self.probe_result: ProbeResult | None = None
        self.data = EnvoyData()
        """The working data the collector reads into; hand-offs use :meth:`snapshot`."""
        self._seq = 0

    @property
    def auth_mode(self) -> str | None:
        """``digest`` or ``token`` once set up, else None."""
        return self._auth.mode if self._auth else None

    @property
    def token_expires_at(self) -> float | None:
        """Expiry of the token in use (epoch seconds); None for digest or before setup."""
        return self._auth.expires_at if self._auth else None

    @property
    def token_type(self) -> str | None:
        """``owner``/``installer`` for token auth, else None."""
        return self._auth.token_type if isinstance(self._auth, TokenAuth) else None

    def snapshot(self) -> EnvoySnapshot:
        """The client's state now, as an immutable snapshot with its own copy of the data.

        Raises:
            RuntimeError: before :meth:`setup` succeeded.
        """
        if self.info is None or self.probe_result is None:
            msg = "EnvoyClient.setup() must succeed before a snapshot"
            raise RuntimeError(msg)
        self._seq += 1
        return EnvoySnapshot(
            seq=self._seq,
            info=self.info,
            probe=self.probe_result,
            # Updaters assign new values and never mutate stored ones: a shallow copy is
            # enough to keep this snapshot as it is while the next poll fills self.data.
            data=msgspec.structs.replace(self.data),
            home=self.home,
            clock_offset=self.clock_offset,
            auth_mode=self.auth_mode,
            token_type=self.token_type,
            token_expires_at=self.token_expires_at,
        )

    async def setup(self) -> EnvoySnapshot:
        """Identify the Envoy, authenticate and probe its data sources.

        Raises:
            EnvoyFirmwareError: ``/info`` unreadable; :class:`EnvoySerialMismatch` on a swap.
            EnvoyCommunicationError: the Envoy cannot be reached.
            EnvoyAuthenticationError: authentication cannot succeed (subclass names the cause).
            EnvoyProbeFailed: no production data source was found.
        """
        info = await self.connect()
        await self._probe(info)
        return self.snapshot()

    async def connect(self) -> EnvoyInfo:
        """Identify and authenticate without probing (raw access, e.g. for dumps).

        Raises:
            As :meth:`setup`, except :class:`EnvoyProbeFailed`.
        """
        info = await self.read_info()
        check_serial(self.host, self._serial, info)
        self.info = info
        await self._authenticate(info)
        return info

    async def read_info(self) -> EnvoyInfo:
        """Read ``/info`` (HTTPS first, HTTP on transport failure, retried with backoff)."""
        info = await read_info(self.transport, self._info_budget)
        if info.time is not None:
            self.clock_offset = info.time - self._clock()
        return info

    async def refresh_info(self, *, budget: RetryBudget | None = None) -> EnvoySnapshot | None:
        """Re-read ``/info``; on a firmware or serial change re-authenticate and re-probe.

        Args:
            budget: retry budget for every request of this call (None: the defaults).

        Returns:
            The snapshot after the re-probe when firmware or serial changed, else None.
        """
        with budget_scope(budget):
            return await self._refresh_info()

    async def _refresh_info(self) -> EnvoySnapshot | None:
        info = await self.read_info()
        check_serial(self.host, self._serial, info)
        previous, self.info = self.info, info
        if previous is not None and (previous.firmware, previous.serial) == (
            info.firmware,
            info.serial,
        ):
            return None
        _LOGGER.warning(
            "envoy changed host=%s firmware=%s->%s serial=%s->%s",
            self.host,
            previous.firmware if previous else None,
            info.firmware,
            previous.serial if previous else None,
            info.serial,
        )
        await self._authenticate(info)
        # Same gateway (firmware update, reboot): keep the last good values until the groups
        # are read again, so consumers never see them vanish or counters start from nothing.
        await self._probe(info, keep_data=previous is not None and previous.serial == info.serial)
        return self.snapshot()

    async def update(
        self, groups: Collection[str] | None = None, *, budget: RetryBudget | None = None
    ) -> UpdateResult:
        """Read ``groups`` (all probed groups when None) into :attr:`data`.

        A 401 is answered by re-authentication and the affected groups are read again in
        the same call, so no poll is lost.

        Args:
            groups: data group names; None reads every group the probe activated.
            budget: retry budget for this poll's requests (e.g. tighter for a fast tier);
                None uses the client's default.

        Raises:
            EnvoyAuthenticationError: re-authentication failed (the poll could not be made).
        """
        with budget_scope(budget):
            return await self._update(groups)

    async def _update(self, groups: Collection[str] | None) -> UpdateResult:
        auth, collector, _ = self._ready()
        async with self._auth_lock:
            if await auth.refresh_if_due(self.transport):
                self._auth_generation += 1
        seen = self._auth_generation
        failed = await self._collect(collector, groups)
        refused = {g for g, e in failed.items() if isinstance(e, EnvoyAuthenticationRequired)}
        if refused and self._worth_recovering(refused, groups):
            await self._recover(auth, seen)
            retried = await self._collect(collector, refused)
            failed = {g: e for g, e in failed.items() if g not in refused} | dict(retried)
        # groups the probe did not activate are skipped by the collector: neither ok nor failed
        active = _probed_groups(self.probe_result)
        requested = active if groups is None else (set(groups) & active if active else set(groups))
        ok = requested - set(failed)
        return UpdateResult(snapshot=self.snapshot(), ok=ok, failed=dict(failed))

    async def execute(self, command: Command) -> WriteResult:
        """Validate and send ``command``, then re-read the groups it affects.

        Returns:
            Those groups and the snapshot after their re-read.

        Raises:
            EnvoyCommandRejected: invalid value (nothing sent).
            EnvoyFeatureNotAvailable: the Envoy lacks the feature (nothing sent).
            EnvoyHTTPStatusError: the Envoy refused the write.
        """
        auth, _, probe = self._ready()
        commands.validate(command, probe, self.data)
        seen = self._auth_generation
        try:
            groups = await commands.execute(self.transport, command, probe, self.data)
        except EnvoyAuthenticationRequired:
            # a refused write was not applied, so sending it again after re-auth is safe
            await self._recover(auth, seen)
            groups = await commands.execute(self.transport, command, probe, self.data)
        result = {str(g) for g in groups}
        if not result:
            return WriteResult(result, self.snapshot())
        return WriteResult(result, (await self.update(groups=sorted(result))).snapshot)

    async def _recover(self, auth: DigestAuth | TokenAuth, seen: int) -> None:
        """Re-authenticate once for all tasks that hit a 401 under auth generation ``seen``."""
        async with self._auth_lock:
            if self._auth_generation != seen:
                return  # a concurrent poll already recovered; just retry
            await auth.recover(self.transport)
            self._auth_generation += 1

    async def close(self) -> None:
        """Release HTTP sessions this client created."""
        await self.transport.close()
        if self._owns_enlighten:
            await self._enlighten.close()

    async def _authenticate(self, info: EnvoyInfo) -> None:
        auth = self._credentials.auth_for(info)
        self.transport.auth = auth
        self._auth = auth
        self._auth_generation += 1
        await auth.authenticate(self.transport)

    async def _probe(self, info: EnvoyInfo, *, keep_data: bool = False) -> None:
        collector = self._collector_factory(info)
        watch = AuthWatch(self.transport)
        try:
            probe_result = await collector.probe(watch)
        except EnvoyAuthenticationRequired:
            # token: the session may have been dropped since authenticate(); digest: raises
            assert self._auth is not None
            await self._auth.recover(self.transport)
            probe_result = await collector.probe(self.transport)
        except EnvoyProbeFailed:
            if isinstance(self._auth, DigestAuth) and watch.refused and not watch.answered:
                await self._auth.recover(self.transport)  # raises DigestCredentialsRejected
            raise
        self._collector = collector
        self.probe_result = probe_result
        self.home = await read_home(self.transport)
        if not keep_data:
            self.data = EnvoyData()
        _LOGGER.info("envoy probed host=%s serial=%s", self.host, info.serial)

    async def _collect(
        self, collector: Collector, groups: Collection[str] | None
    ) -> Mapping[str, EnvoyError]:
        try:
            return await collector.update(self.transport, self.data, groups)
        except EnvoyAuthenticationRequired as exc:
            # a collector that lets the 401 escape loses the per-group detail; charge all
            names = set(groups) if groups is not None else _probed_groups(self.probe_result)
            return dict.fromkeys(names or {"*"}, exc)

    def _worth_recovering(self, refused: set[str], groups: Collection[str] | None) -> bool:
        if isinstance(self._auth, TokenAuth):
            return True
        # Legacy firmware answers 401 on single endpoints it does not serve to this user;
        # only a refusal of everything means the digest credentials are wrong.
        requested = set(groups) if groups is not None else _probed_groups(self.probe_result)
        return not requested or refused >= requested

    def _ready(self) -> tuple[DigestAuth | TokenAuth, Collector, ProbeResult]:
        if self._auth is None or self._collector is None or self.probe_result is None:
            msg = "EnvoyClient.setup() must succeed before this call"
            raise RuntimeError(msg)
        return self._auth, self._collector, self.probe_result


def _probed_groups(probe_result: ProbeResult | None) -> set[str]:
    """Names of the data groups the probe activated (empty before the probe)."""
    return set() if probe_result is None else set(probe_result.groups)


__all__ = [
    "DigestCredentialsRejected",
    "EnvoyClient",
    "EnvoySerialMismatch",
    "UpdateResult",
    "WriteResult",
]
