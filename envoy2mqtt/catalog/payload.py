"""Building blocks of state payloads, shared by every payload builder.

Unreported (``None``) values are left out of a payload; a word a control takes is shown
as the command word under the field's name and the Envoy's own word under ``envoy_<field>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from envoy2mqtt.catalog.words import command_word

Payload = dict[str, Any]


def drop_none(value: Any) -> Any:
    """``value`` with every ``None`` dict value removed, at any depth."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def plain(obj: Any) -> Payload:
    """A model object as a JSON-able dict with absent (``None``) values removed."""
    result = drop_none(msgspec.to_builtins(obj))
    assert isinstance(result, dict)
    return result


def vocabulary(field: str, raw: Any, mapping: Mapping[str, str]) -> Payload:
    """The command word (``null`` if the commands lack one) and the Envoy's raw word."""
    return {field: command_word(mapping, raw), f"envoy_{field}": raw}
