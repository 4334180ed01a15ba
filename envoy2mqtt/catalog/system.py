"""System production / consumption / balanced net consumption (HA §3.1-3.3), gateway device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from envoy2mqtt.catalog.counters import BALANCED, LIFETIME, Daily, Period
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.spec import (
    Component,
    Condition,
    DeviceKind,
    EntitySpec,
    phase_variants,
    when,
)
from envoy2mqtt.envoy.features import PHASE_NAMES
from envoy2mqtt.envoy.models.data import SystemEnergy

_POWER = EntitySpec(
    key="", component=Component.SENSOR, device=DeviceKind.GATEWAY, topic="",
    value=key_of(SystemEnergy.watts_now), device_class="power", state_class="measurement", unit="W",
    suggested_unit="kW", precision=3,
)  # fmt: skip
_TODAY = replace(
    _POWER, value=key_of(SystemEnergy.watt_hours_today), device_class="energy",
        state_class="total_increasing",
    unit="Wh", suggested_unit="kWh", precision=2,
    counter=Daily("watt_hours_lifetime", Period.TODAY),
)  # fmt: skip
_WEEK = replace(_TODAY, value=key_of(SystemEnergy.watt_hours_last_7_days), state_class=None,
                precision=1, counter=Daily("watt_hours_lifetime", Period.LAST_7_DAYS))  # fmt: skip
_LIFETIME = replace(_TODAY, value=key_of(SystemEnergy.watt_hours_lifetime), suggested_unit="MWh",
                    precision=3, counter=LIFETIME)  # fmt: skip

_PROD = when("always", lambda _s: True)
_CONS = when("data.system_consumption set", lambda s: s.data.system_consumption is not None)
_NET = when("data.system_net_consumption set", lambda s: s.data.system_net_consumption is not None)


def _grouped(
    topic: str, condition: Condition, rows: tuple[EntitySpec, ...], *, enabled: bool = True
) -> tuple[EntitySpec, ...]:
    return tuple(replace(r, topic=topic, condition=condition, enabled=enabled) for r in rows)


PRODUCTION = _grouped("production", _PROD, (
    replace(_POWER, key="production", name="Current power production"),
    replace(_TODAY, key="daily_production", name="Energy production today"),
    replace(_WEEK, key="seven_days_production", name="Energy production last seven days"),
    replace(_LIFETIME, key="lifetime_production", name="Lifetime energy production"),
))  # fmt: skip

CONSUMPTION = _grouped("consumption", _CONS, (
    replace(_POWER, key="consumption", name="Current power consumption"),
    replace(_TODAY, key="daily_consumption", name="Energy consumption today"),
    replace(_WEEK, key="seven_days_consumption", name="Energy consumption last seven days"),
    replace(_LIFETIME, key="lifetime_consumption", name="Lifetime energy consumption"),
))  # fmt: skip

NET_CONSUMPTION = _grouped("net_consumption", _NET, enabled=False, rows=(
    replace(_POWER, key="balanced_net_consumption", name="Balanced net power consumption"),
    # Falls while exporting (HA's entity is `total`): not a guarded lifetime counter.
    replace(_LIFETIME, key="lifetime_balanced_net_consumption", state_class="total",
            suggested_unit="kWh", name="Lifetime balanced net energy consumption",
            counter=BALANCED),
))  # fmt: skip


def _phase_test(attr: str) -> Callable[[Snapshot, str], bool]:
    def present(snapshot: Snapshot, phase: str) -> bool:
        phases = getattr(snapshot.data, attr)
        return bool(phases) and phases.get(phase) is not None

    return present


def _with_phases(rows: tuple[EntitySpec, ...], attr: str) -> tuple[EntitySpec, ...]:
    variants = [v for row in rows for v in phase_variants(row, _phase_test(attr), PHASE_NAMES)]
    return rows + tuple(variants)


SPECS: tuple[EntitySpec, ...] = (
    _with_phases(PRODUCTION, "system_production_phases")
    + _with_phases(CONSUMPTION, "system_consumption_phases")
    + _with_phases(NET_CONSUMPTION, "system_net_consumption_phases")
)
