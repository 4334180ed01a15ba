"""IQ Meter Collar and C6 Combiner Controller entities (HA §3.11, §3.12, §4)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Final

from envoy2mqtt.catalog.derived import iso_of, mapped_of
from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.spec import Category, Component, DeviceKind, EntitySpec, when
from envoy2mqtt.envoy.models.data import Collar

ADMIN_STATES: Final = MappingProxyType(
    {"ENCMN_MDE_ON_GRID": "on_grid", "ENCMN_MDE_OFF_GRID": "off_grid"}
)


def grid_status(collar: Collar) -> str:
    """The collar's grid connection, ``on_grid`` / ``off_grid`` where the Envoy says so.

    Field reports (home-assistant/core PR 153766) showed that ``grid_state``
    does not follow the real grid connection while ``admin_state_str`` does; a collar
    without a known ``admin_state_str`` code falls back to ``grid_state``.
    """
    return ADMIN_STATES.get(collar.admin_state_str or "", collar.grid_state)


_COLLAR = when("data.collar set", lambda s: s.data.collar is not None)
_C6CC = when("data.c6cc set", lambda s: s.data.c6cc is not None)
_BASE = EntitySpec(key="", component=Component.SENSOR, device=DeviceKind.COLLAR,
                   topic="collar", value="", condition=_COLLAR)  # fmt: skip
_LAST = replace(_BASE, key="last_reported", name="Last reported", device_class="timestamp",
                **iso_of("last_report_date"))  # fmt: skip
_COMM = replace(_BASE, key="communicating", component=Component.BINARY_SENSOR,
                value="communicating", name="Communicating", device_class="connectivity",
                category=Category.DIAGNOSTIC)  # fmt: skip

COLLAR = (
    replace(_BASE, key="temperature", value=key_of(Collar.temperature), device_class="temperature",
            state_class="measurement", unit="°C"),
    _LAST,
    # unique_id kept from when it read grid_state; the value is grid_status() now.
    replace(_BASE, key="grid_state", value="grid_status", name="Grid status"),
    # Off-grid shows in the admin state, not in grid_state; unknown codes pass through.
    replace(_BASE, key="admin_state_str", name="Admin state",
            **mapped_of(key_of(Collar.admin_state_str), "admin_state_name", ADMIN_STATES)),
    replace(_BASE, key="mid_state", value=key_of(Collar.mid_state), name="MID state"),
    _COMM,
)  # fmt: skip

C6CC = tuple(
    replace(row, device=DeviceKind.C6CC, topic="c6cc", condition=_C6CC) for row in (_LAST, _COMM)
)

SPECS: tuple[EntitySpec, ...] = COLLAR + C6CC
