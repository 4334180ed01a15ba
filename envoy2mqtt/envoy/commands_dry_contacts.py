"""Dry-contact relay settings: validate a partial change, merge it, encode the Envoy body.

The firmware needs the *complete* relay object on every settings POST (partial objects are
reported to crash it), so a change is merged into the last-read settings and the whole
relay is re-encoded in the Envoy's own wire format: the relay object the Envoy last sent,
in its key order, with the modelled keys replaced (keys the model does not know, such as
``safe_state_action`` on newer firmware, go back unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from envoy2mqtt.envoy.command_types import (
    LOAD_NAME_MAX,
    RELAY_ACTION_NAMES,
    RELAY_MODE_NAMES,
    RELAY_SOC_RANGE,
)
from envoy2mqtt.envoy.errors import EnvoyCommandRejected
from envoy2mqtt.envoy.json_terms import json_term
from envoy2mqtt.envoy.models.data import DryContactSettings
from envoy2mqtt.envoy.models.raw_dry_contacts import carry_wire_source, wire_relay

ACTIONS: Final = frozenset(RELAY_ACTION_NAMES)
MODES: Final = frozenset(RELAY_MODE_NAMES)
MAX_LOAD_NAME: Final = LOAD_NAME_MAX
_SOC_LOW, _SOC_HIGH = RELAY_SOC_RANGE

_ACTION_FIELDS: Final = ("grid_action", "micro_grid_action", "generator_action")
_BOOL_FIELDS: Final = ("override", "manual_override")
_SOC_FIELDS: Final = ("soc_low", "soc_high")
CHANGEABLE_FIELDS: Final = frozenset(
    {*_ACTION_FIELDS, *_BOOL_FIELDS, *_SOC_FIELDS, "load_name", "mode"}
)


def _reject(relay_id: str, message: str) -> EnvoyCommandRejected:
    return EnvoyCommandRejected(f"dry contact {relay_id}: {message}")


def _check_value(relay_id: str, key: str, value: Any) -> Any:
    """Return ``value`` in model form, or raise if it is not acceptable for ``key``."""
    if key in _ACTION_FIELDS:
        if not isinstance(value, str) or value not in ACTIONS:
            allowed = "|".join(sorted(ACTIONS))
            raise _reject(relay_id, f"{key} must be one of {allowed}, got {json_term(value)}")
        return value
    if key == "mode":
        if not isinstance(value, str) or value not in MODES:
            allowed = "|".join(sorted(MODES))
            raise _reject(relay_id, f"mode must be one of {allowed}, got {json_term(value)}")
        return value
    if key in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise _reject(relay_id, f"{key} must be a boolean, got {json_term(value)}")
        return value
    if key in _SOC_FIELDS:
        # bool is an int subclass (True must not pass as 1 %); NaN fails every comparison,
        # so the range test also rejects it (math.isfinite would overflow on huge ints).
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not _SOC_LOW <= value <= _SOC_HIGH:
            msg = f"{key} must be a number {_SOC_LOW}-{_SOC_HIGH}, got {json_term(value)}"
            raise _reject(relay_id, msg)
        return float(value)
    # load_name is the only key left (callers check membership first). Control characters
    # have no place in a name shown by the Enphase app.
    if not isinstance(value, str) or len(value) > MAX_LOAD_NAME or not value.isprintable():
        msg = f"load_name must be printable text of at most {MAX_LOAD_NAME} chars"
        raise _reject(relay_id, msg)
    return value


def merge_settings(current: DryContactSettings, changes: Mapping[str, Any]) -> DryContactSettings:
    """Return a new settings object with ``changes`` applied; ``current`` is not touched.

    Raises:
        EnvoyCommandRejected: ``changes`` is empty, names a field that may not change, holds
            an invalid value, or leaves ``soc_low`` not below ``soc_high``.
    """
    relay_id = current.id
    if not isinstance(changes, Mapping) or not changes:
        raise _reject(relay_id, "no settings to change were given")
    unknown = sorted(str(k) for k in changes if k not in CHANGEABLE_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(CHANGEABLE_FIELDS))
        raise _reject(relay_id, f"cannot change {', '.join(unknown)} (allowed: {allowed})")
    checked = {key: _check_value(relay_id, key, value) for key, value in changes.items()}
    merged = msgspec.structs.replace(current, **checked)
    carry_wire_source(current, merged)
    if not merged.soc_low < merged.soc_high:
        raise _reject(
            relay_id,
            f"soc_low ({merged.soc_low:g}) must be below soc_high ({merged.soc_high:g})",
        )
    return merged


def _flag(value: bool) -> str:
    # The firmware stores these booleans as lowercase strings and expects them back so.
    return "true" if value else "false"


def encode_settings(settings: DryContactSettings) -> dict[str, Any]:
    """Encode one relay's settings in the Envoy's format (key order as the Envoy sends it).

    With the relay object the Envoy sent (settings read by the data side), that object is
    returned with every modelled key replaced by the model's value; its other keys stay as
    they were. Without it, only the modelled keys are encoded (optional ones when known).
    """
    body = _modelled(settings)
    wire = wire_relay(settings)
    if wire is None:
        return body
    # A modelled optional key the model holds as None keeps the Envoy's own value.
    merged = {key: body.pop(key, value) for key, value in wire.items()}
    merged.update(body)
    return merged


def _modelled(settings: DryContactSettings) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": settings.id,
        "type": settings.type,
        "grid_action": settings.grid_action,
        "micro_grid_action": settings.micro_grid_action,
        "gen_action": settings.generator_action,
    }
    optional = {
        "essential_start_time": settings.essential_start_time,
        "essential_end_time": settings.essential_end_time,
        "priority": settings.priority,
        "black_s_start": settings.black_start,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    body["override"] = _flag(settings.override)
    if settings.manual_override is not None:
        body["manual_override"] = _flag(settings.manual_override)
    body.update(
        {
            "load_name": settings.load_name,
            "mode": settings.mode,
            "soc_low": settings.soc_low,
            "soc_high": settings.soc_high,
            "pv_serial_nb": list(settings.pv_serial_nb),
        }
    )
    return body
