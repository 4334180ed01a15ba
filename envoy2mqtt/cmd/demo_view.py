"""The ``demo`` live view: one message per line, at most 80 columns, payloads as real JSON.

A JSON object is shown as compact JSON with as many of its keys as fit (the interesting
ones first); the keys left out are counted after it (``+5``), so the JSON shown is always
valid and always the published values. A topic too long to leave room for its payload gets
the payload on an indented second line. Writing stops quietly when the reader goes away
(``envoy2mqtt demo | head``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

import msgspec

WIDTH = 80
_GAP = "  "
_MIN_PAYLOAD = 30
# Shown first when present: what changes and what a reader looks for.
_ORDER = (
    "watts_now",
    "last_report_watts",
    "active_power",
    "percent_full",
    "state_of_charge",
    "status",
    "mode",
    "grid_mode",
    "reserved_soc",
    "charge_from_grid",
    "online",
    "firmware",
)


def format_message(topic: str, payload: bytes, width: int = WIDTH) -> list[str]:
    """The line(s) showing one message, each at most ``width`` characters."""
    room = width - len(topic) - len(_GAP)
    if room >= _MIN_PAYLOAD:
        return [f"{topic}{_GAP}{summarize(payload, room, topic)}"]
    head = topic if len(topic) <= width else topic[: width - 1] + "…"
    return [head, _GAP + summarize(payload, width - len(_GAP), topic)]


def summarize(payload: bytes, limit: int = WIDTH, topic: str = "") -> str:
    """The payload in at most ``limit`` characters: text as is, JSON as (partial) JSON.

    Keys whose value only repeats a level of ``topic`` (a serial, a relay id) come last.
    """
    if not payload:
        return "(cleared)"
    try:
        value = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return _cut(payload.decode("utf-8", "replace").replace("\n", " "), limit)
    if isinstance(value, dict) and "cmps" in value:
        name = value.get("dev", {}).get("name", "?")
        return _cut(f"discovery config: {name}, {len(value['cmps'])} entities", limit)
    if isinstance(value, dict):
        levels = {level.lower() for level in topic.split("/")}
        first = [k for k in _ORDER if k in value]
        rest = [k for k in value if k not in _ORDER]
        echoes = [k for k in rest if isinstance(value[k], str) and value[k].lower() in levels]
        keys = first + [k for k in rest if k not in echoes] + echoes
        return _fit_object(value, keys, limit)
    if isinstance(value, list):
        return _fit_array(value, limit)
    return _cut(_encode(value), limit)


def _encode(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit_object(value: dict[str, Any], keys: list[str], limit: int) -> str:
    shown: dict[str, Any] = {}
    for key in keys:
        if _fits({**shown, key: value[key]}, len(value) - len(shown) - 1, limit):
            shown[key] = value[key]
    return _with_rest(_encode(shown), len(value) - len(shown))


def _fit_array(value: list[Any], limit: int) -> str:
    count = 0
    while count < len(value) and _fits(value[: count + 1], len(value) - count - 1, limit):
        count += 1
    return _with_rest(_encode(value[:count]), len(value) - count)


def _fits(candidate: dict[str, Any] | list[Any], rest: int, limit: int) -> bool:
    return len(_with_rest(_encode(candidate), rest)) <= limit


def _with_rest(text: str, rest: int) -> str:
    return f"{text} +{rest}" if rest else text


class Console:
    """Writes the view to standard output; a closed pipe stops it instead of raising.

    On ``BrokenPipeError`` the stream's descriptor is pointed at ``/dev/null`` (so the
    interpreter's final flush cannot fail either) and ``on_closed`` runs once.
    """

    def __init__(
        self, stream: TextIO | None = None, on_closed: Callable[[], None] | None = None
    ) -> None:
        self._stream = stream or sys.stdout
        self._on_closed = on_closed
        self.closed = False

    def line(self, text: str) -> None:
        """Write one line (dropped once the reader has gone)."""
        if self.closed:
            return
        try:
            self._stream.write(text + "\n")
            self._stream.flush()
        except BrokenPipeError:
            self._closed()

    def message(self, topic: str, payload: bytes) -> None:
        """Write one MQTT message."""
        for text in format_message(topic, payload):
            self.line(text)

    def _closed(self) -> None:
        self.closed = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        if self._on_closed is not None:
            self._on_closed()
