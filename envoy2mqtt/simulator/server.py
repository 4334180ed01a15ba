"""A simulated Envoy: an aiohttp server for one fixture directory, with faults and state.

Example:
    async with EnvoySimulator("fixtures/8.3.5169_with_generator") as sim:
        token = sim.issue_token()
        ...  # talk to sim.url; assert on sim.requests

One simulator listens on one port. Starting many is cheap: the fixture files are read and
parsed once per process (:func:`~envoy2mqtt.simulator.state.shared_store`) and TLS
certificates are generated once per serial.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from envoy2mqtt.simulator import handler
from envoy2mqtt.simulator.cloud_tariff import CloudTariff
from envoy2mqtt.simulator.digest import DigestVerifier
from envoy2mqtt.simulator.faults import ACTION_KINDS, Fault, FaultKind, FaultSet
from envoy2mqtt.simulator.fixture_store import FixtureMode
from envoy2mqtt.simulator.livedata import DEFAULT_STREAM_SECONDS, LiveDataSource, offers_livedata
from envoy2mqtt.simulator.passwords import legacy_users
from envoy2mqtt.simulator.requestlog import RequestLog
from envoy2mqtt.simulator.state import DeviceState, shared_store
from envoy2mqtt.simulator.tls import ServerCertificate, certificate_for
from envoy2mqtt.simulator.tokens import (
    DEFAULT_ACCOUNTS,
    Enlighten,
    EnlightenAccount,
    TokenAuthority,
)

_LOG = logging.getLogger(__name__)


class EnvoySimulator:
    """One fake Envoy (plus a fake Enlighten cloud) listening on ``host:port``."""

    def __init__(
        self,
        fixture: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool | None = None,
        mode: FixtureMode | str = FixtureMode.DEVICE,
        token_lifetime: float | None = None,
        accounts: Iterable[EnlightenAccount] = DEFAULT_ACCOUNTS,
        live_seed: int | None = None,
        clock: Callable[[], float] = time.time,
        livedata: bool | None = None,
        livedata_stream_seconds: float = DEFAULT_STREAM_SECONDS,
    ) -> None:
        """Prepare (but do not start) a simulator.

        Args:
            fixture: fixture directory (``fixtures/<firmware>[_variant]``).
            host: address to listen on.
            port: port to listen on; 0 picks a free one (kept across stop/resume).
            tls: serve HTTPS; None decides by firmware (>= 7 HTTPS, else HTTP).
            mode: ``device`` (each URL from its own capture) or ``golden`` (pyenphase's rules).
            token_lifetime: seconds a new token lives; None = owner 1 year, installer 12 h.
            accounts: fake Enlighten accounts.
            live_seed: start with live values seeded with this (None = static values).
            clock: wall clock in epoch seconds, for token expiry and fault durations.
            livedata: serve ``/ivp/livedata/status``; None: on in ``device`` mode for
                firmware >= 7 with an Enpower or enabled CTs, off in ``golden`` mode (see
                :mod:`envoy2mqtt.simulator.livedata`).
            livedata_stream_seconds: how long one stream enable request lasts.
        """
        store = shared_store(Path(fixture).resolve(), FixtureMode(mode))
        self.state = DeviceState(store)
        self.clock = clock
        self.host = host
        self._port = port
        self._tls = tls
        self.tokens = TokenAuthority(self.state.serial, clock=clock, lifetime=token_lifetime)
        self.enlighten = Enlighten.with_accounts(self.tokens, accounts)
        self.digest = DigestVerifier(legacy_users(self.state.serial))
        self.faults = FaultSet()
        self.cloud = CloudTariff(self.state, clock)
        self.requests = RequestLog()
        self.state.set_live(live_seed)
        # Golden mode reproduces what the goldens were made from: no synthesised endpoints.
        default = FixtureMode(mode) is FixtureMode.DEVICE and offers_livedata(self.state)
        wanted = default if livedata is None else livedata
        self.livedata: LiveDataSource | None = (
            LiveDataSource(self.state, clock, livedata_stream_seconds) if wanted else None
        )
        self._runner: web.ServerRunner | None = None
        self._site: web.SockSite | None = None
        self._release = asyncio.Event()
        self._timers: set[asyncio.Task[None]] = set()

    # -- identity -------------------------------------------------------------------------

    @property
    def serial(self) -> str:
        """Gateway serial number."""
        return self.state.serial

    @property
    def firmware(self) -> str:
        """Current firmware (changes if a reboot says so)."""
        return self.state.firmware

    @property
    def tls(self) -> bool:
        """True when serving HTTPS."""
        return self.state.uses_tokens if self._tls is None else self._tls

    @property
    def port(self) -> int:
        """The listening port (valid after :meth:`start`)."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``https://127.0.0.1:40123``."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self._port}"

    @property
    def certificate(self) -> ServerCertificate:
        """The self-signed certificate presented over HTTPS."""
        return certificate_for(self.serial)

    def client_ssl_context(self) -> ssl.SSLContext | None:
        """A verifying client SSL context that trusts this simulator (None over HTTP)."""
        return self.certificate.client_context() if self.tls else None

    @property
    def listening(self) -> bool:
        """True while connections are accepted."""
        return self._site is not None

    @property
    def cloud_calls(self) -> int:
        """Requests made to the fake Enlighten (login + token)."""
        return self.enlighten.cloud_calls

    def status(self) -> dict[str, Any]:
        """Return a JSON-able summary (also served at ``/__sim__/status``)."""
        return {
            "serial": self.serial,
            "firmware": self.firmware,
            "url": self.url,
            "auth": "token" if self.state.uses_tokens else "digest",
            "listening": self.listening,
            "live": self.state.live,
            "cloud_calls": self.cloud_calls,
            "login_calls": self.enlighten.login_calls,
            "token_calls": self.enlighten.token_calls,
            "active_tokens": self.tokens.active_tokens,
            "requests": len(self.requests),
            "cloud_pushes": self.cloud.pushes,
            "livedata": None
            if self.livedata is None
            else {
                "streaming": self.livedata.streaming,
                "stream_requests": self.livedata.stream_requests,
            },
        }

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving; returns once the port accepts connections."""
        # Cancelling handlers whose client went away ends hung requests when the client gives up.
        server = web.Server(self._handle, access_log=None, handler_cancellation=True)
        self._runner = web.ServerRunner(server, shutdown_timeout=1.0)
        await self._runner.setup()
        await self.resume_listening()
        _LOG.info("sim started serial=%s firmware=%s url=%s", self.serial, self.firmware, self.url)

    async def stop(self) -> None:
        """Stop serving and release everything (hung requests end, timers are cancelled)."""
        for timer in list(self._timers):
            timer.cancel()
        self.cloud.cancel()
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner, self._site = None, None

    async def __aenter__(self) -> EnvoySimulator:
        """Start on entry."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on exit."""
        await self.stop()

    async def stop_listening(self) -> None:
        """Refuse connections: close the listening socket and every open connection."""
        if self._site is None or self._runner is None:
            return
        site, self._site = self._site, None
        await site.stop()
        self._wake()
        server = self._runner.server
        for connection in server.connections if server is not None else ():
            connection.close()
        _LOG.info("sim refusing connections serial=%s port=%d", self.serial, self._port)

    async def resume_listening(self) -> None:
        """Accept connections again, on the same port (and the scheme the firmware wants)."""
        if self._site is not None or self._runner is None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        context = self.certificate.context if self.tls else None
        site = web.SockSite(self._runner, sock, ssl_context=context)
        await site.start()
        self._site = site

    # -- behaviour switches ---------------------------------------------------------------

    async def inject(self, fault: Fault) -> Fault:
        """Add a fault; ``refused`` and ``reboot`` happen now, the others apply to requests."""
        if fault.kind not in ACTION_KINDS:
            added = self.faults.add(fault, self.clock())
            _LOG.info(
                "sim fault added serial=%s kind=%s path=%s", self.serial, fault.kind, fault.path
            )
            if fault.kind is FaultKind.UNAUTHORIZED:
                self.revoke_tokens()
            return added
        if fault.kind is FaultKind.REBOOT:
            await self.reboot(firmware=fault.firmware, downtime=fault.seconds)
        else:
            await self.stop_listening()
            if fault.seconds > 0:
                self._later(fault.seconds, self.resume_listening)
        return fault

    def clear_faults(self) -> None:
        """Remove every fault rule, release requests that hang, drop a pending cloud push."""
        self.faults.clear()
        self.cloud.cancel()
        self._wake()

    async def reboot(self, firmware: str | None = None, downtime: float = 0.0) -> None:
        """Reboot: counters reset, tokens revoked, optionally new firmware and some downtime."""
        if firmware is not None:
            self.state.set_firmware(firmware)
        scheme_changed = self._site is not None and self._site.name.startswith("https") != self.tls
        self.state.reset_counters()
        if self.livedata is not None:
            self.livedata.reset()
        self.revoke_tokens()
        self.digest.forget_nonces()
        _LOG.info(
            "sim reboot serial=%s firmware=%s downtime=%s", self.serial, self.firmware, downtime
        )
        if downtime > 0 or scheme_changed:
            await self.stop_listening()
            if downtime > 0:
                self._later(downtime, self.resume_listening)
            else:
                await self.resume_listening()

    def tariff_written(self, before: dict[str, Any] | None) -> None:
        """An accepted tariff PUT: a ``cloud_revert`` rule has it undone later."""
        fault = self.faults.take_after(FaultKind.CLOUD_REVERT, "/admin/lib/tariff", self.clock())
        if fault is not None:
            self.cloud.written(before, fault.seconds)

    def revoke_tokens(self) -> None:
        """Invalidate every token and check_jwt session (clients get 401 until re-auth)."""
        self.tokens.revoke_all()

    def end_sessions(self) -> None:
        """Forget every check_jwt session but keep the tokens valid (see ``TokenAuthority``)."""
        self.tokens.end_sessions()

    def issue_token(self, username: str = "owner@example.com", user_type: str = "owner") -> str:
        """Mint a valid token without a cloud call (e.g. a token given in the client config)."""
        return self.tokens.issue(username, user_type)

    def set_clock(self, epoch: int) -> None:
        """Let the gateway's clock read ``epoch`` (``/info`` ``<time>``) from now on."""
        self.state.set_clock(epoch)

    def set_live(self, seed: int | None) -> None:
        """Turn live values on (deterministic for a seed) or off (None)."""
        self.state.set_live(seed)

    def document(self, path: str) -> Any:
        """Return the current JSON document served for ``path`` (None if there is none)."""
        return self.state.doc(self.state.store.resolve(path))

    async def wait_scheduled(self) -> None:
        """Wait until scheduled actions (resuming after ``refused``/reboot downtime) ran."""
        while self._timers:
            await asyncio.gather(*self._timers, return_exceptions=True)

    # -- internals ------------------------------------------------------------------------

    async def pause(self, seconds: float | None) -> None:
        """Wait ``seconds`` (None = indefinitely) or until faults are cleared or we stop."""
        release = self._release
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), seconds)

    def _wake(self) -> None:
        self._release.set()
        self._release = asyncio.Event()

    def _later(self, seconds: float, action: Callable[[], Any]) -> None:
        async def run() -> None:
            await asyncio.sleep(seconds)
            await action()

        task = asyncio.get_running_loop().create_task(run())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        return await handler.handle(self, request)
