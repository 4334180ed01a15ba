"""Warnings ahead of the expiry of a token the bridge cannot renew by itself.

The expiry is the token's own ``exp`` claim: owner tokens obtained through Enlighten last
six months (Enphase tech brief "IQ Gateway access using token", cited in
jesserizzo/envoy_reader PR 91), entrez owner tokens a year, installer tokens 12 hours, so
no lifetime is ever assumed. One WARNING per threshold per token, however often it is checked
(every poll); a token first seen past both thresholds gets the most urgent one only.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from envoy2mqtt.envoy.auth.jwt_info import TokenInfo

_LOGGER = logging.getLogger(__name__)

DAY = 86400.0
#: Seconds before ``exp`` at which a warning is logged (a week, a day).
WARN_BEFORE: tuple[float, ...] = (7 * DAY, DAY)


def _remaining(seconds: float) -> str:
    days, rest = divmod(int(seconds), int(DAY))
    hours, rest = divmod(rest, 3600)
    return f"{days}d{hours}h" if days else f"{hours}h{rest // 60}m"


def _threshold(seconds: float) -> str:
    return f"{seconds / DAY:g}d" if seconds >= DAY else f"{seconds / 3600:g}h"


class ExpiryWarnings:
    """Remembers which thresholds were already announced for which token."""

    def __init__(self, serial: str, thresholds: tuple[float, ...] = WARN_BEFORE) -> None:
        """Warn for gateway ``serial`` at each of ``thresholds`` (seconds before expiry)."""
        self._serial = serial
        self._thresholds = tuple(sorted(thresholds, reverse=True))
        # token identity (exp, iat) -> smallest threshold announced for it
        self._announced: dict[tuple[float, float | None], float] = {}

    def check(self, info: TokenInfo, now: float) -> bool:
        """Log a warning if ``info`` crossed a threshold not yet announced; True if logged."""
        if info.expires_at is None:
            return False
        left = info.expires_at - now
        crossed = [t for t in self._thresholds if left <= t]
        if left <= 0 or not crossed:
            return False  # an expired token is reported by the authentication error
        key = (info.expires_at, info.issued_at)
        tightest = crossed[-1]
        if self._announced.get(key, float("inf")) <= tightest:
            return False
        self._announced[key] = tightest
        _LOGGER.warning(
            "auth token expiry warning serial=%s expires=%s remaining=%s threshold=%s: paste a "
            "new token or configure Enlighten username/password for automatic renewal",
            self._serial,
            datetime.fromtimestamp(info.expires_at, tz=UTC).isoformat(timespec="seconds"),
            _remaining(left),
            _threshold(tightest),
        )
        return True
