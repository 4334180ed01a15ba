"""CT meter sensors (HA §3.4) on the gateway device, plus extras for the other CT types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from envoy2mqtt.catalog.counters import LIFETIME
from envoy2mqtt.catalog.derived import count_of
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
from envoy2mqtt.envoy.features import PHASE_NAMES, CtType
from envoy2mqtt.envoy.models.data import MeterData

METERING_STATUS_OPTIONS = ("normal", "not-metering", "check-wiring")

_BASE = EntitySpec(key="", component=Component.SENSOR, device=DeviceKind.GATEWAY, topic="",
                   value="", state_class="measurement")  # fmt: skip
_ENERGY = replace(_BASE, device_class="energy", state_class="total_increasing", unit="Wh",
                  suggested_unit="MWh", precision=3, counter=LIFETIME)  # fmt: skip
_POWER = replace(_BASE, value=key_of(MeterData.active_power), device_class="power", unit="W",
                 suggested_unit="kW", precision=3)  # fmt: skip
_FREQ = replace(_BASE, value=key_of(MeterData.frequency), device_class="frequency", unit="Hz",
                precision=1, enabled=False)  # fmt: skip
_VOLT = replace(_BASE, value=key_of(MeterData.voltage), device_class="voltage", unit="V",
                suggested_unit="V", precision=1, enabled=False)  # fmt: skip
_AMP = replace(_BASE, value=key_of(MeterData.current), device_class="current", unit="A",
               suggested_unit="A", precision=3, enabled=False)  # fmt: skip
_PF = replace(_BASE, value=key_of(MeterData.power_factor), device_class="power_factor", precision=2,
              enabled=False)  # fmt: skip
_STATUS = replace(_BASE, value=key_of(MeterData.metering_status), device_class="enum",
                  state_class=None, options=METERING_STATUS_OPTIONS, category=Category.DIAGNOSTIC,
                  enabled=False)  # fmt: skip
# HA counts the active flags and shows 0 when the Envoy reports none.
_FLAGS = replace(_BASE, state_class=None, category=Category.DIAGNOSTIC, enabled=False,
                 **count_of(key_of(MeterData.status_flags), "status_flag_count"))  # fmt: skip


def _ct_present(ct: str) -> Condition:
    return when(f"{ct} CT enabled", lambda s: s.data.ctmeters.get(ct) is not None)


def _for_ct(ct: str, rows: tuple[EntitySpec, ...]) -> tuple[EntitySpec, ...]:
    cond = _ct_present(ct)
    return tuple(replace(r, topic=f"meters/{ct}", condition=cond) for r in rows)


NET = _for_ct(CtType.NET_CONSUMPTION, (
    replace(_ENERGY, key="lifetime_net_consumption", value=key_of(MeterData.energy_delivered),
            name="Lifetime net energy consumption"),
    replace(_ENERGY, key="lifetime_net_production", value=key_of(MeterData.energy_received),
            name="Lifetime net energy production"),
    replace(_POWER, key="net_consumption", name="Current net power consumption"),
    replace(_FREQ, key="frequency", name="Frequency net consumption CT"),
    replace(_VOLT, key="voltage", name="Voltage net consumption CT"),
    replace(_AMP, key="net_ct_current", name="Net consumption CT current"),
    replace(_PF, key="net_ct_powerfactor", name="Power factor net consumption CT"),
    replace(_STATUS, key="net_consumption_ct_metering_status",
            name="Metering status net consumption CT"),
    replace(_FLAGS, key="net_consumption_ct_status_flags",
            name="Meter status flags active net consumption CT"),
))  # fmt: skip

PRODUCTION = _for_ct(CtType.PRODUCTION, (
    replace(_FREQ, key="production_ct_frequency", name="Frequency production CT"),
    replace(_VOLT, key="production_ct_voltage", name="Voltage production CT"),
    replace(_AMP, key="production_ct_current", name="Production CT current"),
    replace(_PF, key="production_ct_powerfactor", name="Power factor production CT"),
    replace(_STATUS, key="production_ct_metering_status", name="Metering status production CT"),
    replace(_FLAGS, key="production_ct_status_flags",
            name="Meter status flags active production CT"),
))  # fmt: skip

STORAGE = _for_ct(CtType.STORAGE, (
    replace(_ENERGY, key="lifetime_battery_discharged", value=key_of(MeterData.energy_delivered),
            name="Lifetime battery energy discharged"),
    replace(_ENERGY, key="lifetime_battery_charged", value=key_of(MeterData.energy_received),
            name="Lifetime battery energy charged"),
    replace(_POWER, key="battery_discharge", name="Current battery discharge"),
    replace(_FREQ, key="storage_ct_frequency", name="Frequency storage CT"),
    replace(_VOLT, key="storage_voltage", name="Voltage storage CT"),
    replace(_AMP, key="storage_ct_current", name="Storage CT current"),
    replace(_PF, key="storage_ct_powerfactor", name="Power factor storage CT"),
    replace(_STATUS, key="storage_ct_metering_status", name="Metering status storage CT"),
    replace(_FLAGS, key="storage_ct_status_flags", name="Meter status flags active storage CT"),
))  # fmt: skip


def _phase_test(ct: str) -> Callable[[Snapshot, str], bool]:
    def present(snapshot: Snapshot, phase: str) -> bool:
        return snapshot.data.ctmeters_phases.get(ct, {}).get(phase) is not None

    return present


def _with_phases(ct: str, rows: tuple[EntitySpec, ...]) -> tuple[EntitySpec, ...]:
    test = _phase_test(ct)
    return rows + tuple(v for row in rows for v in phase_variants(row, test, PHASE_NAMES))


_EXTRA_TYPES = (CtType.TOTAL_CONSUMPTION, CtType.BACKFEED, CtType.LOAD, CtType.EVSE, CtType.PV3P)


def _extra_rows(ct: str) -> tuple[EntitySpec, ...]:
    """Readings of CT types HA ignores (extras, disabled by default)."""
    slug = ct.replace("-", "_")
    label = ct.replace("-", " ").capitalize()
    return _for_ct(ct, (
        replace(_POWER, key=f"{slug}_ct_power", name=f"{label} CT power"),
        replace(_ENERGY, key=f"{slug}_ct_energy_delivered",
                value=key_of(MeterData.energy_delivered),
                name=f"{label} CT lifetime energy delivered"),
        replace(_ENERGY, key=f"{slug}_ct_energy_received", value=key_of(MeterData.energy_received),
                name=f"{label} CT lifetime energy received"),
    ))  # fmt: skip


EXTRAS = tuple(
    replace(row, enabled=False, extra=True) for ct in _EXTRA_TYPES for row in _extra_rows(ct)
)

SPECS: tuple[EntitySpec, ...] = (
    _with_phases(CtType.NET_CONSUMPTION, NET)
    + _with_phases(CtType.PRODUCTION, PRODUCTION)
    + _with_phases(CtType.STORAGE, STORAGE)
    + EXTRAS
)
