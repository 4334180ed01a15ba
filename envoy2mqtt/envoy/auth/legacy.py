"""HTTP digest authentication for legacy firmware (< 7) and its default passwords."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

from aiohttp import DigestAuthMiddleware
from aiohttp.client_middlewares import ClientMiddlewareType

from envoy2mqtt.envoy.auth.errors import DigestCredentialsRejected
from envoy2mqtt.envoy.fetch import Fetcher
from envoy2mqtt.secret import Secret

_LOGGER = logging.getLogger(__name__)

INSTALLER = "installer"
OWNER = "envoy"
_REALM = "enphaseenergy.com"


def installer_password(serial: str, user: str = INSTALLER, realm: str = _REALM) -> str:
    """Derive the default installer password of a legacy Envoy from its serial number.

    >>> installer_password("122112123456")
    'd525d2jh'
    """
    seed = f"[e]{user}@{realm}#{serial} EnPhAsE eNeRgY "
    digest = hashlib.md5(seed.encode("ascii"), usedforsecurity=False).hexdigest()
    zeros, ones = digest.count("0"), digest.count("1")
    out: list[str] = []
    for char in reversed(digest[-8:]):
        # the counters are normalised before every character, as the vendor tool does
        if zeros in (3, 6, 9):
            zeros -= 1
        zeros = min(max(zeros, 0), 20)
        if ones in (9, 15):
            ones -= 1
        ones = min(max(ones, 0), 26)
        if char == "0":
            out.append(chr(ord("f") + zeros))
            zeros -= 1
        elif char == "1":
            out.append(chr(ord("@") + ones))
            ones -= 1
        else:
            out.append(char)
    return "".join(out)


def legacy_credentials(
    serial: str, username: str | None, password: Secret | str | None
) -> tuple[str, str]:
    """Return the ``(user, password)`` to use on a legacy Envoy.

    No user or ``installer`` -> the installer account with its derived password (needed for
    inverter data); ``envoy`` without password -> the last 6 characters of the serial;
    anything else is used as given.
    """
    if not username or username == INSTALLER:
        return INSTALLER, installer_password(serial)
    if username == OWNER and not password:
        return OWNER, serial[-6:]
    given = Secret.of(password)
    return username, given.reveal() if given else ""


class DigestAuth:
    """Digest credentials for every local request; there is no session to renew."""

    mode = "digest"
    expires_at: float | None = None

    def __init__(self, serial: str, username: str | None, password: Secret | str | None) -> None:
        """Resolve the credentials for ``serial`` (see :func:`legacy_credentials`)."""
        self.username, secret = legacy_credentials(serial, username, password)
        # The owner default is the serial's tail: registering it would mask serials in logs,
        # and it is no secret to anyone who can read the serial.
        if not (self.username == OWNER and secret == serial[-6:]):
            Secret.of(secret)  # registers the derived installer password with the redactor
        self._middleware = DigestAuthMiddleware(self.username, secret)

    def headers(self) -> Mapping[str, str]:
        """Digest works through the middleware, no static headers."""
        return {}

    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        """The digest middleware (answers the Envoy's 401 challenge)."""
        return (self._middleware,)

    def remember_cookies(self, cookies: Mapping[str, str]) -> None:
        """Legacy firmware needs no cookies."""

    async def authenticate(self, fetcher: Fetcher) -> None:
        """Nothing to do up front: wrong credentials surface as 401 on data requests."""
        _LOGGER.debug("auth mode=digest user=%s", self.username)

    async def refresh_if_due(self, fetcher: Fetcher) -> bool:
        """Digest credentials never expire."""
        return False

    async def recover(self, fetcher: Fetcher) -> None:
        """A 401 despite digest means the credentials are wrong; nothing can fix that here."""
        msg = f"the Envoy rejected the digest credentials of user {self.username}"
        raise DigestCredentialsRejected(msg)
