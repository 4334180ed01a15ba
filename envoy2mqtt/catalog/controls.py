"""The writable controls, one declaration each: ``/set`` topic, value schema, write, requirement.

A control's value rules (ranges, word sets) are the annotations of its Envoy command
(:mod:`envoy2mqtt.envoy.command_types`); the schemas here read them from there, and the
MQTT words below map onto those Envoy words (checked at import).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from envoy2mqtt.catalog.spec import (
    BoolSchema,
    ControlFlag,
    ControlSpec,
    EnumSchema,
    IntRangeSchema,
    SettingsSchema,
    when,
    when_item,
)
from envoy2mqtt.envoy.command_types import (
    RELAY_ACTION_NAMES,
    RELAY_MODE_NAMES,
    SetDryContact,
    SetGridRelay,
    UpdateDryContactSettings,
    int_bounds,
)
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.updaters.tariff import (
    STORAGE_MODE_NAMES,
    SetChargeFromGrid,
    SetReserveSoc,
    SetStorageMode,
)

# HA option name -> Envoy value (HA's own select options, entity-catalogue §5.2).
RELAY_MODES: Final = MappingProxyType({"standard": "manual", "battery": "soc"})
RELAY_ACTIONS: Final = MappingProxyType(
    {"powered": "apply", "not_powered": "shed", "schedule": "schedule", "none": "none"}
)
STORAGE_MODES: Final = MappingProxyType(
    {"backup": "backup", "self_consumption": "self-consumption", "savings": "economy"}
)
# Dry-contact settings fields (Envoy names) whose words differ between commands and Envoy.
RELAY_SETTING_WORDS: Final = MappingProxyType(
    {
        "mode": RELAY_MODES,
        "grid_action": RELAY_ACTIONS,
        "micro_grid_action": RELAY_ACTIONS,
        "generator_action": RELAY_ACTIONS,
    }
)


def _check_words(mapping: Mapping[str, str], envoy_words: tuple[str, ...]) -> None:
    if sorted(mapping.values()) != sorted(envoy_words):
        raise TypeError(f"command words {dict(mapping)} do not cover {envoy_words}")


_check_words(RELAY_MODES, RELAY_MODE_NAMES)
_check_words(RELAY_ACTIONS, RELAY_ACTION_NAMES)
_check_words(STORAGE_MODES, STORAGE_MODE_NAMES)


def command_word(mapping: Mapping[str, str], envoy_word: object) -> str | None:
    """The command word for an Envoy word (``self-consumption`` -> ``self_consumption``)."""
    return next((word for word, envoy in mapping.items() if envoy == envoy_word), None)


_HAS_ENPOWER = when(
    "feature ENPOWER and data.enpower set",
    lambda s: SupportedFeatures.ENPOWER in s.features and s.data.enpower is not None,
)
_HAS_STORAGE_SETTINGS = when(
    "feature ENCHARGE and tariff.storage_settings present",
    lambda s: (
        SupportedFeatures.ENCHARGE in s.features
        and s.data.tariff is not None
        and s.data.tariff.storage_settings is not None
    ),
)

# The relay states (``mains_admin_state``, dry contact ``status``) read closed/open.
_RELAY_WORDS = BoolSchema(words=("closed", "open"))

GRID_RELAY = ControlSpec(
    name="grid_relay", topic="grid_relay", flag=ControlFlag.GRID_RELAY, schema=_RELAY_WORDS,
    requirement=_HAS_ENPOWER, dangerous=True, build=lambda _i, on: SetGridRelay(on_grid=on),
)  # fmt: skip
DRY_CONTACT = ControlSpec(
    name="dry_contacts", topic="dry_contacts/{id}", flag=ControlFlag.DRY_CONTACTS,
    schema=_RELAY_WORDS, dangerous=True,
    build=lambda i, on: SetDryContact(id=str(i), closed=on),
    requirement=_HAS_ENPOWER
    & when_item("id in data.dry_contact_status", lambda s, i: i in s.data.dry_contact_status),
)  # fmt: skip
DRY_CONTACT_SETTINGS = ControlSpec(
    name="dry_contact_settings", topic="dry_contacts/{id}/settings",
    flag=ControlFlag.DRY_CONTACTS, schema=SettingsSchema(), dangerous=True,
    build=lambda i, changes: UpdateDryContactSettings(id=str(i), changes=changes),
    requirement=_HAS_ENPOWER
    & when_item("id in data.dry_contact_settings", lambda s, i: i in s.data.dry_contact_settings),
)  # fmt: skip
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

CONTROLS: Final = MappingProxyType(
    {
        c.name: c
        for c in (
            GRID_RELAY,
            DRY_CONTACT,
            DRY_CONTACT_SETTINGS,
            STORAGE_MODE,
            RESERVE_SOC,
            CHARGE_FROM_GRID,
        )
    }
)
"""Every control by name (the ``control`` argument of ``parse_command``)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ControlFlags:
    """Which controls the configuration enables (``controls.*``; dangerous ones opt-in)."""

    grid_relay: bool = False
    dry_contacts: bool = False
    storage: bool = True

    def enabled(self, flag: ControlFlag) -> bool:
        """Return whether ``flag`` is on."""
        return bool(getattr(self, flag.value))
