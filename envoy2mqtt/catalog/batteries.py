"""IQ Battery (Encharge) devices, Encharge and battery aggregates, ACB (HA §3.6-3.10)."""

from __future__ import annotations

from dataclasses import replace

from envoy2mqtt.catalog.derived import iso_of, scaled_of
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.spec import (
    Category,
    Component,
    DeviceKind,
    EntitySpec,
    when,
    when_item,
)
from envoy2mqtt.envoy.models.devices import ACBPower, Encharge, EnchargeAggregate, EnchargePower

_IN_INVENTORY = when_item(
    "serial in data.encharge_inventory", lambda s, i: i in (s.data.encharge_inventory or {})
)
_IN_POWER = when_item(
    "serial in data.encharge_power", lambda s, i: i in (s.data.encharge_power or {})
)
_BATTERY = EntitySpec(
    key="", component=Component.SENSOR, device=DeviceKind.ENCHARGE, topic="batteries/{id}",
    value="", state_class="measurement",
)  # fmt: skip

ENCHARGE = (
    replace(_BATTERY, key="temperature", value=key_of(Encharge.temperature),
            device_class="temperature", unit="°C", condition=_IN_INVENTORY),
    replace(_BATTERY, key="last_reported", name="Last reported", device_class="timestamp",
            state_class=None, condition=_IN_INVENTORY, **iso_of(key_of(Encharge.last_report_date))),
    replace(_BATTERY, key="soc", value=key_of(EnchargePower.soc), device_class="battery", unit="%",
            condition=_IN_POWER),
    # The Envoy reports milli-VA / milli-watts; HA shows VA / W.
    replace(_BATTERY, key="apparent_power_mva", device_class="apparent_power", unit="VA",
            condition=_IN_POWER, **scaled_of(key_of(EnchargePower.apparent_power_mva),
                "apparent_power_va", 0.001, 3)),
    replace(_BATTERY, key="real_power_mw", device_class="power", unit="W", condition=_IN_POWER,
            **scaled_of(key_of(EnchargePower.real_power_mw), "real_power_w", 0.001, 3)),
    replace(_BATTERY, key="communicating", component=Component.BINARY_SENSOR,
            value=key_of(Encharge.communicating), name="Communicating", device_class="connectivity",
            state_class=None, category=Category.DIAGNOSTIC, condition=_IN_INVENTORY),
    replace(_BATTERY, key="dc_switch", component=Component.BINARY_SENSOR,
            value=key_of(Encharge.dc_switch_off), name="DC switch", state_class=None,
            category=Category.DIAGNOSTIC, states=(False, True), condition=_IN_INVENTORY),
)  # fmt: skip

_AGG = when("data.encharge_aggregate set", lambda s: s.data.encharge_aggregate is not None)
_GW = replace(_BATTERY, device=DeviceKind.GATEWAY, topic="battery", condition=_AGG)
_STORED = replace(_GW, device_class="energy_storage", unit="Wh")

ENCHARGE_AGGREGATE = (
    replace(_GW, key="battery_level", value=key_of(EnchargeAggregate.state_of_charge),
            device_class="battery", unit="%"),
    replace(_GW, key="reserve_soc", value=key_of(EnchargeAggregate.reserve_state_of_charge),
            name="Reserve battery level", device_class="battery", unit="%"),
    replace(_STORED, key="available_energy", value=key_of(EnchargeAggregate.available_energy),
            name="Available battery energy"),
    replace(_STORED, key="reserve_energy", value=key_of(EnchargeAggregate.backup_reserve),
            name="Reserve battery energy"),
    replace(_STORED, key="max_capacity", value=key_of(EnchargeAggregate.max_available_capacity),
            name="Battery capacity", state_class=None),
    # HA has the name but no sensor for the configured (unadjusted) reserve.
    replace(_GW, key="configured_reserve_soc",
            value=key_of(EnchargeAggregate.configured_reserve_state_of_charge),
            name="Configured reserve battery level", device_class="battery", unit="%",
            enabled=False, extra=True),
)  # fmt: skip

_BAGG = when("data.battery_aggregate set", lambda s: s.data.battery_aggregate is not None)
BATTERY_AGGREGATE = (
    replace(_GW, key="aggregated_soc", value="aggregated_state_of_charge",
            name="Aggregated battery SOC", device_class="battery", unit="%", condition=_BAGG),
    replace(_STORED, key="aggregated_available_energy", value="aggregated_available_energy",
            name="Aggregated available battery energy", condition=_BAGG),
    replace(_STORED, key="aggregated_max_battery_capacity",
            value="aggregated_max_available_capacity", name="Aggregated Battery capacity",
            state_class=None, condition=_BAGG),
)  # fmt: skip

ACB_STATES = ("discharging", "idle", "charging", "full")
_ACB = when("data.acb_power set", lambda s: s.data.acb_power is not None)
_ACB_DEV = replace(_BATTERY, device=DeviceKind.ACB, topic="acb", condition=_ACB)

ACB = (
    replace(_ACB_DEV, key="acb_power", value=key_of(ACBPower.power), device_class="power",
            unit="W"),
    replace(_ACB_DEV, key="acb_soc", value=key_of(ACBPower.state_of_charge),
            device_class="battery", unit="%"),
    replace(_ACB_DEV, key="acb_battery_state", value=key_of(ACBPower.state), name="Battery state",
            device_class="enum", state_class=None, options=ACB_STATES),
    replace(_ACB_DEV, key="acb_available_energy", device=DeviceKind.GATEWAY,
            value=key_of(ACBPower.charge_wh),
            name="Available ACB battery energy", device_class="energy_storage", unit="Wh"),
)  # fmt: skip

SPECS: tuple[EntitySpec, ...] = ENCHARGE + ENCHARGE_AGGREGATE + BATTERY_AGGREGATE + ACB
