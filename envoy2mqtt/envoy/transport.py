"""aiohttp transport for one Envoy host; implements :class:`envoy2mqtt.envoy.fetch.Fetcher`.

Local Envoy traffic uses self-signed certificates and old TLS stacks, answers slowly and
has daily outages; this module owns the consequences: no certificate verification for the
local host, tolerant ciphers, connect/total timeouts, bounded body reads, no redirects, and
retries (randomised exponential backoff) of GET requests on transport failures only.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import aiohttp
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)
from yarl import URL

from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationRequired,
    EnvoyCommunicationError,
    EnvoyMalformedResponse,
    EnvoyTimeoutError,
)
from envoy2mqtt.envoy.fetch import Response
from envoy2mqtt.envoy.net_errors import describe_client_error

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 16 * 1024 * 1024
DEFAULT_TIMEOUT = 45.0
CONNECT_TIMEOUT = 10.0
_CHUNK = 64 * 1024
_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class RetryBudget:
    """How hard to retry transport failures: whichever of attempts/seconds runs out first.

    Attributes:
        attempts: total tries including the first one (1 = no retry).
        seconds: stop retrying once this long has passed since the first try.
        max_wait: cap of one randomised exponential backoff step, in seconds.
        multiplier: scale of the exponential backoff.
    """

    attempts: int = 6
    seconds: float = 150.0
    max_wait: float = 5.0
    multiplier: float = 2.0


DATA_BUDGET = RetryBudget()
INFO_BUDGET = RetryBudget(attempts=4, seconds=50.0)
NO_RETRY = RetryBudget(attempts=1, seconds=0.0)

# A per-task override: concurrent polls of different tiers share one transport but each
# brings its own (tighter) budget.
_BUDGET_OVERRIDE: ContextVar[RetryBudget | None] = ContextVar("envoy_budget", default=None)


@contextlib.contextmanager
def budget_scope(budget: RetryBudget | None) -> Iterator[None]:
    """Use ``budget`` for every request of the current task inside the ``with`` block.

    ``None`` keeps the transport's default. An explicit ``budget=`` argument still wins.
    """
    token = _BUDGET_OVERRIDE.set(budget) if budget is not None else None
    try:
        yield
    finally:
        if token is not None:
            _BUDGET_OVERRIDE.reset(token)


def scoped_budget() -> RetryBudget | None:
    """The budget set by an enclosing :func:`budget_scope` in this task, if any."""
    return _BUDGET_OVERRIDE.get()


@dataclass(frozen=True, slots=True)
class HostAddress:
    """A configured Envoy host: optional forced scheme plus ``host[:port]``."""

    scheme: str | None
    authority: str


def parse_host(host: str) -> HostAddress:
    """Parse ``envoy.local``, ``10.0.0.5:8443`` or ``https://10.0.0.5`` into a :class:`HostAddress`.

    Raises:
        ValueError: the value is empty, has an unknown scheme, a path, a query or credentials.
    """
    text = host.strip()
    scheme: str | None = None
    if "://" in text:
        scheme, _, text = text.partition("://")
        scheme = scheme.lower()
        if scheme not in _SCHEMES:
            msg = f"invalid envoy host {host!r}: scheme must be http or https"
            raise ValueError(msg)
    text = text.rstrip("/")
    try:
        url = URL(f"http://{text}")
    except ValueError as exc:
        msg = f"invalid envoy host {host!r}: {exc}"
        raise ValueError(msg) from None
    if not text or not url.host or url.path not in ("", "/") or url.query_string or url.user:
        msg = f"invalid envoy host {host!r}: expected a name or IP with optional :port"
        raise ValueError(msg)
    return HostAddress(scheme=scheme, authority=text)


def local_ssl_context() -> ssl.SSLContext:
    """Return a TLS context for the Envoy: no verification, tolerant of old cipher suites."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # Python's default cipher list drops suites that older gateway firmware still offers.
    context.set_ciphers("DEFAULT")
    context.options |= ssl.OP_NO_COMPRESSION
    return context


class RequestAuth(Protocol):
    """What the transport needs from an authentication scheme for each local request."""

    def headers(self) -> Mapping[str, str]:
        """Extra headers (Authorization, Cookie) for the next request."""
        ...

    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        """aiohttp client middlewares (digest auth) for the next request."""
        ...

    def remember_cookies(self, cookies: Mapping[str, str]) -> None:
        """Store cookies the Envoy set, to send them on later requests."""
        ...


class NoAuth:
    """Unauthenticated requests (``/info``, before authentication)."""

    def headers(self) -> Mapping[str, str]:
        """No extra headers."""
        return {}

    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        """No middlewares."""
        return ()

    def remember_cookies(self, cookies: Mapping[str, str]) -> None:
        """Cookies are not needed without authentication."""


@dataclass(frozen=True, slots=True)
class FullResponse:
    """A response plus its headers (for dumps and cookie handling)."""

    response: Response
    headers: tuple[tuple[str, str], ...]
    url: str


class HttpTransport:
    """Sends requests to one Envoy over one shared keep-alive aiohttp session."""

    def __init__(
        self,
        host: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        budget: RetryBudget = DATA_BUDGET,
        max_body: int = DEFAULT_MAX_BODY,
        auth: RequestAuth | None = None,
    ) -> None:
        """Prepare a transport for ``host`` (see :func:`parse_host`); no I/O happens here.

        Args:
            host: Envoy host, optionally with ``:port`` and an ``http://``/``https://`` scheme
                that forces the scheme.
            session: an existing aiohttp session to share; it is not closed by :meth:`close`.
            timeout: total seconds for one attempt (connect, send, read the body).
            connect_timeout: seconds to establish the connection.
            budget: default retry budget for :meth:`request`.
            max_body: largest accepted response body in bytes.
            auth: authentication applied to each request; replaceable via :attr:`auth`.
        """
        address = parse_host(host)
        self.host = host
        self.forced_scheme = address.scheme
        self.scheme = address.scheme or "https"
        self.authority = address.authority
        self.budget = budget
        self.max_body = max_body
        self.auth: RequestAuth = auth or NoAuth()
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._session = session
        self._owns_session = session is None
        self._ssl = local_ssl_context()

    def url(self, path: str, scheme: str | None = None) -> str:
        """Return the absolute URL of ``path`` on this Envoy."""
        return f"{scheme or self.scheme}://{self.authority}{path}"

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        """Send one request (the :class:`Fetcher` method); only GET is retried."""
        full = await self.request_full(method, path, body=body)
        return full.response

    async def request_full(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        scheme: str | None = None,
        budget: RetryBudget | None = None,
        raise_on_auth: bool = True,
    ) -> FullResponse:
        """Send one request and return the response with its headers.

        Raises:
            EnvoyTimeoutError: every attempt timed out (or the last one did).
            EnvoyCommunicationError: every attempt failed at the transport level.
            EnvoyAuthenticationRequired: 401/403 and ``raise_on_auth`` (never retried).
            EnvoyMalformedResponse: the body exceeded ``max_body`` (never retried).
        """
        plan = budget or _BUDGET_OVERRIDE.get() or self.budget
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(plan.attempts, 1)) | stop_after_delay(plan.seconds),
            wait=wait_random_exponential(multiplier=plan.multiplier, max=plan.max_wait),
            retry=retry_if_exception(partial(_retryable, method)),
            before_sleep=_log_retry(method, path),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, path, body, scheme, raise_on_auth)
        raise AssertionError("tenacity returned without result")  # pragma: no cover

    async def close(self) -> None:
        """Close the session if this transport created it."""
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Cookies are handled explicitly (aiohttp's jar ignores cookies of bare-IP hosts).
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._owns_session = True
        return self._session

    async def _once(
        self,
        method: str,
        path: str,
        body: bytes | None,
        scheme: str | None,
        raise_on_auth: bool,
    ) -> FullResponse:
        url = self.url(path, scheme)
        headers = {"Accept": "application/json", **self.auth.headers()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            async with self._client().request(
                method,
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=self._timeout,
                ssl=self._ssl if url.startswith("https") else True,
                middlewares=_middlewares(method, self.auth),
            ) as resp:
                payload = await read_bounded(resp, self.max_body, path)
                self._remember_cookies(resp)
                status = resp.status
                content_type = resp.headers.get("Content-Type", "")
                raw_headers = tuple((k, v) for k, v in resp.headers.items())
        except TimeoutError as exc:
            ms = (time.monotonic() - started) * 1000
            _LOGGER.debug("http method=%s path=%s error=timeout ms=%.1f", method, path, ms)
            msg = f"timeout after {ms / 1000:.1f} s on {method} {url}"
            raise EnvoyTimeoutError(msg) from exc
        except aiohttp.ClientError as exc:
            _LOGGER.debug("http method=%s path=%s error=%s", method, path, exc.__class__.__name__)
            msg = f"{method} {url} failed: {describe_client_error(exc)}"
            raise EnvoyCommunicationError(msg) from exc
        ms = (time.monotonic() - started) * 1000
        _LOGGER.debug("http method=%s path=%s status=%s ms=%.1f", method, path, status, ms)
        if raise_on_auth and status in (401, 403):
            raise EnvoyAuthenticationRequired(status, path)
        response = Response(status=status, body=payload, content_type=content_type, elapsed_ms=ms)
        return FullResponse(response=response, headers=raw_headers, url=url)

    def _remember_cookies(self, resp: aiohttp.ClientResponse) -> None:
        cookies = {name: morsel.value for name, morsel in resp.cookies.items()}
        if cookies:
            self.auth.remember_cookies(cookies)


class WriteConnectionLost(aiohttp.ClientConnectionError):
    """The connection of a write broke; raised instead of letting aiohttp resend the write."""


async def _send_once(
    req: aiohttp.ClientRequest, handler: ClientHandlerType
) -> aiohttp.ClientResponse:
    # aiohttp silently resends PUT/DELETE once when the server drops the connection; a
    # different ClientError type ends the request instead (the caller reports the failure).
    try:
        return await handler(req)
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        msg = f"connection lost during {req.method}: {describe_client_error(exc)}"
        raise WriteConnectionLost(msg) from exc


def _middlewares(method: str, auth: RequestAuth) -> tuple[ClientMiddlewareType, ...]:
    """The auth middlewares, wrapped for writes so that nothing below resends them."""
    if method.upper() == "GET":
        return auth.middlewares()
    return (_send_once, *auth.middlewares())


def _retryable(method: str, error: BaseException) -> bool:
    """Only reads are retried, and only after transport failures.

    A write (POST/PUT/DELETE) whose connection failed may already have been applied by the
    Envoy (or half-applied, which can crash it), so writes are sent exactly once.
    """
    return method.upper() == "GET" and isinstance(error, EnvoyCommunicationError)


async def read_bounded(resp: aiohttp.ClientResponse, limit: int, path: str) -> bytes:
    """Read the body but never more than ``limit`` bytes (a broken device must not eat RAM)."""
    length = resp.content_length
    if length is not None and length > limit:
        raise EnvoyMalformedResponse(path, f"body of {length} bytes exceeds the {limit} limit")
    chunks: list[bytes] = []
    total = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        total += len(chunk)
        if total > limit:
            resp.close()
            raise EnvoyMalformedResponse(path, f"body exceeds the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _log_retry(method: str, path: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        _LOGGER.debug(
            "http retry method=%s path=%s attempt=%d wait=%.2f error=%s",
            method,
            path,
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
            error.__class__.__name__ if error else "none",
        )

    return before_sleep
