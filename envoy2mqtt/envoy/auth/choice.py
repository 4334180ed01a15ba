"""Which authentication an Envoy gets, chosen from its ``/info``, and how refusals are seen.

Firmware 7 and later (or any Envoy that announces web tokens) uses an Enlighten token;
older firmware uses HTTP digest with a local user.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from awesomeversion import AwesomeVersion

from envoy2mqtt.envoy.auth.cache import TokenCache
from envoy2mqtt.envoy.auth.enlighten import EnlightenClient
from envoy2mqtt.envoy.auth.legacy import DigestAuth
from envoy2mqtt.envoy.auth.token import DEFAULT_REFRESH_MARGIN, TokenAuth
from envoy2mqtt.envoy.errors import EnvoyAuthenticationRequired
from envoy2mqtt.envoy.fetch import Fetcher, Response
from envoy2mqtt.envoy.firmware import EnvoyInfo
from envoy2mqtt.secret import Secret

__all__ = ["TOKEN_FIRMWARE", "AuthWatch", "Credentials"]

TOKEN_FIRMWARE = AwesomeVersion("7.0.0")


@dataclass(frozen=True, repr=False)
class Credentials:
    """What one client may authenticate with (secrets stay wrapped; no repr)."""

    enlighten: EnlightenClient
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    cache: TokenCache | None = None
    refresh_margin: float = DEFAULT_REFRESH_MARGIN
    clock: Callable[[], float] = time.time

    def auth_for(self, info: EnvoyInfo) -> DigestAuth | TokenAuth:
        """The authentication scheme for the Envoy that answered ``info``."""
        if info.version >= TOKEN_FIRMWARE or info.web_tokens:
            return TokenAuth(
                info.serial,
                token=self.token,
                username=self.username,
                password=self.password,
                cache=self.cache,
                enlighten=self.enlighten,
                refresh_margin=self.refresh_margin,
                clock=self.clock,
            )
        return DigestAuth(info.serial, self.username, self.password)


class AuthWatch:
    """Fetcher wrapper that counts 401/403 answers (probing swallows them per endpoint)."""

    def __init__(self, fetcher: Fetcher) -> None:
        """Count the answers of requests made through ``fetcher``."""
        self._fetcher = fetcher
        self.refused = 0
        self.answered = 0

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        """Send through the wrapped fetcher, counting a refusal or an answer."""
        try:
            response = await self._fetcher.request(method, path, body=body)
        except EnvoyAuthenticationRequired:
            self.refused += 1
            raise
        self.answered += 1
        return response
