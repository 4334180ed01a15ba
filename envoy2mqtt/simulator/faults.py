"""Fault injection rules: what goes wrong, for which paths, how often and for how long.

Request faults (latency, error, timeout, unauthorized, garbage, truncated, wrong_type, huge,
outage) are kept in a :class:`FaultSet` and matched against each request's path. Action
faults (refused, reboot) happen once, when they are added, and are carried out by the server.
The ``cloud_revert`` rule is kept like a request fault but never changes a reply: an accepted
``PUT /admin/lib/tariff`` it matches is undone ``seconds`` later, as a gateway whose Enlighten
cloud pushes its own tariff back (see :mod:`envoy2mqtt.simulator.cloud_tariff`).
"""

from __future__ import annotations

import enum
import fnmatch
import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_HUGE_BYTES = 1 << 30


class FaultKind(enum.StrEnum):
    """Every kind of fault the simulator can inject."""

    LATENCY = "latency"
    ERROR = "error"
    TIMEOUT = "timeout"
    UNAUTHORIZED = "unauthorized"
    GARBAGE = "garbage"
    TRUNCATED = "truncated"
    WRONG_TYPE = "wrong_type"
    HUGE = "huge"
    OUTAGE = "outage"
    REFUSED = "refused"
    REBOOT = "reboot"
    CLOUD_REVERT = "cloud_revert"


ACTION_KINDS = frozenset({FaultKind.REFUSED, FaultKind.REBOOT})
# Rules with an effect after a reply instead of on it (looked up by the code that has it).
AFTER_KINDS = frozenset({FaultKind.CLOUD_REVERT})
BODY_KINDS = frozenset(
    {FaultKind.GARBAGE, FaultKind.TRUNCATED, FaultKind.WRONG_TYPE, FaultKind.HUGE}
)


@dataclass
class Fault:
    """One fault rule.

    Attributes:
        kind: what happens.
        path: glob matched against the request path with and without its query string.
        count: how many matching requests it affects; None means until removed or expired.
        seconds: latency delay, longest hang for ``timeout`` (0 = until released), duration of
            an ``outage`` or of ``refused`` (0 = until resumed), delay of a ``cloud_revert``.
        duration: if set, the rule expires this many seconds after it was added.
        status: HTTP status of an ``error`` fault (5xx).
        size: body size in bytes of a ``huge`` fault.
        firmware: new firmware reported after a ``reboot`` (None keeps the current one).
    """

    kind: FaultKind
    path: str = "*"
    count: int | None = None
    seconds: float = 0.0
    duration: float | None = None
    status: int = 503
    size: int = 32 * 1024 * 1024
    firmware: str | None = None
    id: int = 0
    expires_at: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Reject rules that make no sense, with a message naming the bad field."""
        self.kind = FaultKind(self.kind)
        problems = [
            ("path must be a glob starting with / or *", not self.path.startswith(("/", "*"))),
            ("count must be a positive integer", self.count is not None and self.count < 1),
            ("seconds must be >= 0", self.seconds < 0),
            ("duration must be > 0", self.duration is not None and self.duration <= 0),
            ("status must be 500..599", not 500 <= self.status <= 599),
            ("size must be 1..1 GiB", not 0 < self.size <= MAX_HUGE_BYTES),
        ]
        for message, failed in problems:
            if failed:
                raise ValueError(message)
        if self.kind is FaultKind.OUTAGE and self.seconds <= 0 and self.count is None:
            raise ValueError("outage needs seconds > 0 or a count")
        if self.kind is FaultKind.CLOUD_REVERT and self.seconds <= 0:
            raise ValueError("cloud_revert needs seconds > 0 (the delay before the cloud push)")

    def matches(self, path: str, path_qs: str) -> bool:
        """Return True if this rule applies to a request for ``path_qs``."""
        return fnmatch.fnmatchcase(path_qs, self.path) or fnmatch.fnmatchcase(path, self.path)

    def to_json(self) -> dict[str, Any]:
        """Return the rule as a JSON-able dict (as the control API lists it)."""
        data = asdict(self)
        data["kind"] = str(self.kind)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build a rule from control-API JSON; raises ValueError with a clear message."""
        allowed = {"kind", "path", "count", "seconds", "duration", "status", "size", "firmware"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        if data.get("kind") not in {str(k) for k in FaultKind}:
            raise ValueError(f"kind must be one of: {', '.join(k.value for k in FaultKind)}")
        _check_types(data)
        return cls(**{k: v for k, v in data.items() if k != "kind"}, kind=FaultKind(data["kind"]))


def _check_types(data: Mapping[str, Any]) -> None:
    expect: dict[str, tuple[type, ...]] = {
        "path": (str,),
        "count": (int, type(None)),
        "seconds": (int, float),
        "duration": (int, float, type(None)),
        "status": (int,),
        "size": (int,),
        "firmware": (str, type(None)),
    }
    for key, types in expect.items():
        value = data.get(key)
        if key in data and (isinstance(value, bool) or not isinstance(value, types)):
            raise ValueError(f"{key} has the wrong type")


@dataclass
class Matched:
    """The faults that apply to one request: total added latency and at most one outcome."""

    latency: float = 0.0
    outcome: Fault | None = None


class FaultSet:
    """The active request faults of one simulator."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault, now: float) -> Fault:
        """Activate ``fault`` (a request fault) and return it with its id set."""
        fault.id = next(self._ids)
        if fault.duration is not None:
            fault.expires_at = now + fault.duration
        elif fault.kind is FaultKind.OUTAGE and fault.seconds > 0:
            fault.expires_at = now + fault.seconds
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        """Remove one rule; returns False if there was none with that id."""
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        """Remove every rule."""
        self._faults.clear()

    def active(self, now: float) -> list[Fault]:
        """Return the rules still in force at ``now``."""
        self._faults = [f for f in self._faults if f.expires_at is None or now < f.expires_at]
        return list(self._faults)

    def take(self, path: str, path_qs: str, now: float, device: bool) -> Matched:
        """Return what applies to this request, consuming one use of each applied rule.

        ``device`` is False for the fake cloud, which a device outage does not affect.
        """
        matched = Matched()
        for fault in self.active(now):
            if fault.kind in AFTER_KINDS or not fault.matches(path, path_qs):
                continue
            if fault.kind is FaultKind.OUTAGE and not device:
                continue
            if fault.kind is FaultKind.LATENCY:
                matched.latency += fault.seconds
            elif matched.outcome is None:
                matched.outcome = fault
            else:
                continue
            self._use(fault)
        return matched

    def take_after(self, kind: FaultKind, path: str, now: float) -> Fault | None:
        """The first active ``kind`` rule matching ``path``, consuming one use of it."""
        for fault in self.active(now):
            if fault.kind is kind and fault.matches(path, path):
                self._use(fault)
                return fault
        return None

    def _use(self, fault: Fault) -> None:
        if fault.count is None:
            return
        fault.count -= 1
        if fault.count == 0:
            self._faults.remove(fault)
