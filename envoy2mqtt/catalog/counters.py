"""Counter facts of catalogue rows: which values are lifetime and which daily counters.

The bridge's guards (lifetime values never step down; daily values go down only at the
Envoy's day reset) take their keys from the rows that declare them here, not from lists of
their own: a row says ``counter=LIFETIME``, ``counter=Daily(lifetime=…, period=…)`` or
``counter=BALANCED``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import Final

__all__ = [
    "BALANCED",
    "LIFETIME",
    "Balanced",
    "Counter",
    "Daily",
    "DailyCounter",
    "Lifetime",
    "Period",
    "TopicKey",
]


class Period(enum.StrEnum):
    """What a daily counter spans."""

    TODAY = "today"
    LAST_7_DAYS = "last_7_days"


@dataclasses.dataclass(frozen=True, slots=True)
class Lifetime:
    """A lifetime (``total_increasing``, never reset) counter: it never steps down."""


LIFETIME: Final = Lifetime()


@dataclasses.dataclass(frozen=True, slots=True)
class Balanced:
    """A lifetime total of import minus export: it falls while exporting, so it is never held.

    Its payload key may be a lifetime counter's key elsewhere (``watt_hours_lifetime``).
    """


BALANCED: Final = Balanced()


@dataclasses.dataclass(frozen=True, slots=True)
class Daily:
    """A daily counter: reset once per Envoy day, judged by the lifetime key beside it."""

    lifetime: str
    period: Period


Counter = Lifetime | Daily | Balanced


@dataclasses.dataclass(frozen=True, slots=True)
class TopicKey:
    """A payload key (at any depth) of the state topics matching ``topic`` (``*``: one level)."""

    topic: str
    key: str


@dataclasses.dataclass(frozen=True, slots=True)
class DailyCounter:
    """One daily value in the state payloads.

    Attributes:
        topic: state topic suffix under ``<base>/<sn>/``; ``*`` matches one level.
        key: the payload key (also inside nested objects such as ``phases``).
        lifetime: the key of the lifetime counter in the same object.
        period: what the value spans.
    """

    topic: str
    key: str
    lifetime: str
    period: Period


def daily_counters(rows: Iterable[tuple[str, str, Counter | None]]) -> tuple[DailyCounter, ...]:
    """The daily counters of (topic pattern, value key, counter) rows, once each."""
    found = {
        DailyCounter(topic.replace("{id}", "*"), key, c.lifetime, c.period): None
        for topic, key, c in rows
        if isinstance(c, Daily)
    }
    return tuple(found)


def lifetime_keys(rows: Iterable[tuple[str, str, Counter | None]]) -> frozenset[str]:
    """The payload keys of lifetime counters among (topic pattern, value key, counter) rows."""
    return frozenset(key for _topic, key, c in rows if isinstance(c, Lifetime))


def balanced_keys(rows: Iterable[tuple[str, str, Counter | None]]) -> tuple[TopicKey, ...]:
    """The balanced totals among (topic pattern, value key, counter) rows, once each."""
    found = {
        TopicKey(topic.replace("{id}", "*"), key): None
        for topic, key, c in rows
        if isinstance(c, Balanced)
    }
    return tuple(found)
