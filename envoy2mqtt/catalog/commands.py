"""``/set`` payload parsing: bytes from MQTT -> a typed, checked Envoy command.

Nothing here talks to the Envoy; a payload either becomes a :class:`ParsedCommand` or
raises :class:`CommandError` with a message fit for the ``…/result`` topic. The topic
was parsed once (:mod:`envoy2mqtt.catalog.topics`); the value rules are the command's
annotations (:mod:`envoy2mqtt.envoy.command_types`), which the client also enforces.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Final

from envoy2mqtt.catalog.controls import CONTROLS, ControlFlags
from envoy2mqtt.catalog.naming import sanitize_topic_level
from envoy2mqtt.catalog.relay_settings import parse_settings, shown_settings
from envoy2mqtt.catalog.scalars import (
    CommandError,
    parse_bool,
    parse_enum,
    parse_int,
    show_value,
)
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.spec import (
    BoolSchema,
    ControlSpec,
    EnumSchema,
    IntRangeSchema,
    SettingsSchema,
)
from envoy2mqtt.envoy.command_types import Command

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "CommandError",
    "ParsedCommand",
    "parse_command",
]

MAX_PAYLOAD_BYTES: Final = 4096
_ENVELOPE_KEYS: Final = frozenset({"value", "transaction"})


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A valid command plus what the result message echoes.

    Attributes:
        command: the typed Envoy command.
        value: the requested value in the words the state shows (``ON``,
            ``self_consumption``, 20, ``{"micro_grid_action": "powered"}``).
        transaction: the payload's ``transaction``, if it was a JSON object with one.
    """

    command: Command
    value: Any
    transaction: Any = None


def _decode(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD_BYTES:
        msg = f"payload too large ({len(payload)} bytes, at most {MAX_PAYLOAD_BYTES})"
        raise CommandError(msg)
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError("payload is not valid UTF-8") from None
    if not text:
        raise CommandError("empty payload")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except CommandError:
        raise
    except (ValueError, RecursionError):
        if text[0] in "{[":
            raise CommandError("malformed JSON payload") from None
        return text  # a plain value such as ON or self_consumption


def _reject_constant(name: str) -> Any:
    raise CommandError(f"{name} is not an acceptable number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise CommandError(f"{text} is not a finite number")
    return value


def _unwrap(raw: Any, schema: object) -> tuple[Any, Any]:
    """Split a JSON envelope ``{"value": …, "transaction": …}`` into (value, transaction)."""
    if not isinstance(raw, dict):
        return raw, None
    transaction = raw.get("transaction")
    if isinstance(schema, SettingsSchema) and "value" not in raw:
        return {k: v for k, v in raw.items() if k != "transaction"}, transaction
    unknown = sorted(str(k) for k in raw if k not in _ENVELOPE_KEYS)
    if unknown:
        msg = f"unknown keys {', '.join(unknown)} (expected value, transaction)"
        raise CommandError(msg, transaction)
    if "value" not in raw:
        raise CommandError("JSON payload has no 'value'", transaction)
    return raw["value"], transaction


def _relay_id(snapshot: Snapshot, ident: str | None) -> str:
    data = snapshot.data
    known = sorted(set(data.dry_contact_status) | set(data.dry_contact_settings))
    if ident is None:
        raise CommandError("a dry contact id is required (…/dry_contacts/<id>/set)")
    wanted = sanitize_topic_level(ident)
    for relay_id in known:
        if sanitize_topic_level(relay_id) == wanted:
            return relay_id
    names = ", ".join(sanitize_topic_level(k) for k in known) or "none"
    raise CommandError(f"unknown dry contact id {show_value(ident)} (known: {names})")


def _control(control: str, controls: ControlFlags) -> ControlSpec:
    spec = CONTROLS.get(control)
    if spec is None:
        known = ", ".join(sorted(CONTROLS))
        raise CommandError(f"unknown control {show_value(control)} (known: {known})")
    if not controls.enabled(spec.flag):
        msg = f"control {spec.name} is disabled by configuration (controls.{spec.flag.value})"
        raise CommandError(msg)
    return spec


def _target(snapshot: Snapshot, spec: ControlSpec, ident: str | None) -> str | None:
    """Resolve the device id and check the Envoy has what the control needs."""
    target = None
    if "{id}" in spec.topic:
        target = _relay_id(snapshot, ident)
    elif ident is not None:
        raise CommandError(f"control {spec.name} takes no id (got {show_value(ident)})")
    if not spec.requirement(snapshot, target):
        raise CommandError(f"{spec.name} is not available on this Envoy ({spec.requirement.doc})")
    return target


def _value(snapshot: Snapshot, spec: ControlSpec, target: str | None, raw: Any) -> tuple[Any, Any]:
    """Parse ``raw`` by the control's schema into (Envoy-side value, value to echo)."""
    schema = spec.schema
    if isinstance(schema, BoolSchema):
        on = parse_bool(raw, schema.words)
        return on, "ON" if on else "OFF"
    if isinstance(schema, EnumSchema):
        ha_name, envoy_name = parse_enum(raw, schema.mapping, spec.name)
        return envoy_name, ha_name
    if isinstance(schema, IntRangeSchema):
        number = parse_int(raw, schema.minimum, schema.maximum, spec.name)
        return number, number
    changes = parse_settings(raw, snapshot.data.dry_contact_settings[str(target)])
    return changes, shown_settings(changes)


def parse_command(
    snapshot: Snapshot,
    control: str,
    ident: str | None,
    payload: bytes,
    controls: ControlFlags,
) -> ParsedCommand:
    """Turn one ``/set`` message into a checked command; nothing is sent anywhere.

    Args:
        snapshot: the Envoy's current state (ids, features, current relay settings).
        control: control name (see :data:`~envoy2mqtt.catalog.controls.CONTROLS`), as
            :meth:`~envoy2mqtt.catalog.topics.Topics.parse_command` resolved it.
        ident: the id level of the topic (dry contacts), else ``None``.
        payload: the raw MQTT payload (plain value or JSON, at most 4 KiB).
        controls: which controls the configuration enables.

    Returns:
        The command, the value to echo and the transaction to echo.

    Raises:
        CommandError: for any invalid input; the message says what is wrong.
    """
    spec = _control(control, controls)
    raw = _decode(payload)
    value, transaction = _unwrap(raw, spec.schema)
    try:
        target = _target(snapshot, spec, ident)
        envoy_value, echo = _value(snapshot, spec, target, value)
    except CommandError as err:
        raise CommandError(err.message, transaction) from None
    return ParsedCommand(
        command=spec.build(target, envoy_value), value=echo, transaction=transaction
    )
