"""Keep daily counters ("today", "last seven days") from going down within the Envoy's day.

Home Assistant books a drop of a ``total_increasing`` value by more than 10 % as a new meter
cycle (and counts the next reading from zero), so a reboot's zeros or a dip from another
data source makes the energy dashboard count the day twice. The rule applied to every
counter declared in :data:`DAILY_COUNTERS`, per state topic and key path:

1. A reading ``>=`` the last published value is published at once (also right after a dip).
2. A lower reading is held (the last published value goes out instead), unless it is the
   counter's *day reset*, which needs all of:

   a. the Envoy's local day (:mod:`envoy2mqtt.bridge.clock`) is later than the day of the
      counter's current cycle, or that day is not known yet. So a reset arriving late after
      midnight (an inverter's first report at dawn) is still a reset, and there is at most
      one per day. The cycle's day is set by the reset let through, by a reading of 0, and,
      while unknown, by the first rise. It is unknown after the bridge starts (first
      reading, values of retained states), so a restart at night does not block the
      morning's late reset;
   b. the lifetime counter of the same object (``watt_hours_lifetime`` next to
      ``watt_hours_today``) is positive and did not go down since the previous reading: a
      reboot reports zeros for both, another data source reports its own lifetime;
   c. for "today" values, the reading is at most half of the held value (a day starts near
      zero; another data source differs by a few percent). "Last seven days" values lose
      their oldest day at the reset, which may be any share of the window.

   The accepted reset starts the counter's cycle for that day; any later drop on the same
   day is held.

Balanced net consumption is not guarded: it may fall within a day by design (export), every
captured firmware reports 0 for its daily values, and Home Assistant has no entity for them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from envoy2mqtt.bridge.lifetime_guard import is_number
from envoy2mqtt.catalog.counters import DailyCounter, Period
from envoy2mqtt.catalog.registry import DAILY_COUNTERS

_LOGGER = logging.getLogger(__name__)


# Every daily value the bridge publishes comes from the rows that declare it
# (``counter=Daily(...)``); a test walks every fixture's payloads for more.
__all__ = ["DAILY_COUNTERS", "DailyCounter", "DailyGuard", "Period"]

#: Share of the held value a "today" reading may reach and still be a day reset (rule 2c).
RESET_SHARE = 0.5
#: Relative drop of the lifetime counter still taken as the same source (rounding, jitter).
LIFETIME_TOLERANCE = 0.001


@dataclass
class _Track:
    good: float
    day: dt.date | None
    lifetime: float | None


class DailyGuard:
    """Filters state payloads so that daily counters only go down at the Envoy's day reset."""

    def __init__(self, counters: Iterable[DailyCounter] = DAILY_COUNTERS) -> None:
        """Guard ``counters`` (default: every daily value the bridge publishes)."""
        self._counters = tuple(counters)
        self._by_topic: dict[str, dict[str, DailyCounter]] = {}
        self._tracks: dict[tuple[str, ...], _Track] = {}
        self.held = 0
        """How many readings were replaced by a held value (for health/debugging)."""
        self.resets = 0
        """How many day resets were let through."""

    def counters_for(self, suffix: str) -> dict[str, DailyCounter]:
        """The counters of one state topic suffix, by payload key."""
        found = self._by_topic.get(suffix)
        if found is None:
            found = {c.key: c for c in self._counters if fnmatch.fnmatchcase(suffix, c.topic)}
            self._by_topic[suffix] = found
        return found

    def filter(
        self, topic: str, suffix: str, payload: dict[str, object], day: dt.date
    ) -> dict[str, object]:
        """Return ``payload`` with every daily value replaced by its guarded value.

        Args:
            topic: the full state topic (the key of the history).
            suffix: the topic below ``<base>/<sn>/``, matched against the declarations.
            payload: the state as read; not modified (a copy is returned when needed).
            day: the Envoy's local date now.
        """
        counters = self.counters_for(suffix)
        if not counters:
            return payload
        return self._walk((topic,), payload, counters, day)

    def seed(self, topic: str, suffix: str, payload: dict[str, object]) -> None:
        """Take daily values of a retained ``payload`` (previous run) as held values.

        Their day is unknown, so the next day reset is never blocked by them (rule 2a).
        """
        counters = self.counters_for(suffix)
        if counters:
            self._seed((topic,), payload, counters)

    def forget(self, topics: Iterable[str]) -> None:
        """Drop the history of ``topics`` (device removed)."""
        gone = set(topics)
        for path in [p for p in self._tracks if p[0] in gone]:
            del self._tracks[path]

    def _seed(
        self, path: tuple[str, ...], obj: dict[str, object], counters: dict[str, DailyCounter]
    ) -> None:
        for key, value in obj.items():
            if isinstance(value, dict):
                self._seed((*path, key), value, counters)
            elif key in counters and is_number(value) and value > 0:
                lifetime = _lifetime(obj, counters[key])
                self._tracks.setdefault((*path, key), _Track(value, None, lifetime))

    def _walk(
        self,
        path: tuple[str, ...],
        obj: dict[str, object],
        counters: dict[str, DailyCounter],
        day: dt.date,
    ) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in obj.items():
            if isinstance(value, dict):
                out[key] = self._walk((*path, key), value, counters, day)
            elif key in counters and is_number(value):
                counter = counters[key]
                out[key] = self.check((*path, key), counter, value, _lifetime(obj, counter), day)
            else:
                out[key] = value
        return out

    def check(
        self,
        path: tuple[str, ...],
        counter: DailyCounter,
        value: float,
        lifetime: float | None,
        day: dt.date,
    ) -> float:
        """Apply the rules to one reading of the counter at ``path``; return what to publish."""
        track = self._tracks.get(path)
        if track is None:
            self._tracks[path] = _Track(value, None, lifetime)
            return value
        same_source = _same_source(track.lifetime, lifetime)
        if lifetime is not None and lifetime > 0:
            track.lifetime = lifetime
        if value >= track.good:
            if value <= 0 or (track.day is None and value > track.good):
                track.day = day  # at the day's start, or counting within today's cycle
            track.good = value
            return value
        rolled = track.day is None or day > track.day
        if rolled and same_source and _looks_reset(counter.period, value, track.good):
            _LOGGER.info(
                "daily counter reset path=%s day=%s old=%s new=%s",
                "/".join(path),
                day.isoformat(),
                track.good,
                value,
            )
            track.good, track.day = value, day
            self.resets += 1
            return value
        self.held += 1
        _LOGGER.debug(
            "daily counter drop held path=%s good=%s got=%s", "/".join(path), track.good, value
        )
        return track.good


def _lifetime(obj: dict[str, object], counter: DailyCounter) -> float | None:
    value = obj.get(counter.lifetime)
    return float(value) if is_number(value) else None


def _same_source(previous: float | None, now: float | None) -> bool:
    """Rule 2b: the object's lifetime counter is positive and did not go down."""
    if now is None:
        return previous is None
    if now <= 0:
        return False
    return previous is None or now >= previous * (1 - LIFETIME_TOLERANCE)


def _looks_reset(period: Period, value: float, held: float) -> bool:
    """Rule 2c."""
    if period is Period.TODAY:
        return value <= held * RESET_SHARE
    return True
