"""Typed write operations understood by :mod:`envoy2mqtt.envoy.commands`.

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
from typing import Annotated, Any, ClassVar, Final, Literal

import msgspec
from msgspec import Meta

from envoy2mqtt.envoy.models.settings import StorageSettings

Percent = Annotated[int, Meta(ge=0, le=100)]
"""A whole percentage."""

StorageModeName = Literal["backup", "self-consumption", "economy"]
"""The Envoy's battery storage modes (``tariff.storage_settings.mode``)."""
STORAGE_MODE_NAMES: Final[tuple[str, ...]] = typing.get_args(StorageModeName)

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


class StorageSettingWrite(msgspec.Struct, frozen=True):
    """A write of one field of ``tariff.storage_settings``, declared by its subclass.

    A subclass names the field (``setting``), the value written (``setting_value``), how
    the Envoy reports it (``read``) and the write's name in messages (``action``); the
    client's write builder and the bridge's tariff watch serve every subclass in
    :data:`StorageSettingCommand` from that alone.
    """

    setting: ClassVar[str]
    action: ClassVar[str]

    def setting_value(self) -> str | float | bool:
        """The value the tariff's storage settings get."""
        raise NotImplementedError

    def changes(self, storage: StorageSettings) -> dict[str, object]:
        """Every storage-settings field the write changes (normally just ``setting``)."""
        return {self.setting: self.setting_value()}


class SetStorageMode(StorageSettingWrite, frozen=True, tag="storage_mode"):
    """Set the battery storage mode (Envoy names: backup, self-consumption, economy)."""

    mode: Annotated[StorageModeName, Meta(title="storage mode")]
    setting: ClassVar[str] = "mode"
    action: ClassVar[str] = "storage mode"

    def setting_value(self) -> str:
        """The mode name."""
        return self.mode

    def changes(self, storage: StorageSettings) -> dict[str, object]:
        """The mode, and optimised schedules off where the firmware has them.

        With optimised schedules on (FW >= 8.2.42xx) the battery controller accepts a mode
        write with 200 and then ignores it; turning them off is what makes the mode apply.
        """
        changes: dict[str, object] = {self.setting: self.mode}
        if storage.opt_schedules is not None:
            changes["opt_schedules"] = False
        return changes

    @staticmethod
    def read(storage: StorageSettings) -> str | None:
        """The setting as the Envoy reports it."""
        return storage.mode


class SetReserveSoc(StorageSettingWrite, frozen=True, tag="reserve_soc"):
    """Set the battery reserve state of charge, percent 0-100."""

    value: Annotated[Percent, Meta(title="battery reserve")]
    setting: ClassVar[str] = "reserved_soc"
    action: ClassVar[str] = "battery reserve"

    def setting_value(self) -> float:
        """The firmware's one-decimal float."""
        return round(float(self.value), 1)

    @staticmethod
    def read(storage: StorageSettings) -> float:
        """The setting as the Envoy reports it."""
        return storage.reserved_soc


class SetChargeFromGrid(StorageSettingWrite, frozen=True, tag="charge_from_grid"):
    """Allow or forbid charging the batteries from the grid."""

    enabled: Annotated[bool, Meta(title="charge from grid enabled")]
    setting: ClassVar[str] = "charge_from_grid"
    action: ClassVar[str] = "charge from grid"

    def setting_value(self) -> bool:
        """Whether charging from the grid is allowed."""
        return self.enabled

    @staticmethod
    def read(storage: StorageSettings) -> bool:
        """The setting as the Envoy reports it."""
        return storage.charge_from_grid


StorageSettingCommand = SetStorageMode | SetReserveSoc | SetChargeFromGrid
"""Every storage-settings write (add a new one here and to :data:`Command`)."""
STORAGE_SETTING_COMMANDS: Final[tuple[type[StorageSettingCommand], ...]] = typing.get_args(
    StorageSettingCommand
)


Command = (
    SetGridRelay
    | SetDryContact
    | UpdateDryContactSettings
    | SetStorageMode
    | SetReserveSoc
    | SetChargeFromGrid
)


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
