"""The Envoy's own day: which local date its "today" counters belong to right now.

An Envoy resets its daily counters at midnight of *its* clock in *its* time zone, so that is
what the daily-counter guard compares against:

* time zone: ``timezone`` of the gateway's ``/home`` document (token firmware); when the
  gateway does not serve one (legacy firmware) or names an unknown zone, the bridge host's
  local time zone (set ``TZ`` for the bridge process, e.g. in a container);
* clock: the bridge's clock corrected by the gateway's offset, measured from the ``<time>``
  element of ``/info`` (read at start and on every firmware re-check, ``intervals.firmware``);
  0 when absent.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from envoy2mqtt.envoy.snapshot import EnvoySnapshot

_LOGGER = logging.getLogger(__name__)

ZONE_FROM_HOME = "/home"
ZONE_FROM_HOST = "host"


@dataclass(frozen=True)
class EnvoyClock:
    """One Envoy's time zone and clock offset."""

    zone: dt.tzinfo
    zone_source: str
    offset: float = 0.0

    def day(self, now: float) -> dt.date:
        """The Envoy's local date at bridge epoch time ``now``."""
        return dt.datetime.fromtimestamp(now + self.offset, self.zone).date()

    def describe(self) -> str:
        """``zone=US/Central source=/home offset=+2s`` for logs."""
        return f"zone={self.zone} source={self.zone_source} offset={self.offset:+.0f}s"


def _zone(name: str | None) -> dt.tzinfo | None:
    if not name:
        return None
    return _named_zone(name)


@functools.lru_cache(maxsize=64)  # also: one warning per unknown name, not one per poll
def _named_zone(name: str) -> dt.tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        _LOGGER.warning("envoy time zone unknown zone=%r fallback=host time zone", name)
        return None


def host_zone() -> dt.tzinfo:
    """The bridge host's local time zone (``TZ`` or the system setting)."""
    zone = dt.datetime.now().astimezone().tzinfo
    return zone if zone is not None else dt.UTC


def clock_of(envoy: EnvoySnapshot) -> EnvoyClock:
    """The clock of the Envoy of ``envoy`` (its ``/home`` zone and ``/info`` clock offset)."""
    zone = _zone(envoy.home.timezone if envoy.home is not None else None)
    offset = envoy.clock_offset
    if zone is None:
        return EnvoyClock(host_zone(), ZONE_FROM_HOST, offset)
    return EnvoyClock(zone, ZONE_FROM_HOME, offset)
