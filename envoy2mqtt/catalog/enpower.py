"""IQ System Controller (Enpower) entities, incl. the grid relay switch (HA §3.8, §4, §5.1)."""

from __future__ import annotations

from dataclasses import replace

from envoy2mqtt.catalog.controls import GRID_RELAY
from envoy2mqtt.catalog.derived import iso_of
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.spec import (
    Category,
    Component,
    DeviceKind,
    EntitySpec,
    when,
)
from envoy2mqtt.envoy.models.devices import Enpower

_ENPOWER = when("data.enpower set", lambda s: s.data.enpower is not None)
_BASE = EntitySpec(key="", component=Component.SENSOR, device=DeviceKind.ENPOWER,
                   topic="enpower", value="", condition=_ENPOWER)  # fmt: skip
_CLOSED = ("closed", "open")  # relay states: closed = on grid

SPECS: tuple[EntitySpec, ...] = (
    # The Enpower reports Fahrenheit (HA hard-codes the unit too).
    replace(_BASE, key="temperature", value=key_of(Enpower.temperature), device_class="temperature",
            state_class="measurement", unit="°F"),
    replace(_BASE, key="last_reported", name="Last reported", device_class="timestamp",
            **iso_of(key_of(Enpower.last_report_date))),
    replace(_BASE, key="communicating", component=Component.BINARY_SENSOR,
            value=key_of(Enpower.communicating), name="Communicating", device_class="connectivity",
            category=Category.DIAGNOSTIC),
    replace(_BASE, key="mains_oper_state", component=Component.BINARY_SENSOR,
            value=key_of(Enpower.mains_oper_state), name="Grid status",
                icon="mdi:transmission-tower",
            states=_CLOSED),
    replace(_BASE, key="mains_admin_state", component=Component.SWITCH,
            value=key_of(Enpower.mains_admin_state), name="Grid enabled", states=_CLOSED,
            control=GRID_RELAY),
)  # fmt: skip
