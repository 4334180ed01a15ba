"""Typed write operations understood by :mod:`envoy2mqtt.envoy.commands`.

The relay writes are declared here; the storage-setting writes are declared with the rest of
the storage-settings capability in :mod:`envoy2mqtt.envoy.updaters.tariff` and joined into
:data:`Command` here.

The MQTT layer turns ``/set`` payloads into these values; the Envoy client turns them into
HTTP requests. Neither side needs to know the other's format.

Each field's annotation *is* its value rule (msgspec constraints: ``Meta(ge=0, le=100)``,
``Literal`` word sets); its ``title`` names the value in error messages. The catalogue
reads its ranges and word sets from here, the client checks a command against them
(:func:`~envoy2mqtt.envoy.commands_base.check_fields`) before anything is sent; no other
copy of these rules exists.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from envoy2mqtt.envoy.updaters.tariff import StorageSettingCommand

__all__ = [
    "LOAD_NAME_MAX",
    "RELAY_ACTION_NAMES",
    "RELAY_MODE_NAMES",
    "RELAY_SOC_RANGE",
    "Command",
    "RelayActionName",
    "RelayModeName",
    "SetDryContact",
    "SetGridRelay",
    "UpdateDryContactSettings",
    "int_bounds",
]

RelayModeName = Literal["manual", "soc"]
"""How a dry-contact relay is driven (``dry_contact_settings[].mode``)."""
RelayActionName = Literal["apply", "shed", "schedule", "none"]
"""What a dry-contact relay does in a grid state (``grid_action`` and the like)."""
RELAY_MODE_NAMES: Final[tuple[str, ...]] = typing.get_args(RelayModeName)
RELAY_ACTION_NAMES: Final[tuple[str, ...]] = typing.get_args(RelayActionName)
RELAY_SOC_RANGE: Final = (0, 100)
"""Inclusive bounds of a relay's ``soc_low``/``soc_high`` (percent, fractions allowed)."""
LOAD_NAME_MAX: Final = 64
"""Longest relay ``load_name`` the firmware takes."""


class SetGridRelay(msgspec.Struct, frozen=True, tag="grid_relay"):
    """Close (``on_grid=True``) or open the Enpower mains relay."""

    on_grid: Annotated[bool, Meta(title="grid relay on_grid")]


class SetDryContact(msgspec.Struct, frozen=True, tag="dry_contact"):
    """Close or open one dry-contact relay."""

    id: str
    closed: Annotated[bool, Meta(title="dry contact closed")]


class UpdateDryContactSettings(msgspec.Struct, frozen=True, tag="dry_contact_settings"):
    """Change some settings of one relay; the rest is taken from the last read settings."""

    id: str
    changes: dict[str, Any]


Command = SetGridRelay | SetDryContact | UpdateDryContactSettings | StorageSettingCommand
"""Every MQTT-contract write; the storage-setting ones are declared in ``updaters/tariff.py``."""


def int_bounds(command: type[msgspec.Struct], field: str) -> tuple[int, int]:
    """The inclusive ``(ge, le)`` bounds a command field's annotation declares."""
    info = _field_info(command, field)
    if not isinstance(info, msgspec.inspect.IntType) or info.ge is None or info.le is None:
        raise TypeError(f"{command.__name__}.{field} is not a bounded integer")
    return info.ge, info.le


def _field_info(command: type[msgspec.Struct], field: str) -> msgspec.inspect.Type:
    struct = msgspec.inspect.type_info(command)
    assert isinstance(struct, msgspec.inspect.StructType)
    info = next(f.type for f in struct.fields if f.name == field)
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    return info
