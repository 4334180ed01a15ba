"""The soak benchmark's checking subscriber: what an MQTT consumer would call a wrong value.

Fed every message seen on ``#`` (in order), it checks:

* every per-Envoy state payload decodes as a JSON object, availability is ``online`` or
  ``offline`` and discovery configs decode;
* the catalogue's schema as announced by discovery: each entity's ``state_topic`` payload
  holds, for the key its ``value_template`` reads, a finite number (or null) for entities
  with a ``state_class``;
* ``total_increasing`` entities never dip transiently (a drop followed, within
  ``TRANSIENT_READINGS`` readings, by a value at or above the level before the drop) and
  lifetime counters (the bridge guard's keys) never step down to zero; dips of daily
  counters (``bridge.daily_guard``'s keys) and of counters no guard covers are reported as their
  own kinds; a drop that stays (a guard accepted a real or day reset) is counted, not flagged;
* nothing new is published under ``<base>/<sn>/`` while that Envoy's availability is
  ``offline``: a state message then must repeat the payload already retained before (the
  gateway payload may only change its ``stale`` list / ``last_poll``; counted, not flagged).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from envoy2mqtt.bridge.daily_guard import DAILY_COUNTERS
from envoy2mqtt.bridge.lifetime_guard import LifetimeKeys

_DAILY_KEYS = frozenset(c.key for c in DAILY_COUNTERS)
#: The bridge guard's own rule: lifetime keys per topic suffix, balanced totals excepted.
_GUARDED = LifetimeKeys()

#: A drop undone within this many readings is a transient dip (HA would book it twice).
TRANSIENT_READINGS = 3
#: Wh a counter may gain per reading (the simulator adds at most 5): growth, not a dip.
GROWTH_PER_READING = 10.0

_LOOKUP = re.compile(r"\{\{ value_json(?:\.phases\.(?P<phase>\w+))?\.(?P<key>\w+) \}\}")


def _unstamped(payload: bytes | None) -> Any:
    """The gateway payload without its ``stale`` list and ``last_poll`` time."""
    try:
        doc = json.loads(payload or b"")
    except ValueError:
        return None
    return (
        {k: v for k, v in doc.items() if k not in ("stale", "last_poll")}
        if isinstance(doc, dict)
        else doc
    )


@dataclass(frozen=True)
class Field:
    """One entity's value inside a state payload."""

    key: str
    phase: str | None
    numeric: bool
    lifetime: bool


@dataclass
class _Lifetime:
    value: float
    dropped_from: float | None = None
    since_drop: int = 0
    low: float = 0.0


@dataclass
class SoakChecker:
    """Accumulates wrong values and counts; feed it with :meth:`add`."""

    base: str = "envoy2mqtt"
    discovery_prefix: str = "homeassistant"
    online: dict[str, bool] = field(default_factory=dict)
    last: dict[str, bytes] = field(default_factory=dict)
    fields: dict[str, set[Field]] = field(default_factory=dict)
    lifetimes: dict[tuple[str, str, str | None], _Lifetime] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    verbose: bool = False

    @property
    def wrong_total(self) -> int:
        """Every wrong value seen so far."""
        return sum(self.wrong.values())

    def _flag(self, kind: str, detail: str) -> None:
        self.wrong[kind] += 1
        if self.verbose:
            print(f"# wrong value {kind}: {detail}", flush=True)
        if self.wrong[kind] <= 8:
            self.examples.append(f"{kind}: {detail}")

    def add(self, topic: str, payload: bytes) -> None:
        """Check one received message."""
        self.counts["messages"] += 1
        if topic.startswith(self.discovery_prefix + "/"):
            self._discovery(topic, payload)
        elif topic.startswith(self.base + "/") and not topic.startswith(self.base + "/bridge/"):
            self._envoy(topic, payload)
        if payload:
            self.last[topic] = payload
        else:
            self.last.pop(topic, None)

    def _discovery(self, topic: str, payload: bytes) -> None:
        if not payload:
            return
        try:
            config = json.loads(payload)
        except ValueError:
            self._flag("discovery_decode", topic)
            return
        components = config.get("cmps") if isinstance(config, dict) else None
        entries = components.values() if isinstance(components, dict) else [config]
        for entry in entries:
            if isinstance(entry, dict):
                self._learn(entry)

    def _learn(self, entry: dict[str, Any]) -> None:
        state_topic, template = entry.get("state_topic"), entry.get("value_template")
        if not isinstance(state_topic, str) or not isinstance(template, str):
            return
        match = _LOOKUP.search(template)
        if match is None:
            return
        state_class = entry.get("state_class")
        spec = Field(
            match["key"], match["phase"], state_class is not None, state_class == "total_increasing"
        )
        self.fields.setdefault(state_topic, set()).add(spec)

    def _envoy(self, topic: str, payload: bytes) -> None:
        levels = topic.split("/")
        serial, rest = levels[1], "/".join(levels[2:])
        if rest == "availability":
            if payload not in (b"online", b"offline", b""):
                self._flag("availability_value", f"{topic}={payload[:40]!r}")
            self.online[serial] = payload == b"online"
            return
        if not payload or "/set" in rest or rest.startswith(("command", "result")):
            return
        self.counts["state_messages"] += 1
        if self.online.get(serial) is False and self.last.get(topic) != payload:
            if rest == "gateway" and _unstamped(payload) == _unstamped(self.last.get(topic)):
                # only its list of stale groups changed: that says "not live", not news
                self.counts["gateway_stale_updates_while_offline"] += 1
            else:
                self._flag("published_while_offline", topic)
        try:
            doc = json.loads(payload)
        except ValueError:
            self._flag("state_decode", f"{topic}={payload[:60]!r}")
            return
        if not isinstance(doc, dict):
            self._flag("state_not_object", topic)
            return
        for spec in self.fields.get(topic, ()):
            self._check_field(topic, doc, spec)

    def _check_field(self, topic: str, doc: dict[str, Any], spec: Field) -> None:
        source: Any = doc
        if spec.phase is not None:
            source = doc.get("phases", {})
            source = source.get(spec.phase, {}) if isinstance(source, dict) else None
        if not isinstance(source, dict):
            self._flag("schema", f"{topic} phase {spec.phase} is not an object")
            return
        value = source.get(spec.key)
        if value is None:
            return
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if spec.numeric and (not is_number or not math.isfinite(value)):
            self._flag("schema", f"{topic} {spec.key}={value!r} is not a number")
            return
        if spec.lifetime and is_number:
            self._lifetime((topic, spec.key, spec.phase), float(value))

    def _lifetime(self, ident: tuple[str, str, str | None], value: float) -> None:
        self.counts["lifetime_values"] += 1
        track = self.lifetimes.get(ident)
        if track is None:
            self.lifetimes[ident] = _Lifetime(value)
            return
        guarded = ident[1] in _GUARDED(ident[0].split("/", 2)[2])
        if value <= 0 < track.value and guarded:
            self._flag("lifetime_zero", f"{ident} {track.value} -> {value}")
        if track.dropped_from is not None:
            track.since_drop += 1
            track.low = min(track.low, value)
            # a counter restarted from ~0 may regain a few Wh in a few readings: only a
            # comeback faster than real growth is a transient dip
            growth = GROWTH_PER_READING * track.since_drop
            if value >= track.dropped_from and track.dropped_from - track.low > growth:
                kind = (
                    "lifetime_transient_dip"
                    if guarded
                    else "daily_transient_dip"
                    if ident[1] in _DAILY_KEYS
                    else "unguarded_counter_dip"
                )
                self._flag(kind, f"{ident} back to {value} >= {track.dropped_from}")
                track.dropped_from = None
            elif track.since_drop >= TRANSIENT_READINGS:
                track.dropped_from = None  # it stayed low: a real reset, not a transient
            elif value >= track.dropped_from:
                track.dropped_from = None
        if value < track.value:
            self.counts["lifetime_resets"] += 1
            track.dropped_from = max(track.value, track.dropped_from or 0.0)
            track.since_drop = 0
            track.low = value
        track.value = value
