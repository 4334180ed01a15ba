"""Poll tiers, their request budgets and the availability rule (pure logic, no I/O).

Each tier runs as its own task so that a slow endpoint (tariff, inventory) never delays the
fast live readings. ``production`` has a loop of its own (the *long* tier, at the normal
interval): a real Envoy's ``/production.json`` can take 30-60 s to answer, which must
neither hold back the other normal-tier groups nor be cut off before it arrives.

A tier's poll must finish within its *budget* (a share of its interval, bounded; 75 s for
the long tier) or it is cancelled and its groups are stale; the next tick is then scheduled
on the tier's fixed rate, skipping ticks that were missed instead of bursting to catch up.

The *firmware* tier reads no data group: it re-reads ``/info`` (cheap, unauthenticated) every
``intervals.firmware`` seconds, so a firmware update is noticed even when the bridge never
saw the gateway reboot; a changed version re-authenticates and re-probes. The worker also
runs it at once when an Envoy comes back after being offline (a reboot, maybe an update).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass

from envoy2mqtt.envoy.groups import DATA_GROUPS
from envoy2mqtt.envoy.groups import Tier as GroupTier


def _declared(*tiers: GroupTier) -> tuple[str, ...]:
    """The data groups declared (``envoy/groups.py``) with one of ``tiers``, in update order."""
    return tuple(g.name for g in DATA_GROUPS.values() if g.tier in tiers)


FAST_GROUPS: tuple[str, ...] = _declared(GroupTier.FAST)
#: The normal interval: its own loop, and the long tier's groups.
NORMAL_GROUPS: tuple[str, ...] = _declared(GroupTier.NORMAL, GroupTier.LONG)
SLOW_GROUPS: tuple[str, ...] = _declared(GroupTier.SLOW)
#: Groups whose endpoint may take up to a minute: read in the long tier.
LONG_GROUPS: tuple[str, ...] = _declared(GroupTier.LONG)
#: Budget of the long tier: room for a 60 s answer plus a retry of a quick failure.
LONG_BUDGET = 75.0
#: Default seconds between two ``/info`` re-checks (``intervals.firmware``).
FIRMWARE_CHECK = 3600.0

_BUDGET_SHARE = 0.8
_BUDGET_MIN = 2.0
_BUDGET_MAX = 45.0


class TierName(enum.StrEnum):
    """The poll tiers."""

    FAST = "fast"
    NORMAL = "normal"
    LONG = "long"
    SLOW = "slow"
    FIRMWARE = "firmware"


@dataclass(frozen=True)
class Tier:
    """One poll loop: which data groups it reads, how often, within which time budget."""

    name: TierName
    interval: float
    groups: tuple[str, ...]
    check_info: bool = False

    @property
    def budget(self) -> float:
        """Seconds one poll of this tier may take (timeouts and retries included)."""
        if self.name is TierName.LONG:
            return LONG_BUDGET
        return min(max(self.interval * _BUDGET_SHARE, _BUDGET_MIN), _BUDGET_MAX)


def plan_tiers(
    fast: float,
    normal: float,
    slow: float,
    groups: Iterable[str] | None,
    firmware: float = FIRMWARE_CHECK,
) -> list[Tier]:
    """Assign the Envoy's data groups to tiers.

    Args:
        fast: fast interval (seconds).
        normal: normal interval.
        slow: slow interval.
        groups: the groups this Envoy offers (None: every known group; the client skips
            what it does not have). Unknown group names go to the normal tier.
        firmware: seconds between two /info re-checks.

    Returns:
        The tiers that have work; the firmware tier always exists (it re-checks /info).
    """
    known = (*FAST_GROUPS, *NORMAL_GROUPS, *SLOW_GROUPS)
    offered = list(known if groups is None else dict.fromkeys(groups))
    fast_g = tuple(g for g in offered if g in FAST_GROUPS)
    slow_g = tuple(g for g in offered if g in SLOW_GROUPS)
    long_g = tuple(g for g in offered if g in LONG_GROUPS)
    other = (*FAST_GROUPS, *SLOW_GROUPS, *LONG_GROUPS)
    normal_g = tuple(g for g in offered if g not in other)
    tiers = [
        Tier(TierName.FAST, fast, fast_g),
        Tier(TierName.NORMAL, normal, normal_g),
        Tier(TierName.LONG, normal, long_g),
        Tier(TierName.SLOW, slow, slow_g),
        Tier(TierName.FIRMWARE, firmware, (), check_info=True),
    ]
    return [t for t in tiers if t.groups or t.check_info]


def next_tick(previous_tick: float, interval: float, now: float) -> float:
    """Return the next fixed-rate tick after ``previous_tick`` that is not in the past.

    Missed ticks (a poll that took longer than the interval) are skipped, never replayed.
    """
    tick = previous_tick + interval
    if tick >= now:
        return tick
    missed = math.ceil((now - tick) / interval)
    return tick + missed * interval


def fastest_data_tier(tiers: Iterable[Tier]) -> Tier | None:
    """The most frequent tier that reads data (None: only the /info check)."""
    return min((t for t in tiers if t.groups), key=lambda t: t.interval, default=None)


class FailureKind(enum.StrEnum):
    """Why a whole poll failed."""

    UNREACHABLE = "unreachable"
    AUTH = "auth"


class Availability:
    """Decides ``online``/``offline`` for one Envoy (docs/mqtt-contract.md, "Availability").

    Online after a successful poll of a data tier. Offline when no poll succeeded for more
    than ``grace`` seconds, and at once when authentication is impossible. Unreachable polls
    and polls where only some groups failed (those groups are stale) do not shorten the
    grace: they are what the grace period is there to ride out.
    """

    def __init__(self, grace: float) -> None:
        """Create the tracker; the Envoy starts offline (nothing known yet)."""
        self.grace = grace
        self._last_ok: float | None = None
        self._auth_failed = False
        self.online = False

    def success(self, now: float) -> bool:
        """Record a successful poll; returns True when availability changed."""
        self._last_ok = now
        self._auth_failed = False
        return self._set(online=True)

    def failure(self, now: float, kind: FailureKind) -> bool:
        """Record a failed poll; returns True when availability changed."""
        if kind is FailureKind.AUTH:
            self._auth_failed = True
        return self.evaluate(now)

    def deadline(self) -> float | None:
        """When the grace runs out without another success (None: offline already)."""
        if self._last_ok is None or not self.online:
            return None
        return self._last_ok + self.grace

    def evaluate(self, now: float) -> bool:
        """Re-check the grace period; returns True when availability changed."""
        if self._last_ok is None:
            return self._set(online=False)
        expired = now - self._last_ok > self.grace
        return self._set(online=not (self._auth_failed or expired))

    def _set(self, *, online: bool) -> bool:
        changed = online != self.online
        self.online = online
        return changed
