"""The battery storage-settings capability: ``/admin/lib/tariff`` read, decoded and written.

One module holds everything the Envoy client knows about the tariff and its storage
settings, so following a setting (say the reserve SoC) from the read to the write stays in
one file:

* **read**: :class:`TariffUpdater` fetches the tariff and :func:`storage_settings` decodes
  its storage settings into the data model;
* **write**: the storage-setting commands (:data:`StorageSettingCommand`, each a Struct
  whose annotations are its value rules), :func:`storage_setting_request`, the one request
  builder for all of them, and :func:`tariff_body`, the document it sends back.

:mod:`envoy2mqtt.envoy.commands` dispatches to :func:`storage_setting_request`; this module
never imports it (nor :mod:`~envoy2mqtt.envoy.command_types`, which imports this one).
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, ClassVar, Final, Literal

import msgspec
from msgspec import Meta

from envoy2mqtt.envoy import endpoints, groups
from envoy2mqtt.envoy.commands_base import Percent, ProbeLike, WriteRequest, require_features
from envoy2mqtt.envoy.errors import EnvoyFeatureNotAvailable, EnvoyMalformedResponse
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, StorageSettings, Tariff
from envoy2mqtt.envoy.models.raw_tariff import TARIFF_DECODER
from envoy2mqtt.envoy.models.wire import adopt, wire_form
from envoy2mqtt.envoy.updaters.base import (
    GENERIC_DECODER,
    Reader,
    Updater,
    is_error_document,
    probe_fetch,
)

StorageModeName = Literal["backup", "self-consumption", "economy"]
"""The Envoy's battery storage modes (``tariff.storage_settings.mode``)."""
STORAGE_MODE_NAMES: Final[tuple[str, ...]] = typing.get_args(StorageModeName)
LEGACY_SAVINGS_MODE: Final = "savings-mode"
"""Older firmware's name of ``economy``: read as ``economy``, never written."""


# --- Read: GET /admin/lib/tariff ------------------------------------------------------

StorageSettingsWire = wire_form(StorageSettings, defaults={"mode": None})


def storage_settings(raw: dict[str, Any]) -> StorageSettings:
    """Convert ``tariff.storage_settings``; the legacy ``savings-mode`` is named ``economy``."""
    try:
        # Same keys as the data model: converted straight into it.
        settings = msgspec.convert(raw, StorageSettingsWire, strict=False)
    except msgspec.ValidationError as err:
        raise EnvoyMalformedResponse(endpoints.TARIFF, f"storage_settings: {err}") from err
    mode = settings.mode
    settings.mode = "economy" if mode == LEGACY_SAVINGS_MODE else (mode or None)
    return adopt(settings, StorageSettings)


class TariffUpdater(Updater):
    """The tariff document (any firmware that has it)."""

    group = "tariff"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim TARIFF unless the endpoint is absent, empty or an error document."""
        # FW 3.9.36 answers 401 here even for authenticated users.
        doc = await probe_fetch(reader, endpoints.TARIFF, GENERIC_DECODER, swallow_auth=True)
        if is_error_document(doc):
            return None
        self.features |= SupportedFeatures.TARIFF
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``tariff``; everything but the storage settings is passed through."""
        body = (await reader.decode(endpoints.TARIFF, TARIFF_DECODER)).tariff
        raw: Any = body.storage_settings  # still the Envoy's generic object here
        body.storage_settings = storage_settings(raw) if raw else None
        out.tariff = adopt(body, Tariff)


# --- Write: the storage-setting commands ----------------------------------------------


class StorageSettingWrite(msgspec.Struct, frozen=True):
    """A write of one field of ``tariff.storage_settings``, declared by its subclass.

    A subclass names the field (``setting``), the value written (``setting_value``) and
    the write's name in messages (``action``); the client's write builder and the bridge's
    tariff watch (through :meth:`read`) serve every subclass in :data:`StorageSettingCommand`
    from that alone.
    """

    setting: ClassVar[str]
    action: ClassVar[str]

    def setting_value(self) -> str | float | bool:
        """The value the tariff's storage settings get."""
        raise NotImplementedError

    def changes(self, storage: StorageSettings) -> dict[str, object]:
        """Every storage-settings field the write changes (normally just ``setting``)."""
        return {self.setting: self.setting_value()}

    @classmethod
    def read(cls, storage: StorageSettings) -> str | float | bool | None:
        """The setting as the Envoy reports it (``setting`` is a field: checked at import)."""
        value: str | float | bool | None = getattr(storage, cls.setting)
        return value


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


class SetReserveSoc(StorageSettingWrite, frozen=True, tag="reserve_soc"):
    """Set the battery reserve state of charge, percent 0-100."""

    value: Annotated[Percent, Meta(title="battery reserve")]
    setting: ClassVar[str] = "reserved_soc"
    action: ClassVar[str] = "battery reserve"

    def setting_value(self) -> float:
        """The firmware's one-decimal float."""
        return round(float(self.value), 1)


class SetChargeFromGrid(StorageSettingWrite, frozen=True, tag="charge_from_grid"):
    """Allow or forbid charging the batteries from the grid."""

    enabled: Annotated[bool, Meta(title="charge from grid enabled")]
    setting: ClassVar[str] = "charge_from_grid"
    action: ClassVar[str] = "charge from grid"

    def setting_value(self) -> bool:
        """Whether charging from the grid is allowed."""
        return self.enabled


StorageSettingCommand = SetStorageMode | SetReserveSoc | SetChargeFromGrid
"""Every storage-settings write (a new one is added here only: ``Command`` includes this)."""
STORAGE_SETTING_COMMANDS: Final[tuple[type[StorageSettingCommand], ...]] = typing.get_args(
    StorageSettingCommand
)

if _stray := {c.setting for c in STORAGE_SETTING_COMMANDS} - set(StorageSettings.__struct_fields__):
    raise TypeError(f"storage commands set fields StorageSettings lacks: {sorted(_stray)}")


# --- Write: PUT /admin/lib/tariff -----------------------------------------------------


def storage_setting_request(
    command: StorageSettingCommand, probe: ProbeLike, data: EnvoyData
) -> WriteRequest:
    """PUT the tariff back with one storage setting (``command.setting``) changed."""
    tariff, storage = _storage(probe, data, command.action)
    return _tariff_request(tariff, msgspec.structs.replace(storage, **command.changes(storage)))


def _storage(probe: ProbeLike, data: EnvoyData, action: str) -> tuple[Tariff, StorageSettings]:
    require_features(probe, SupportedFeatures.ENCHARGE | SupportedFeatures.TARIFF, action)
    tariff = data.tariff
    if tariff is None or tariff.storage_settings is None:
        msg = f"{action} is not available: no battery storage settings read from the tariff"
        raise EnvoyFeatureNotAvailable(msg)
    return tariff, tariff.storage_settings


def _tariff_request(tariff: Tariff, storage: StorageSettings) -> WriteRequest:
    return WriteRequest("PUT", endpoints.TARIFF, tariff_body(tariff, storage), groups.TARIFF)


# The Envoy replaces its whole tariff on a PUT, so every key read from it is sent back
# unchanged except the storage settings a command changes. The read-only top-level
# ``schedule`` block of the GET reply is never part of the model and never sent.


def tariff_body(tariff: Tariff, storage: StorageSettings) -> dict[str, Any]:
    """Return ``{"tariff": ...}``: ``tariff`` with its storage settings replaced by ``storage``.

    The pass-through parts are deep copies, so the caller's model is never aliased by the
    request body. Key order follows what the Envoy itself returns.
    """
    copied: dict[str, Any] = msgspec.to_builtins(tariff)
    doc: dict[str, Any] = {"currency": copied["currency"]}
    for key in ("logger", "date"):
        if copied[key] is not None:
            doc[key] = copied[key]
    doc["storage_settings"] = encode_storage_settings(storage)
    doc["single_rate"] = copied["single_rate"]
    doc["seasons"] = copied["seasons"]
    if copied["seasons_sell"] is not None:
        doc["seasons_sell"] = copied["seasons_sell"]
    return {"tariff": doc}


def encode_storage_settings(storage: StorageSettings) -> dict[str, Any]:
    """Encode storage settings in the Envoy's format; optional keys only when known."""
    body: dict[str, Any] = {
        "mode": storage.mode,
        "operation_mode_sub_type": storage.operation_mode_sub_type,
        # The firmware reports the reserve as a float with one decimal and expects it so.
        "reserved_soc": round(float(storage.reserved_soc), 1),
        "very_low_soc": storage.very_low_soc,
        "charge_from_grid": storage.charge_from_grid,
    }
    if storage.date is not None:
        body["date"] = storage.date
    # opt_schedules exists from FW 8.2.42xx; older firmware must not receive the key.
    if storage.opt_schedules is not None:
        body["opt_schedules"] = storage.opt_schedules
    return body
