"""Typed write operations understood by :mod:`envoy2mqtt.envoy.commands`.

The MQTT layer turns ``/set`` payloads into these values (after validation); the Envoy
client turns them into HTTP requests. Neither side needs to know the other's format.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class SetGridRelay(msgspec.Struct, frozen=True, tag="grid_relay"):
    """Close (``on_grid=True``) or open the Enpower mains relay."""

    on_grid: bool


class SetDryContact(msgspec.Struct, frozen=True, tag="dry_contact"):
    """Close or open one dry-contact relay."""

    id: str
    closed: bool


class UpdateDryContactSettings(msgspec.Struct, frozen=True, tag="dry_contact_settings"):
    """Change some settings of one relay; the rest is taken from the last read settings."""

    id: str
    changes: dict[str, Any]


StorageModeName = Literal["backup", "self-consumption", "economy"]


class SetStorageMode(msgspec.Struct, frozen=True, tag="storage_mode"):
    """Set the battery storage mode (Envoy names: backup, self-consumption, economy)."""

    mode: StorageModeName


class SetReserveSoc(msgspec.Struct, frozen=True, tag="reserve_soc"):
    """Set the battery reserve state of charge, percent 0-100."""

    value: int


class SetChargeFromGrid(msgspec.Struct, frozen=True, tag="charge_from_grid"):
    """Allow or forbid charging the batteries from the grid."""

    enabled: bool


Command = (
    SetGridRelay
    | SetDryContact
    | UpdateDryContactSettings
    | SetStorageMode
    | SetReserveSoc
    | SetChargeFromGrid
)
