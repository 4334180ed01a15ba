"""Micro-inverter sensors (HA §3.5), one Inverter device each, topic ``inverters/<serial>``."""

from __future__ import annotations

from dataclasses import replace

from envoy2mqtt.catalog.counters import LIFETIME, Daily, Period
from envoy2mqtt.catalog.derived import iso_of
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.spec import (
    Category,
    Component,
    DeviceKind,
    EntitySpec,
    when_item,
)
from envoy2mqtt.envoy.models.data import Inverter

_INVERTER = when_item("serial in data.inverters", lambda s, i: i in s.data.inverters)
_BASE = EntitySpec(
    key="", component=Component.SENSOR, device=DeviceKind.INVERTER, topic="inverters/{id}",
    value="", state_class="measurement", precision=3, enabled=False, condition=_INVERTER,
)  # fmt: skip
_E = replace(_BASE, device_class="energy", state_class="total_increasing", unit="Wh",
             precision=None)  # fmt: skip

SPECS: tuple[EntitySpec, ...] = (
    replace(_BASE, key="inverters", value=key_of(Inverter.last_report_watts), device_name_only=True,
            device_class="power", unit="W", precision=None, enabled=True),
    replace(_BASE, key="dc_voltage", value=key_of(Inverter.dc_voltage), name="DC voltage",
            device_class="voltage", unit="V"),
    replace(_BASE, key="dc_current", value=key_of(Inverter.dc_current), name="DC current",
            device_class="current", unit="A"),
    replace(_BASE, key="ac_voltage", value=key_of(Inverter.ac_voltage), name="AC voltage",
            device_class="voltage", unit="V"),
    replace(_BASE, key="ac_current", value=key_of(Inverter.ac_current), name="AC current",
            device_class="current", unit="A"),
    replace(_BASE, key="ac_frequency", value=key_of(Inverter.ac_frequency),
            device_class="frequency", unit="Hz"),
    replace(_BASE, key="temperature", value=key_of(Inverter.temperature),
            device_class="temperature", unit="°C", category=Category.DIAGNOSTIC),
    replace(_E, key="lifetime_energy", value=key_of(Inverter.lifetime_energy),
            name="Lifetime energy production", suggested_unit="kWh", counter=LIFETIME),
    replace(_E, key="energy_today", value=key_of(Inverter.energy_today),
            name="Energy production today", counter=Daily("lifetime_energy", Period.TODAY)),
    replace(_BASE, key="last_report_duration", value=key_of(Inverter.last_report_duration),
            name="Last report duration", device_class="duration", unit="s", precision=None,
            category=Category.DIAGNOSTIC),
    replace(_BASE, key="energy_produced", value=key_of(Inverter.energy_produced),
            name="Energy production since previous report", device_class="energy",
            state_class="total", unit="mWh"),
    replace(_BASE, key="max_reported", value=key_of(Inverter.max_report_watts),
            name="Lifetime maximum power",
            device_class="power", unit="W", precision=None, category=Category.DIAGNOSTIC),
    replace(_BASE, key="last_reported", name="Last reported", device_class="timestamp",
            state_class=None, precision=None, **iso_of(key_of(Inverter.last_report_date))),
)  # fmt: skip
