"""Live power flows from ``/ivp/livedata/status`` (our extras, topic ``livedata``), gateway device.

Read on the fast tier, these give systems without CTs (batteries + IQ System Controller)
second-by-second power. Aggregates are enabled by default, per-phase variants are not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from envoy2mqtt.catalog.derived import iso_of
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.spec import (
    Category,
    Component,
    Condition,
    DeviceKind,
    EntitySpec,
    phase_variants,
    when,
)
from envoy2mqtt.envoy.features import PHASE_NAMES
from envoy2mqtt.envoy.models.live import LiveData


def _reported(attr: str) -> Condition:
    def test(snapshot: Snapshot) -> bool:
        live = snapshot.data.livedata
        return live is not None and getattr(live, attr) is not None

    return when(f"livedata.{attr} reported", test)


def _phase_reported(attr: str) -> Callable[[Snapshot, str], bool]:
    def present(snapshot: Snapshot, phase: str) -> bool:
        live = snapshot.data.livedata
        values = live.phases.get(phase) if live is not None else None
        return values is not None and getattr(values, attr) is not None

    return present


def _has_batteries(s: Snapshot) -> bool:
    d = s.data
    return bool(d.encharge_inventory) or d.acb_power is not None or d.battery_aggregate is not None


_BATTERIES = when("batteries present", _has_batteries)
_GENERATOR = when(
    "generator present",
    lambda s: s.data.generator is not None or s.data.generator_config is not None,
)

_BASE = EntitySpec(key="", component=Component.SENSOR, device=DeviceKind.GATEWAY,
                   topic="livedata", value="", extra=True)  # fmt: skip
_POWER = replace(_BASE, device_class="power", state_class="measurement", unit="W",
                 suggested_unit="kW", precision=3)  # fmt: skip
_LEVEL = replace(_BASE, device_class="battery", state_class="measurement", unit="%")


def _power(key: str, attr: str, name: str, extra: Condition | None = None) -> EntitySpec:
    condition = _reported(attr) if extra is None else _reported(attr) & extra
    return replace(_POWER, key=key, value=attr, name=name, condition=condition)


POWERS: tuple[EntitySpec, ...] = (
    _power("live_pv_power", key_of(LiveData.pv_power), "Live solar power"),
    _power("live_grid_power", key_of(LiveData.grid_power), "Live grid power"),
    _power("live_load_power", key_of(LiveData.load_power), "Live load power"),
    _power("live_storage_power", key_of(LiveData.storage_power), "Live battery power", _BATTERIES),
    _power(
        "live_generator_power", key_of(LiveData.generator_power), "Live generator power", _GENERATOR
    ),
)

OTHERS: tuple[EntitySpec, ...] = (
    replace(_LEVEL, key="live_soc", value=key_of(LiveData.soc), name="Live battery level",
            condition=_reported("soc") & _BATTERIES),
    replace(_LEVEL, key="live_backup_soc", value=key_of(LiveData.backup_soc),
            name="Live battery reserve",
            enabled=False, condition=_reported("backup_soc") & _BATTERIES),
    replace(_BASE, key="live_last_update", name="Live data updated", device_class="timestamp",
            category=Category.DIAGNOSTIC, enabled=False, condition=_reported("last_update"),
            **iso_of(key_of(LiveData.last_update))),
)  # fmt: skip


def _variants(row: EntitySpec) -> list[EntitySpec]:
    return phase_variants(row, _phase_reported(row.value), PHASE_NAMES)


SPECS: tuple[EntitySpec, ...] = POWERS + OTHERS + tuple(v for row in POWERS for v in _variants(row))
