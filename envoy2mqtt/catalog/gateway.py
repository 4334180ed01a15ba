"""Gateway diagnostics and generator status: our extras (topics ``gateway``, ``generator``).

"Battery settings control" reads ``settings_control`` of the ``storage`` topic: whether
battery-settings writes stick on this gateway or its cloud undoes them
(:mod:`envoy2mqtt.bridge.tariff_watch`).
"""

from __future__ import annotations

from dataclasses import replace

from envoy2mqtt.catalog.derived import iso_of
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.spec import (
    Category,
    Component,
    DeviceKind,
    EntitySpec,
    when,
)
from envoy2mqtt.catalog.storage import CHARGE_FROM_GRID
from envoy2mqtt.envoy.models.settings import Generator

_DIAG = EntitySpec(key="", component=Component.SENSOR, device=DeviceKind.GATEWAY,
                   topic="gateway", value="", category=Category.DIAGNOSTIC, extra=True)  # fmt: skip
_GEN = when("data.generator set", lambda s: s.data.generator is not None)

SPECS: tuple[EntitySpec, ...] = (
    replace(_DIAG, key="firmware", value="firmware", name="Firmware", icon="mdi:chip"),
    replace(_DIAG, key="last_poll", name="Last poll", device_class="timestamp",
            **iso_of("last_poll")),
    replace(_DIAG, key="token_expires", name="Token expiry", device_class="timestamp",
            enabled=False, **iso_of("token_expires_at"),
            condition=when("token auth", lambda s: s.token_expires_at is not None)),
    replace(_DIAG, key="battery_settings_control", topic="storage", value="settings_control",
            name="Battery settings control", device_class="enum",
            options=("local", "cloud", "unknown"), icon="mdi:cloud-sync",
            condition=CHARGE_FROM_GRID.requirement),
    replace(_DIAG, key="generator_admin_state", topic="generator",
            value=key_of(Generator.admin_state),
            name="Generator admin state", category=None, icon="mdi:engine", condition=_GEN),
    replace(_DIAG, key="generator_oper_state", topic="generator",
            value=key_of(Generator.oper_state),
            name="Generator state", category=None, icon="mdi:engine", condition=_GEN),
)  # fmt: skip
