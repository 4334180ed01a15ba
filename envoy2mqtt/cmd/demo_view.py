"""One-line summaries of MQTT payloads for the ``demo`` live view (not a sub-command)."""

from __future__ import annotations

from typing import Any

import msgspec

_MAX = 110
_ORDER = ("watts_now", "active_power", "percent_full", "state_of_charge", "status", "mode")


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def summarize(payload: bytes, limit: int = _MAX) -> str:
    """``key=value`` pairs of a JSON object (interesting keys first), or the text itself."""
    if not payload:
        return "(cleared)"
    try:
        value = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        text = payload.decode("utf-8", "replace")
    else:
        text = _summary_of(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary_of(value: Any) -> str:
    if not isinstance(value, dict):
        return _scalar(value)
    if "cmps" in value:
        return f"discovery: {value.get('dev', {}).get('name', '?')} ({len(value['cmps'])} entities)"
    keys = [k for k in _ORDER if k in value] + [k for k in value if k not in _ORDER]
    parts = [f"{k}={_scalar(value[k])}" for k in keys if not isinstance(value[k], dict | list)]
    nested = [k for k in keys if isinstance(value[k], dict | list)]
    if nested:
        parts.append("+" + ",".join(nested))
    return " ".join(parts)
