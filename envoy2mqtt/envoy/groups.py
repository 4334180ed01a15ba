"""Data groups, declared once: what is polled together, from where, into which fields.

A *data group* is the unit of polling: its endpoints are read in one update, the
:class:`~envoy2mqtt.envoy.models.data.EnvoyData` fields it fills are replaced together
(or, on failure, all kept), and its *tier* says how often the bridge reads it. Each group
is declared here and nowhere else; the probe, the write re-reads, the bridge's tiers and
the catalogue's state topics refer to these objects. (A group is not a topic: the state
topics the catalogue publishes are *state topics*, see ``catalog/state_topics.py``.)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import msgspec

from envoy2mqtt.envoy import endpoints as ep
from envoy2mqtt.envoy.models.data import EnvoyData

__all__ = [
    "ACB_INVENTORY",
    "ALL_GROUPS",
    "DATA_GROUPS",
    "DRY_CONTACTS",
    "ENSEMBLE",
    "GENERATOR",
    "INVERTERS",
    "LIVEDATA",
    "METERS",
    "PRODUCTION",
    "TARIFF",
    "DataGroup",
    "Tier",
    "group_fields",
]


class Tier(enum.StrEnum):
    """How often a group is read (the bridge maps each tier to an interval and a loop)."""

    FAST = "fast"
    NORMAL = "normal"
    #: At the normal interval, in a loop of its own: a real ``/production.json`` can take
    #: 30-60 s and must neither hold back the normal tier nor be cut off.
    LONG = "long"
    SLOW = "slow"


@dataclass(frozen=True, slots=True)
class DataGroup:
    """One data group: its name, the endpoints it may read, the fields it fills, its tier."""

    name: str
    endpoints: tuple[str, ...]
    fields: tuple[str, ...]
    tier: Tier

    def __str__(self) -> str:
        return self.name


METERS: Final = DataGroup(
    "meters",
    (ep.METERS_READINGS, ep.METERS),
    (
        "ctmeters",
        "ctmeters_phases",
        "ctmeter_production",
        "ctmeter_consumption",
        "ctmeter_storage",
        "ctmeter_production_phases",
        "ctmeter_consumption_phases",
        "ctmeter_storage_phases",
    ),
    Tier.FAST,
)
LIVEDATA: Final = DataGroup(
    "livedata", (ep.LIVEDATA_STATUS, ep.LIVEDATA_STREAM), ("livedata",), Tier.FAST
)
PRODUCTION: Final = DataGroup(
    "production",
    (ep.PRODUCTION_JSON, ep.PRODUCTION, ep.PRODUCTION_V1),
    (
        "system_production",
        "system_production_phases",
        "system_consumption",
        "system_consumption_phases",
        "system_net_consumption",
        "system_net_consumption_phases",
        "acb_power",
    ),
    Tier.LONG,
)
INVERTERS: Final = DataGroup(
    "inverters", (ep.DEVICE_DATA, ep.INVERTERS_V1), ("inverters",), Tier.NORMAL
)
ENSEMBLE: Final = DataGroup(
    "ensemble",
    (ep.ENSEMBLE_INVENTORY, ep.ENSEMBLE_POWER, ep.ENSEMBLE_SECCTRL),
    (
        "encharge_inventory",
        "encharge_power",
        "encharge_aggregate",
        "enpower",
        "battery_aggregate",
        "collar",
        "c6cc",
    ),
    Tier.NORMAL,
)
DRY_CONTACTS: Final = DataGroup(
    "dry_contacts",
    (ep.DRY_CONTACTS, ep.DRY_CONTACT_SETTINGS),
    ("dry_contact_status", "dry_contact_settings"),
    Tier.NORMAL,
)
GENERATOR: Final = DataGroup(
    "generator",
    (ep.GEN_CONFIG, ep.GENERATOR, ep.GEN_SCHEDULE, ep.GEN_MODE),
    ("generator", "generator_config", "generator_schedule", "generator_mode"),
    Tier.NORMAL,
)
TARIFF: Final = DataGroup("tariff", (ep.TARIFF,), ("tariff",), Tier.SLOW)
ACB_INVENTORY: Final = DataGroup("acb_inventory", (ep.INVENTORY,), ("acb_inventory",), Tier.SLOW)

DATA_GROUPS: Final[dict[str, DataGroup]] = {
    g.name: g
    for g in (
        METERS,
        LIVEDATA,
        PRODUCTION,
        INVERTERS,
        ENSEMBLE,
        DRY_CONTACTS,
        GENERATOR,
        TARIFF,
        ACB_INVENTORY,
    )
}
"""Every data group by name, in update order."""

ALL_GROUPS: Final = tuple(DATA_GROUPS)


def group_fields(name: str) -> tuple[str, ...]:
    """The :class:`EnvoyData` fields the group ``name`` fills."""
    return DATA_GROUPS[name].fields


def _check() -> None:
    """Every field is an ``EnvoyData`` field, owned by exactly one group (checked at import)."""
    known = {f.name for f in msgspec.structs.fields(EnvoyData)}
    owned = [name for g in DATA_GROUPS.values() for name in g.fields]
    if unknown := sorted(set(owned) - known):
        raise TypeError(f"data groups name fields EnvoyData lacks: {', '.join(unknown)}")
    if len(owned) != len(set(owned)):
        raise TypeError("an EnvoyData field is declared by two data groups")
    if orphans := sorted(known - set(owned)):
        raise TypeError(f"EnvoyData fields no data group fills: {', '.join(orphans)}")


_check()
