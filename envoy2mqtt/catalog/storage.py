"""Battery storage settings (HA §5.1-5.3): topic ``storage``, from the ``tariff`` data group.

Everything the catalogue says about them is here: the state topic, its payload, the three
controls (mode, reserve, charge from grid) and the rows that show them. The Envoy side
(commands, value rules) is :mod:`envoy2mqtt.envoy.command_types`.

The controls sit on the Enpower when there is one, else on the gateway, as in HA. There
the reserve number would share its key with the Encharge-aggregate ``reserve_soc``
sensor, so its ids use ``reserve_soc_number``.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Final

from envoy2mqtt.catalog.fields import key_of
from envoy2mqtt.catalog.payload import Payload, plain, vocabulary
from envoy2mqtt.catalog.spec import (
    BoolSchema,
    Component,
    ControlFlag,
    ControlSpec,
    DeviceKind,
    EntitySpec,
    EnumSchema,
    IntRangeSchema,
    StateTopic,
    when,
)
from envoy2mqtt.catalog.words import check_words
from envoy2mqtt.envoy import groups
from envoy2mqtt.envoy.command_types import int_bounds
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, StorageSettings
from envoy2mqtt.envoy.updaters.tariff import (
    STORAGE_MODE_NAMES,
    SetChargeFromGrid,
    SetReserveSoc,
    SetStorageMode,
)

# The storage settings, plus what the bridge saw after its own writes.
STORAGE: Final = StateTopic(
    "storage",
    groups.TARIFF,
    (StorageSettings,),
    extra=frozenset({"envoy_mode", "settings_control"}),
)

# HA option name -> Envoy value (HA's own select options, entity-catalogue §5.2).
STORAGE_MODES: Final = MappingProxyType(
    {"backup": "backup", "self_consumption": "self-consumption", "savings": "economy"}
)
check_words(STORAGE_MODES, STORAGE_MODE_NAMES)


def _number(text: str | None) -> int | str | None:
    """An epoch the Envoy sends as a digit string (the tariff's ``date``) as a number."""
    return int(text) if text is not None and text.isascii() and text.isdigit() else text


def storage_payload(d: EnvoyData) -> dict[str, Payload]:
    """The ``storage`` payload (``settings_control`` is added by ``catalog/state.py``)."""
    if d.tariff is None or d.tariff.storage_settings is None:
        return {}
    settings = d.tariff.storage_settings
    payload = plain(settings) | vocabulary("mode", settings.mode, STORAGE_MODES)
    if settings.date is not None:
        payload["date"] = _number(settings.date)
    return {"storage": payload}


_HAS_STORAGE_SETTINGS = when(
    "feature ENCHARGE and tariff.storage_settings present",
    lambda s: (
        SupportedFeatures.ENCHARGE in s.features
        and s.data.tariff is not None
        and s.data.tariff.storage_settings is not None
    ),
)

STORAGE_MODE = ControlSpec(
    name="storage_mode", topic="storage_mode", flag=ControlFlag.STORAGE,
    schema=EnumSchema(STORAGE_MODES), requirement=_HAS_STORAGE_SETTINGS,
    build=lambda _i, mode: SetStorageMode(mode=mode),
)  # fmt: skip
RESERVE_SOC = ControlSpec(
    name="reserve_soc", topic="reserve_soc", flag=ControlFlag.STORAGE,
    schema=IntRangeSchema(*int_bounds(SetReserveSoc, "value")), requirement=_HAS_STORAGE_SETTINGS,
    build=lambda _i, value: SetReserveSoc(value=value),
)  # fmt: skip
CHARGE_FROM_GRID = ControlSpec(
    name="charge_from_grid", topic="charge_from_grid", flag=ControlFlag.STORAGE,
    schema=BoolSchema(), requirement=_HAS_STORAGE_SETTINGS,
    build=lambda _i, on: SetChargeFromGrid(enabled=on),
)  # fmt: skip
CONTROLS: Final = (STORAGE_MODE, RESERVE_SOC, CHARGE_FROM_GRID)
"""The storage-setting controls (gathered into ``catalog.controls.CONTROLS``)."""

_BASE = EntitySpec(key="", component=Component.SWITCH, device=DeviceKind.STORAGE_OWNER,
                   topic=STORAGE.pattern, value="", condition=_HAS_STORAGE_SETTINGS)  # fmt: skip

SPECS: tuple[EntitySpec, ...] = (
    replace(_BASE, key="charge_from_grid", value=key_of(StorageSettings.charge_from_grid),
            name="Charge from grid", control=CHARGE_FROM_GRID),
    replace(_BASE, key="storage_mode", component=Component.SELECT,
            value=key_of(StorageSettings.mode),
            name="Storage mode", options=tuple(STORAGE_MODES), control=STORAGE_MODE),
    replace(_BASE, key="reserve_soc", component=Component.NUMBER,
            value=key_of(StorageSettings.reserved_soc),
            name="Reserve battery level", device_class="battery", unit="%",
            control=RESERVE_SOC, object_key="reserve_soc_number"),
)  # fmt: skip
