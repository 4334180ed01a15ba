"""Keep lifetime counters monotonic across Envoy reboots and transient bad readings.

Home Assistant treats any decrease of a ``total_increasing`` value as a meter reset and
books the whole lifetime again on the next reading, so one transient zero after an Envoy
reboot ruins the energy dashboard. The rule applied to every lifetime value (the keys the
catalogue declares with ``counter=LIFETIME``, at any depth of every state payload, except
in a topic whose row declares that key ``counter=BALANCED``), per state topic and key path:

1. A reading ``>=`` the last good value is accepted and becomes the last good value.
2. A reading of 0 (or below 0) is never accepted while a good value exists: the last good
   value is published instead, however long the zeros last (an Envoy can report zeros for
   minutes while it boots).
3. A positive reading below the last good value is held (the last good value is
   published). A drop within ``tolerance`` (relative, default 0.1 %) is jitter and ends
   any reset candidate sequence. A larger drop starts or extends a *reset candidate*
   sequence; when ``confirm`` (default 3) consecutive readings are all below the last good
   value, all positive and non-decreasing, the counter is taken as really reset (device
   replaced, counter cleared) and the newest reading becomes the last good value.
4. Any reading that breaks the sequence (a zero, a decrease between candidates, jitter or
   a recovery to ``>=`` last good) discards the candidates.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TypeGuard

from envoy2mqtt.catalog.counters import TopicKey
from envoy2mqtt.catalog.registry import BALANCED_KEYS, LIFETIME_KEYS

_LOGGER = logging.getLogger(__name__)

__all__ = ["LIFETIME_KEYS", "LifetimeGuard", "LifetimeKeys"]


class LifetimeKeys:
    """The lifetime keys of each state topic suffix, matched once per suffix.

    Every lifetime key is guarded in every topic, also where no entity shows it (the
    production CT's ``energy_delivered``: raw-topic consumers rely on it too), except
    where a row declares the key a balanced total of that topic.
    """

    def __init__(
        self, keys: frozenset[str] = LIFETIME_KEYS, balanced: Iterable[TopicKey] = BALANCED_KEYS
    ) -> None:
        self._keys = keys
        self._balanced = tuple(balanced)
        self._by_suffix: dict[str, frozenset[str]] = {}

    def __call__(self, suffix: str) -> frozenset[str]:
        """The lifetime keys of ``suffix`` (``meters/net-consumption``, ``inverters/123``)."""
        found = self._by_suffix.get(suffix)
        if found is None:
            falls = {b.key for b in self._balanced if fnmatch.fnmatchcase(suffix, b.topic)}
            found = self._keys - falls
            self._by_suffix[suffix] = found
        return found


def is_number(value: object) -> TypeGuard[float]:
    """Whether a payload value is a JSON number (a bool is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class _Track:
    good: float
    candidates: list[float] = field(default_factory=list)


class LifetimeGuard:
    """Filters state payloads so that lifetime counters never step down (rules above)."""

    def __init__(
        self,
        keys_of: Callable[[str], Collection[str]] | None = None,
        *,
        tolerance: float = 0.001,
        confirm: int = 3,
    ) -> None:
        """Create a guard.

        Args:
            keys_of: the lifetime keys of a state topic suffix (default: the catalogue's).
            tolerance: relative drop treated as jitter (never a reset candidate).
            confirm: consecutive consistent low readings that confirm a real reset.
        """
        if confirm < 1:
            msg = f"confirm must be >= 1 (got {confirm})"
            raise ValueError(msg)
        self._keys_of = keys_of if keys_of is not None else LifetimeKeys()
        self._tolerance = tolerance
        self._confirm = confirm
        self._tracks: dict[tuple[str, ...], _Track] = {}
        self.held = 0
        """How many readings were replaced by a held value (for health/debugging)."""

    def filter(self, topic: str, suffix: str, payload: dict[str, object]) -> dict[str, object]:
        """Return ``payload`` with every lifetime value replaced by its guarded value.

        Args:
            topic: the full state topic (the key of the history).
            suffix: the topic below ``<base>/<sn>/``, which says which keys are lifetime.
            payload: the state payload; not modified; nested objects are walked.
        """
        keys = self._keys_of(suffix)
        return self._walk((topic,), payload, keys) if keys else payload

    def seed(self, topic: str, suffix: str, payload: dict[str, object]) -> None:
        """Take lifetime values of a previously published ``payload`` as last good values.

        Used with the retained states found at start, so that a zero read right after a
        bridge restart is held too. Existing history is never lowered.
        """
        keys = self._keys_of(suffix)
        if keys:
            self._seed((topic,), payload, keys)

    def _seed(self, path: tuple[str, ...], obj: dict[str, object], keys: Collection[str]) -> None:
        for key, value in obj.items():
            here = (*path, key)
            if isinstance(value, dict):
                self._seed(here, value, keys)
            elif is_number(value) and key in keys and value > 0:
                track = self._tracks.get(here)
                if track is None or track.good < value:
                    self._tracks[here] = _Track(good=value)

    def forget(self, topics: Iterable[str]) -> None:
        """Drop the history of ``topics`` (device removed; its counters start afresh)."""
        gone = set(topics)
        for path in [p for p in self._tracks if p[0] in gone]:
            del self._tracks[path]

    def _walk(
        self, path: tuple[str, ...], obj: dict[str, object], keys: Collection[str]
    ) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in obj.items():
            here = (*path, key)
            if isinstance(value, dict):
                out[key] = self._walk(here, value, keys)
            elif is_number(value) and key in keys:
                out[key] = self.check(here, value)
            else:
                out[key] = value
        return out

    def check(self, path: tuple[str, ...], value: float) -> float:
        """Apply the rules to one reading of the counter at ``path``; return what to publish."""
        track = self._tracks.get(path)
        if track is None:
            if value > 0:
                self._tracks[path] = _Track(good=value)
            return value
        if value >= track.good:
            track.good = value
            track.candidates.clear()
            return value
        self.held += 1
        if value <= 0 or track.good - value <= track.good * self._tolerance:
            track.candidates.clear()
            return track.good
        if track.candidates and value < track.candidates[-1]:
            track.candidates.clear()
        track.candidates.append(value)
        if len(track.candidates) >= self._confirm:
            _LOGGER.warning(
                "lifetime counter reset confirmed path=%s old=%s new=%s",
                "/".join(path),
                track.good,
                value,
            )
            track.good = value
            track.candidates.clear()
            return value
        _LOGGER.info(
            "lifetime counter drop held path=%s good=%s got=%s", "/".join(path), track.good, value
        )
        return track.good
