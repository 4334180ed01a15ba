"""State topics, declared once: what each ``<base>/<sn>/<topic>`` payload holds and where from.

A *state topic* is what consumers subscribe to; a *data group* (:mod:`envoy2mqtt.envoy.groups`)
is what the client polls together. One state topic takes its values from one data group
(``storage`` from the ``tariff`` group, ``acb`` from ``production``), or from the probe and
the bridge (``gateway``). Its payload keys are the fields of its Structs plus the few keys
``catalog/state.py`` adds (``extra``); a catalogue row that reads any other key fails at
import (:func:`check_row_key`), so a misspelt field name cannot reach a value template.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import msgspec

from envoy2mqtt.catalog.fields import FieldKey
from envoy2mqtt.catalog.spec import StateTopic
from envoy2mqtt.catalog.storage import STORAGE
from envoy2mqtt.envoy import groups
from envoy2mqtt.envoy.models import data as m

__all__ = ["STATE_TOPICS", "state_topic_of", "volatile_keys"]


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


GATEWAY: Final = StateTopic(
    "gateway",
    None,
    extra=_keys(
        "serial", "firmware", "part_number", "model", "supported_features", "phase_count",
        "phase_mode", "active_phase_count", "ct_meter_count", "production_meter_type",
        "consumption_meter_type", "storage_meter_type", "ct_meters", "token_expires_at",
        "last_poll", "mac", "network_interface", "network_type",
    ),
    volatile=_keys("last_poll", "last_poll_iso"),
)  # fmt: skip
PRODUCTION: Final = StateTopic("production", groups.PRODUCTION, (m.SystemEnergy,))
CONSUMPTION: Final = StateTopic("consumption", groups.PRODUCTION, (m.SystemEnergy,))
NET_CONSUMPTION: Final = StateTopic("net_consumption", groups.PRODUCTION, (m.SystemEnergy,))
# The CT reading time, also inside "phases".
METERS: Final = StateTopic(
    "meters/{id}", groups.METERS, (m.MeterData,), volatile=_keys("timestamp")
)
LIVEDATA: Final = StateTopic(
    "livedata",
    groups.LIVEDATA,
    (m.LiveData, m.LivePhase),
    volatile=_keys("last_update", "last_update_iso"),
)
INVERTERS: Final = StateTopic("inverters/{id}", groups.INVERTERS, (m.Inverter,))
BATTERIES: Final = StateTopic("batteries/{id}", groups.ENSEMBLE, (m.Encharge, m.EnchargePower))
# The combined aggregate shares field names with the Encharge one: prefixed there.
BATTERY: Final = StateTopic(
    "battery",
    groups.ENSEMBLE,
    (m.EnchargeAggregate,),
    extra=frozenset(f"aggregated_{f.name}" for f in msgspec.structs.fields(m.BatteryAggregate)),
)
ACB: Final = StateTopic("acb", groups.PRODUCTION, (m.ACBPower,))
ENPOWER: Final = StateTopic("enpower", groups.ENSEMBLE, (m.Enpower,))
COLLAR: Final = StateTopic("collar", groups.ENSEMBLE, (m.Collar,), extra=_keys("grid_status"))
C6CC: Final = StateTopic("c6cc", groups.ENSEMBLE, (m.C6CC,))
# Settings words as commands take them under the field name, the Envoy's under envoy_<field>.
DRY_CONTACTS: Final = StateTopic(
    "dry_contacts/{id}",
    groups.DRY_CONTACTS,
    (m.DryContactStatus, m.DryContactSettings),
    extra=_keys(
        "envoy_mode", "envoy_grid_action", "envoy_micro_grid_action", "envoy_generator_action"
    ),
)
# STORAGE (from the tariff) is declared with its payload, controls and rows in storage.py.
GENERATOR: Final = StateTopic(
    "generator", groups.GENERATOR, (m.Generator,), extra=_keys("config", "mode", "exercise")
)

STATE_TOPICS: Final[tuple[StateTopic, ...]] = (
    GATEWAY, PRODUCTION, CONSUMPTION, NET_CONSUMPTION, METERS, LIVEDATA, INVERTERS,
    BATTERIES, BATTERY, ACB, ENPOWER, COLLAR, C6CC, DRY_CONTACTS, STORAGE, GENERATOR,
)  # fmt: skip
_BY_FIRST_LEVEL: Final = {t.first_level: t for t in STATE_TOPICS}


def state_topic_of(suffix: str) -> StateTopic | None:
    """The declaration of a published suffix (``meters/net-consumption``), if any."""
    return _BY_FIRST_LEVEL.get(suffix.split("/", 1)[0])


def volatile_keys(suffix: str) -> frozenset[str]:
    """The volatile keys of the state topic ``suffix`` (e.g. ``meters/production``)."""
    topic = state_topic_of(suffix)
    return topic.volatile if topic is not None else frozenset()


def check_row_key(topic: StateTopic, key: str, where: str) -> None:
    """Raise ``TypeError`` unless ``key`` is a payload key of ``topic`` (import-time check).

    A :class:`~envoy2mqtt.catalog.fields.FieldKey` must also be a field of one of the
    topic's payload Structs, not merely share a name with one.
    """
    if key not in topic.keys:
        known = ", ".join(sorted(topic.keys))
        raise TypeError(f"{where}: {topic.pattern!r} has no key {key!r} (known: {known})")
    if isinstance(key, FieldKey) and not any(issubclass(s, key.owner) for s in topic.structs):
        names = ", ".join(s.__name__ for s in topic.structs) or "none"
        raise TypeError(
            f"{where}: {key.owner.__name__}.{key} is not a payload Struct field of "
            f"{topic.pattern!r} (its Structs: {names})"
        )


def check_patterns(patterns: Iterable[str]) -> None:
    """Every pattern is declared (used by the row check)."""
    declared = {t.pattern for t in STATE_TOPICS}
    if stray := sorted(set(patterns) - declared):
        raise TypeError(f"state topics without a declaration: {', '.join(stray)}")
