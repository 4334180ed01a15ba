"""Parsing a dry contact's settings change (``dry_contacts/<id>/settings/set``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from envoy2mqtt.catalog.controls import (
    RELAY_ACTIONS,
    RELAY_MODES,
    RELAY_SETTING_WORDS,
)
from envoy2mqtt.catalog.scalars import CommandError, parse_bool, parse_enum, parse_number
from envoy2mqtt.catalog.words import command_word
from envoy2mqtt.envoy.command_types import LOAD_NAME_MAX as MAX_LOAD_NAME
from envoy2mqtt.envoy.command_types import RELAY_SOC_RANGE
from envoy2mqtt.envoy.models.data import DryContactSettings

_SOC_LOW, _SOC_HIGH = RELAY_SOC_RANGE


def _load_name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_LOAD_NAME:
        raise CommandError(f"load_name must be a string of at most {MAX_LOAD_NAME} characters")
    if any(not ch.isprintable() for ch in value):
        raise CommandError("load_name must not contain control characters")
    return value


def _action(field: str) -> Callable[[Any], str]:
    return lambda v: parse_enum(v, RELAY_ACTIONS, field)[1]


# payload key -> (Envoy settings field, parser to the Envoy's value)
_FIELDS: Final[dict[str, tuple[str, Callable[[Any], Any]]]] = {
    "mode": ("mode", lambda v: parse_enum(v, RELAY_MODES, "mode")[1]),
    "grid_action": ("grid_action", _action("grid_action")),
    "microgrid_action": ("micro_grid_action", _action("microgrid_action")),
    "micro_grid_action": ("micro_grid_action", _action("micro_grid_action")),
    "generator_action": ("generator_action", _action("generator_action")),
    "soc_low": ("soc_low", lambda v: parse_number(v, _SOC_LOW, _SOC_HIGH, "soc_low")),
    "soc_high": ("soc_high", lambda v: parse_number(v, _SOC_LOW, _SOC_HIGH, "soc_high")),
    "load_name": ("load_name", _load_name),
    "override": ("override", parse_bool),
    "manual_override": ("manual_override", parse_bool),
}


def parse_settings(value: Any, current: DryContactSettings) -> dict[str, Any]:
    """Check a settings subset and return it keyed by Envoy field names, in Envoy values.

    Args:
        value: the decoded JSON object from the payload.
        current: the relay's settings as last read (for the ``soc_low < soc_high`` check).

    Raises:
        CommandError: not an object, empty, unknown keys, bad values, or levels crossed.
    """
    if not isinstance(value, dict):
        raise CommandError("settings must be a JSON object")
    if not value:
        raise CommandError("no settings to change were given")
    unknown = sorted(str(k) for k in value if k not in _FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_FIELDS))
        raise CommandError(f"unknown settings {', '.join(unknown)} (allowed: {allowed})")
    changes = {}
    for key, raw in value.items():
        field, parse = _FIELDS[key]
        changes[field] = parse(raw)
    low = changes.get("soc_low", current.soc_low)
    high = changes.get("soc_high", current.soc_high)
    if not low < high:
        raise CommandError(f"soc_low ({low:g}) must be below soc_high ({high:g})")
    return changes


def shown_settings(changes: dict[str, Any]) -> dict[str, Any]:
    """A settings change as the relay's state shows it: Envoy field names, command words."""
    return {
        field: command_word(RELAY_SETTING_WORDS[field], value)
        if field in RELAY_SETTING_WORDS
        else value
        for field, value in changes.items()
    }
