"""Bearer-token authentication for firmware >= 7: choose, validate, renew and recover a JWT."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp.client_middlewares import ClientMiddlewareType

from envoy2mqtt.envoy.auth.cache import TokenCache
from envoy2mqtt.envoy.auth.enlighten import EnlightenClient
from envoy2mqtt.envoy.auth.errors import (
    EnvoyTokenRejected,
    TokenCredentialsMissing,
    TokenSerialMismatch,
)
from envoy2mqtt.envoy.auth.expiry import ExpiryWarnings
from envoy2mqtt.envoy.auth.jwt_info import TokenInfo, decode_token
from envoy2mqtt.envoy.errors import (
    EnlightenUnreachableError,
    EnvoyAuthenticationError,
    EnvoyAuthenticationRequired,
)
from envoy2mqtt.envoy.fetch import Fetcher
from envoy2mqtt.secret import Secret

_LOGGER = logging.getLogger(__name__)

CHECK_JWT = "/auth/check_jwt"
DEFAULT_REFRESH_MARGIN = 3 * 86400.0
# after a failed proactive renewal, wait before asking the cloud again
_RENEW_RETRY_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class _Candidate:
    source: str
    token: Secret
    info: TokenInfo


class TokenAuth:
    """Holds the current token for one Envoy and keeps it valid."""

    mode = "token"

    def __init__(
        self,
        serial: str,
        *,
        token: Secret | str | None = None,
        username: str | None = None,
        password: Secret | str | None = None,
        cache: TokenCache | None = None,
        enlighten: EnlightenClient | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prepare token auth for gateway ``serial``; no I/O happens here.

        Args:
            serial: the serial read from ``/info``.
            token: a configured token (e.g. pasted from Enlighten).
            username: Enlighten e-mail, to fetch or renew tokens.
            password: Enlighten password.
            cache: where fetched tokens are kept across restarts.
            enlighten: the cloud client (default: the public Enlighten URLs).
            refresh_margin: renew this many seconds before expiry (capped at a quarter of the
                token's lifetime, so ~12 h installer tokens are not renewed constantly).
            clock: epoch-seconds clock (tests).
        """
        self.serial = serial
        configured = Secret.of(token)
        self._config_token = Secret.of(configured.strip()) if configured else None
        self._username = username or None
        self._password = Secret.of(password)
        self._cache = cache
        self._enlighten = enlighten or EnlightenClient()
        self._margin = refresh_margin
        self._clock = clock
        self._token: Secret | None = None
        self._cookies: dict[str, Secret] = {}
        self._next_renew_at = 0.0
        self._expiry = ExpiryWarnings(serial)
        self.info: TokenInfo | None = None

    @property
    def expires_at(self) -> float | None:
        """Expiry of the current token (epoch seconds) or None."""
        return self.info.expires_at if self.info else None

    @property
    def token_type(self) -> str | None:
        """``owner`` or ``installer`` for the current token."""
        return self.info.token_type if self.info else None

    @property
    def has_credentials(self) -> bool:
        """True when Enlighten credentials are configured (tokens can be renewed)."""
        return bool(self._username and self._password)

    def headers(self) -> Mapping[str, str]:
        """Bearer token and the session cookie from ``check_jwt``."""
        headers: dict[str, str] = {}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        if self._cookies:
            headers["Cookie"] = "; ".join(f"{k}={v.reveal()}" for k, v in self._cookies.items())
        return headers

    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        """Token auth needs no middleware."""
        return ()

    def remember_cookies(self, cookies: Mapping[str, str]) -> None:
        """Keep the Envoy's session cookie and treat its value as a secret."""
        self._cookies.update({k: Secret(v) for k, v in cookies.items()})

    async def authenticate(self, fetcher: Fetcher) -> None:
        """Find a token the Envoy accepts: configured/cached first, else fetch from Enlighten.

        Raises:
            TokenSerialMismatch: the configured token belongs to another gateway.
            TokenCredentialsMissing: no token and no credentials.
            EnvoyTokenRejected: every available token was refused and none can be fetched.
            EnvoyAuthenticationError: subclasses from the Enlighten fetch.
        """
        usable, expired = self._stored_tokens()
        renewed = False
        if self.has_credentials and (not usable or self._due(usable[0].info)):
            try:
                await self._renew(fetcher)
                return
            except EnlightenUnreachableError:
                if not usable:
                    raise
                _LOGGER.warning("auth enlighten unreachable, trying the stored token")
            renewed = True
        for candidate in usable:
            if await self._accepts(fetcher, candidate):
                return
        if self.has_credentials and not renewed:
            await self._renew(fetcher)
            return
        raise self._no_token_error(usable, expired)

    async def refresh_if_due(self, fetcher: Fetcher) -> bool:
        """Renew the token ahead of expiry when credentials allow it; True if renewed.

        A failed renewal is logged and retried later; the current token stays in use.
        A token that cannot be renewed (no credentials) is announced in the log a week and
        a day before its ``exp`` instead.
        """
        if self.info is None:
            return False
        if not self.has_credentials:
            self._expiry.check(self.info, self._clock())
            return False
        if not self._due(self.info):
            return False
        if self._clock() < self._next_renew_at:
            return False
        try:
            await self._renew(fetcher)
        except EnvoyAuthenticationError as exc:
            self._next_renew_at = self._clock() + _RENEW_RETRY_AFTER
            _LOGGER.warning("auth token renewal failed serial=%s error=%s", self.serial, exc)
            return False
        return True

    async def recover(self, fetcher: Fetcher) -> None:
        """Handle a 401 during polling: re-validate, then renew once, else raise.

        Raises:
            EnvoyTokenRejected: the token is refused and there are no credentials to renew it.
            EnvoyAuthenticationError: renewal failed.
        """
        _LOGGER.info("auth recovering after 401 serial=%s", self.serial)
        if self._token and self.info:
            current = _Candidate("current token", self._token, self.info)
            if not self._expired(self.info) and await self._accepts(fetcher, current):
                return
        if not self.has_credentials:
            msg = (
                "the Envoy rejected the token and no Enlighten username/password are "
                "configured to renew it"
            )
            raise EnvoyTokenRejected(msg)
        await self._renew(fetcher)

    async def _renew(self, fetcher: Fetcher) -> None:
        assert self._username
        assert self._password
        token = await self._enlighten.fetch_token(self._username, self._password, self.serial)
        candidate = _Candidate(
            "token from Enlighten", token, decode_token(token.reveal(), "Enlighten token")
        )
        self._check_serial(candidate)
        if not await self._accepts(fetcher, candidate):
            msg = "the Envoy rejected the token just issued by Enlighten"
            raise EnvoyTokenRejected(msg)
        if self._cache is not None:
            self._cache.store(self.serial, token.reveal())

    async def _accepts(self, fetcher: Fetcher, candidate: _Candidate) -> bool:
        """Validate ``candidate`` with ``/auth/check_jwt``; adopt it when accepted."""
        previous = (self._token, self.info, dict(self._cookies))
        self._token, self.info, self._cookies = candidate.token, candidate.info, {}
        try:
            response = await fetcher.request("GET", CHECK_JWT)
        except EnvoyAuthenticationRequired:
            response = None
        if response is not None and response.status == 200:
            _LOGGER.info(
                "auth token accepted serial=%s source=%s type=%s expires=%s",
                self.serial,
                candidate.source.replace(" ", "_"),
                candidate.info.token_type,
                _iso(candidate.info.expires_at),
            )
            return True
        status = response.status if response is not None else "401"
        _LOGGER.warning(
            "auth token refused serial=%s source=%s status=%s",
            self.serial,
            candidate.source.replace(" ", "_"),
            status,
        )
        self._token, self.info, self._cookies = previous
        return False

    def _stored_tokens(self) -> tuple[list[_Candidate], list[_Candidate]]:
        """Return (usable tokens newest expiry first, expired tokens)."""
        found: list[_Candidate] = []
        if self._config_token:
            candidate = _Candidate(
                "configured token",
                self._config_token,
                decode_token(self._config_token.reveal(), "configured token"),
            )
            self._check_serial(candidate)
            found.append(candidate)
        cached = Secret.of(self._cache.load(self.serial) if self._cache else None)
        if cached and cached != self._config_token:
            try:
                info = decode_token(cached.reveal(), "cached token")
                candidate = _Candidate("cached token", cached, info)
                self._check_serial(candidate)
                found.append(candidate)
            except EnvoyAuthenticationError as exc:
                _LOGGER.warning("auth ignoring cached token serial=%s reason=%s", self.serial, exc)
        usable = [c for c in found if not self._expired(c.info)]
        usable.sort(key=lambda c: c.info.expires_at or float("inf"), reverse=True)
        return usable, [c for c in found if self._expired(c.info)]

    def _check_serial(self, candidate: _Candidate) -> None:
        claimed = candidate.info.serial
        if claimed is not None and claimed != self.serial:
            msg = (
                f"the {candidate.source} is a token for another serial ({claimed}); "
                f"this Envoy is {self.serial}"
            )
            raise TokenSerialMismatch(msg)

    def _no_token_error(
        self, usable: list[_Candidate], expired: list[_Candidate]
    ) -> EnvoyAuthenticationError:
        if usable:
            return EnvoyTokenRejected(
                "the Envoy rejected the configured token and no Enlighten username/password "
                "are configured to fetch a new one"
            )
        if expired:
            return EnvoyTokenRejected(
                f"the {expired[0].source} expired at {_iso(expired[0].info.expires_at)} and no "
                "Enlighten username/password are configured to fetch a new one"
            )
        return TokenCredentialsMissing(
            f"Envoy {self.serial} uses token authentication (firmware >= 7): configure a "
            "token or an Enlighten username and password"
        )

    def _expired(self, info: TokenInfo) -> bool:
        return info.expires_at is not None and info.expires_at <= self._clock()

    def _due(self, info: TokenInfo) -> bool:
        if info.expires_at is None:
            return False
        margin = self._margin
        if info.issued_at is not None and info.expires_at > info.issued_at:
            margin = min(margin, (info.expires_at - info.issued_at) / 4)
        return info.expires_at - self._clock() <= margin


def _iso(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")
