"""A recorded Envoy day for the daily-counter tests, and Home Assistant's energy statistics.

:func:`recorded_day` builds the polls of one production topic from 21:00 the evening before
day D to 03:00 after it (one poll a minute, Envoy time zone US/Central), from a true energy
model, with the faults real Envoys show: a reboot at midday (zeros for six minutes), an hour
on another data source (15 % lower today and 2 % lower lifetime values, no phases), an
on-time reset at the first midnight and a late one at the second (the endpoint serves the
23:59 values until 00:25).

:func:`ha_day_totals` books a sequence of published states the way Home Assistant's
``total_increasing`` statistics do (home-assistant/core,
``homeassistant/components/sensor/recorder.py``: ``reset_detected`` is a drop to below 90 %
of the previous state, which starts a new meter cycle counted from zero; smaller dips are
booked as negative changes). ``naive=True`` treats every decrease as a new cycle, as the
issue words it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("US/Central")
DAY = dt.date(2026, 8, 1)
START = dt.datetime(2026, 7, 31, 21, 0, tzinfo=ZONE)
END = dt.datetime(2026, 8, 2, 3, 0, tzinfo=ZONE)
LIFETIME_START = 12_345_678.0
#: Totals of the six days before the first day shown, oldest first (for last seven days).
EARLIER_DAYS = (26_000.0, 31_000.0, 18_000.0, 29_000.0, 33_000.0, 24_000.0, 30_000.0)
PHASE_SHARES = {"l1": 0.55, "l2": 0.45}

REBOOT = (
    dt.datetime(2026, 8, 1, 12, 30, tzinfo=ZONE),
    dt.datetime(2026, 8, 1, 12, 36, tzinfo=ZONE),
)
FALLBACK = (
    dt.datetime(2026, 8, 1, 15, 0, tzinfo=ZONE),
    dt.datetime(2026, 8, 1, 16, 0, tzinfo=ZONE),
)
LATE_UNTIL = dt.datetime(2026, 8, 2, 0, 25, tzinfo=ZONE)


@dataclass(frozen=True)
class Poll:
    """One poll: when (epoch seconds), what the Envoy served, what a fault-free one would."""

    at: float
    served: dict[str, Any]
    ideal: dict[str, Any]

    @property
    def local(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at, ZONE)


Power = Callable[[dt.datetime], float]


def solar(local: dt.datetime) -> float:
    """Solar power in W: a clear day from 06:00 to 20:00 peaking at 6 kW."""
    hour = local.hour + local.minute / 60
    return 6000 * math.sin(math.pi * (hour - 6) / 14) if 6 <= hour <= 20 else 0.0


def household(local: dt.datetime) -> float:
    """Household load in W: never below 200, highest in the evening."""
    hour = local.hour + local.minute / 60
    return 650 + 450 * math.sin(2 * math.pi * (hour - 13) / 24)


def _energy(today: float, week: float, lifetime: float, watts: float) -> dict[str, Any]:
    return {
        "watts_now": round(watts),
        "watt_hours_today": round(today),
        "watt_hours_last_7_days": round(week),
        "watt_hours_lifetime": round(lifetime),
    }


def _payload(today: float, week: float, lifetime: float, watts: float) -> dict[str, Any]:
    payload = _energy(today, week, lifetime, watts)
    payload["phases"] = {
        name: _energy(today * share, week * share, lifetime * share, watts * share)
        for name, share in PHASE_SHARES.items()
    }
    return payload


def _zeros(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: _zeros(v) if isinstance(v, dict) else 0 for k, v in payload.items()}


def _other_source(payload: dict[str, Any]) -> dict[str, Any]:
    # /api/v1/production: inverter-based numbers, no phases.
    return {
        "watts_now": round(payload["watts_now"] * 0.9),
        "watt_hours_today": round(payload["watt_hours_today"] * 0.85),
        "watt_hours_last_7_days": round(payload["watt_hours_last_7_days"] * 0.9),
        "watt_hours_lifetime": round(payload["watt_hours_lifetime"] * 0.98),
    }


def recorded_day(power: Power = solar) -> list[Poll]:
    """The polls described in the module docstring, for a counter driven by ``power``."""
    polls: list[Poll] = []
    totals = list(EARLIER_DAYS)
    today = lifetime = 0.0
    local = START
    day = local.date()
    before_midnight: dict[str, Any] = {}
    while local <= END:
        if local.date() != day:
            totals.append(today)
            today, day = 0.0, local.date()
        watts = power(local)
        week = today + sum(totals[-6:])
        ideal = _payload(today, week, LIFETIME_START + lifetime, watts)
        served = ideal
        if REBOOT[0] <= local < REBOOT[1]:
            served = _zeros(ideal)
        elif FALLBACK[0] <= local < FALLBACK[1]:
            served = _other_source(ideal)
        elif local.date() > DAY and local < LATE_UNTIL:
            served = before_midnight
        if local.date() == DAY:
            before_midnight = ideal
        polls.append(Poll(local.timestamp(), served, ideal))
        today += watts / 60
        lifetime += watts / 60
        local += dt.timedelta(minutes=1)
    return polls


def ha_day_totals(
    states: Iterable[tuple[float, float]], *, naive: bool = False
) -> dict[dt.date, float]:
    """Energy per local date as Home Assistant's statistics book it (module docstring)."""
    totals: dict[dt.date, float] = {}
    previous: float | None = None
    for at, value in states:
        date = dt.datetime.fromtimestamp(at, ZONE).date()
        totals.setdefault(date, 0.0)
        if previous is not None:
            reset = value < previous if naive else value < 0.9 * previous
            totals[date] += value if reset else value - previous
        previous = value
    return totals


def true_day_totals(polls: list[Poll], *path: str) -> dict[dt.date, float]:
    """What a fault-free Envoy's counter books: its value at each day's last poll.

    ``path`` leads to the counter (default ``watt_hours_today``); the first day counts
    from the first poll (Home Assistant's zero-point), later days from midnight.
    """
    keys = path or ("watt_hours_today",)
    totals: dict[dt.date, float] = {}
    first: dict[dt.date, float] = {}
    for poll in polls:
        value: Any = poll.ideal
        for key in keys:
            value = value[key]
        date = poll.local.date()
        first.setdefault(date, value if not totals else 0.0)
        totals[date] = value - first[date]
    return totals
