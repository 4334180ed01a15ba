"""A small programmable fake Envoy + Enlighten (aiohttp on 127.0.0.1) for transport/auth tests.

Unlike the full simulator it serves hand-written pages and exposes knobs the client tests
need: which tokens are valid, revoking sessions, hanging endpoints, digest users, TLS.
Fixture: ``fake_envoy`` -> ``async start(**kwargs) -> FakeEnvoy`` (all stopped at teardown).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ipaddress
import re
import secrets
import socket
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import jwt
import msgspec
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from envoy2mqtt.envoy.errors import EnvoyAuthenticationRequired, EnvoyError, EnvoyProbeFailed
from envoy2mqtt.envoy.models.data import SystemEnergy

OPEN_PATHS = frozenset({"/info", "/home"})
TOKEN_SECRET = b"fake-envoy-test-secret-0123456789"

INFO_XML = """<?xml version="1.0" encoding="utf-8"?>
<envoy_info><time>1752974744</time><device><sn>{serial}</sn><pn>800-00654-r08</pn>
<software>{firmware}</software><imeter>true</imeter></device>
<web-tokens>{web_tokens}</web-tokens></envoy_info>"""


def make_token(
    serial: str,
    *,
    expires_in: float = 365 * 86400.0,
    user_type: str = "owner",
    now: float | None = None,
) -> str:
    """Return a JWT shaped like an entrez token for ``serial``."""
    issued = time.time() if now is None else now
    claims = {
        "aud": serial,
        "iss": "Entrez",
        "enphaseUser": user_type,
        "username": "owner@example.com",
        "iat": int(issued),
        "exp": int(issued + expires_in),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, TOKEN_SECRET, algorithm="HS256")


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def timed_out_attempts(caplog: pytest.LogCaptureFixture, method: str, path: str) -> int:
    """Attempts the transport made that ended in its timeout (one debug line each).

    Counted at the transport, not at the server: under CPU load an attempt's timeout can
    run out before its request has reached the server's handler.
    """
    line = f"http method={method} path={path} error=timeout "
    return sum(r.getMessage().startswith(line) for r in caplog.records)


def _self_signed() -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "envoy-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
    return context


_DIGEST_PAIR = re.compile(r'(\w+)="?([^",]*)"?')


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    peer_port: int


@dataclass
class Account:
    """A fake Enlighten login."""

    password: str
    user_type: str = "owner"
    mfa: bool = False


@dataclass
class FakeEnvoy:
    """State and knobs of one fake; ``base`` is ``127.0.0.1:<port>``."""

    serial: str = "122112123456"
    firmware: str = "D8.3.1598"
    digest_users: dict[str, str] | None = None
    pages: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)
    handlers: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = field(
        default_factory=dict
    )
    accounts: dict[str, Account] = field(
        default_factory=lambda: {"owner@example.com": Account("owner-pw")}
    )
    token_lifetime: float = 365 * 86400.0
    token_serial: str | None = None
    valid_tokens: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    requests: list[Seen] = field(default_factory=list)
    login_calls: int = 0
    token_calls: int = 0
    base: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _nonces: set[str] = field(default_factory=set)

    @property
    def uses_tokens(self) -> bool:
        """True for token firmware (no digest users configured)."""
        return self.digest_users is None

    def issue(self, *, expires_in: float | None = None, user_type: str = "owner") -> str:
        """Issue a token the fake accepts."""
        token = make_token(
            self.token_serial or self.serial,
            expires_in=self.token_lifetime if expires_in is None else expires_in,
            user_type=user_type,
        )
        self.valid_tokens.add(token)
        return token

    def revoke(self) -> None:
        """Forget all tokens and sessions (like a firmware update)."""
        self.valid_tokens.clear()
        self.sessions.clear()

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [r.path for r in self.requests]

    async def hang(self, _request: web.Request) -> web.StreamResponse:
        """Handler that never answers until the test ends."""
        await self.release.wait()
        return web.Response(status=504)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Route one request."""
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(
            Seen(request.method, request.path_qs, dict(request.headers), peer[1] if peer else 0)
        )
        if request.path_qs in self.handlers:
            return await self.handlers[request.path_qs](request)
        if request.path == "/info":
            web_tokens = "true" if self.uses_tokens else "false"
            xml = INFO_XML.format(serial=self.serial, firmware=self.firmware, web_tokens=web_tokens)
            return web.Response(body=xml.encode(), content_type="text/xml")
        if request.path == "/login/login.json":
            return await self._login(request)
        if request.path == "/tokens":
            return await self._tokens(request)
        if request.path == "/auth/check_jwt":
            return self._check_jwt(request)
        if request.path not in OPEN_PATHS and not self._authorized(request):
            return self._unauthorized()
        status, body, content_type = self.pages.get(
            request.path_qs, (404, b"Not Found", "text/plain")
        )
        return web.Response(status=status, body=body, content_type=content_type)

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.uses_tokens:
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token in self.valid_tokens:
                return True
            return request.cookies.get("sessionId") in self.sessions
        return self._digest_ok(request.method, header)

    def _unauthorized(self) -> web.Response:
        if self.uses_tokens:
            return web.json_response({"status": 401}, status=401)
        nonce = secrets.token_hex(8)
        self._nonces.add(nonce)
        challenge = f'Digest realm="enphaseenergy.com", qop="auth", nonce="{nonce}"'
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})

    def _digest_ok(self, method: str, header: str) -> bool:
        if not header.startswith("Digest "):
            return False
        params = dict(_DIGEST_PAIR.findall(header[7:]))
        password = (self.digest_users or {}).get(params.get("username", ""))
        if password is None or params.get("nonce") not in self._nonces:
            return False

        def md5(*parts: str) -> str:
            return hashlib.md5(":".join(parts).encode()).hexdigest()

        ha1 = md5(params["username"], params.get("realm", ""), password)
        ha2 = md5(method, params.get("uri", ""))
        expected = md5(
            ha1, params["nonce"], params.get("nc", ""), params.get("cnonce", ""), "auth", ha2
        )
        return expected == params.get("response")

    def _check_jwt(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.valid_tokens:
            return web.Response(status=401, text="Invalid token.")
        session = secrets.token_hex(8)
        self.sessions.add(session)
        response = web.Response(text="Valid token.")
        response.set_cookie("sessionId", session)
        return response

    async def _login(self, request: web.Request) -> web.Response:
        self.login_calls += 1
        form = dict(parse_qsl((await request.read()).decode()))
        account = self.accounts.get(form.get("user[email]", ""))
        if account is None or account.password != form.get("user[password]"):
            return web.json_response({"message": "Invalid email or password"}, status=401)
        if account.mfa:
            return web.json_response({"message": "success", "requires_mfa": True})
        return web.json_response({"message": "success", "session_id": f"sess-{account.user_type}"})

    async def _tokens(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        body = await request.json()
        if not str(body.get("session_id", "")).startswith("sess-"):
            return web.Response(status=401, text="bad session")
        user_type = body["session_id"].removeprefix("sess-")
        return web.Response(text=self.issue(user_type=user_type))


@pytest.fixture
async def fake_envoy() -> AsyncIterator[Callable[..., Awaitable[FakeEnvoy]]]:
    """Start fakes on 127.0.0.1; ``tls=True`` serves HTTPS with a self-signed certificate."""
    runners: list[tuple[web.AppRunner, FakeEnvoy]] = []

    async def start(*, tls: bool = False, **kwargs: object) -> FakeEnvoy:
        fake = FakeEnvoy(**kwargs)  # type: ignore[arg-type]
        server = web.Server(fake.handle)
        runner = web.ServerRunner(server)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=_self_signed() if tls else None)
        await site.start()
        port = runner.addresses[0][1]
        fake.base = f"127.0.0.1:{port}"
        runners.append((runner, fake))
        return fake

    yield start
    for runner, fake in runners:
        fake.release.set()
        await runner.cleanup()


PRODUCTION_PATH = "/api/v1/production"


def production_page(watts: int) -> tuple[int, bytes, str]:
    """A ``/api/v1/production`` page reporting ``watts``."""
    body = (
        f'{{"wattHoursToday": 10, "wattHoursSevenDays": 70, '
        f'"wattHoursLifetime": 1000, "wattsNow": {watts}}}'
    )
    return 200, body.encode(), "application/json"


@dataclass
class FakeProbeResult:
    """Stands in for ``envoy.probe.ProbeResult`` in client tests."""

    groups: frozenset[str] = frozenset({"production"})


class FakeCollector:
    """Minimal data collector: one group read from ``/api/v1/production``."""

    def __init__(self, info: object) -> None:
        self.info = info
        self.probes = 0

    async def probe(self, fetcher: object) -> FakeProbeResult:
        self.probes += 1
        try:
            await fetcher.request("GET", PRODUCTION_PATH)  # type: ignore[attr-defined]
        except EnvoyAuthenticationRequired:
            raise EnvoyProbeFailed("no production source") from None
        return FakeProbeResult()

    async def update(self, fetcher: object, data: object, groups: object = None) -> dict:
        try:
            response = await fetcher.request("GET", PRODUCTION_PATH)  # type: ignore[attr-defined]
        except EnvoyError as err:
            return {"production": err}
        doc = msgspec.json.decode(response.body)
        data.system_production = SystemEnergy(  # type: ignore[attr-defined]
            watt_hours_lifetime=doc["wattHoursLifetime"],
            watt_hours_last_7_days=doc["wattHoursSevenDays"],
            watt_hours_today=doc["wattHoursToday"],
            watts_now=doc["wattsNow"],
        )
        return {}
