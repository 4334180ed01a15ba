"""Dry-contact relays (HA §5.1-5.3): one device per relay id, topic ``dry_contacts/<id>``.

Every relay entity writes to the relay, so all of them exist only while
``controls.dry_contacts`` is on; a read-only "Relay closed" binary sensor stands in otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from envoy2mqtt.catalog.controls import (
    DRY_CONTACT,
    DRY_CONTACT_SETTINGS,
    RELAY_ACTIONS,
    RELAY_MODES,
)
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.spec import (
    Category,
    Component,
    ControlFlag,
    DeviceKind,
    EntitySpec,
    when_item,
)
from envoy2mqtt.envoy.models.settings import DryContactSettings, DryContactStatus

_HAS_STATUS = when_item(
    "id in data.dry_contact_status and data.dry_contact_settings",
    lambda s, i: i in s.data.dry_contact_status and i in s.data.dry_contact_settings,
)
_HAS_SETTINGS = when_item(
    "id in data.dry_contact_settings", lambda s, i: i in s.data.dry_contact_settings
)
_BASE = EntitySpec(key="", component=Component.SELECT, device=DeviceKind.RELAY,
                   topic="dry_contacts/{id}", value="", condition=_HAS_SETTINGS,
                   control=DRY_CONTACT_SETTINGS)  # fmt: skip
_CLOSED = ("closed", "open")


def _action(key: str, field: str, name: str) -> EntitySpec:
    template = f'{{"{key}": "{{{{ value }}}}"}}'
    return replace(_BASE, key=key, value=field, name=name, options=tuple(RELAY_ACTIONS),
                   command_template=template)  # fmt: skip


def _level(key: str, name: str) -> EntitySpec:
    return replace(_BASE, key=key, component=Component.NUMBER, value=key, name=name,
                   device_class="battery", category=Category.CONFIG,
                   command_template=f'{{"{key}": {{{{ value }}}}}}')  # fmt: skip


SPECS: tuple[EntitySpec, ...] = (
    replace(_BASE, key="relay_status", component=Component.SWITCH,
            value=key_of(DryContactStatus.status),
            device_name_only=True, states=_CLOSED, condition=_HAS_STATUS, control=DRY_CONTACT),
    replace(_BASE, key="mode", value=key_of(DryContactSettings.mode), name="Mode",
            options=tuple(RELAY_MODES), command_template='{"mode": "{{ value }}"}'),
    _action("grid_action", key_of(DryContactSettings.grid_action), "Grid action"),
    _action("microgrid_action", key_of(DryContactSettings.micro_grid_action),
            "Microgrid action"),
    _action("generator_action", key_of(DryContactSettings.generator_action),
            "Generator action"),
    _level(key_of(DryContactSettings.soc_low), "Cutoff battery level"),
    _level(key_of(DryContactSettings.soc_high), "Restore battery level"),
    replace(_BASE, key="relay_closed", component=Component.BINARY_SENSOR,
            value=key_of(DryContactStatus.status),
            name="Relay closed", states=_CLOSED, condition=_HAS_STATUS, control=None,
            fallback_for=ControlFlag.DRY_CONTACTS, extra=True),
)  # fmt: skip
