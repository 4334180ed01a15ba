"""Strict parsing of plain command values (booleans, enum names, bounded integers)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from envoy2mqtt.envoy.json_terms import json_term as show_value

__all__ = ["CommandError", "parse_bool", "parse_enum", "parse_int", "parse_number", "show_value"]

_TRUE: Final = frozenset({"on", "true", "1"})
_FALSE: Final = frozenset({"off", "false", "0"})


class CommandError(ValueError):
    """A ``/set`` payload was rejected; ``message`` is safe to publish on ``…/result``.

    Attributes:
        message: what is wrong, in plain words.
        transaction: the payload's transaction id when it could be read (for the echo).
    """

    def __init__(self, message: str, transaction: Any = None) -> None:
        """Create the error with its public message and the transaction to echo."""
        super().__init__(message)
        self.message = message
        self.transaction = transaction


def parse_bool(value: Any, words: tuple[str, str] | None = None) -> bool:
    """ON/OFF, true/false (any case), 1/0 - as text, JSON booleans or JSON 0/1.

    Args:
        value: the decoded payload value.
        words: the (on, off) words the control's state shows, e.g. ``("closed", "open")``,
            accepted as well (any case) so a state value can be sent back verbatim.

    Raises:
        CommandError: anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    on_words, off_words = set(_TRUE), set(_FALSE)
    if words is not None:
        on_words.add(words[0])
        off_words.add(words[1])
    if isinstance(value, str):
        word = value.strip().lower()
        if word in on_words or word in off_words:
            return word in on_words
    extra = f", {words[0]}/{words[1]}" if words is not None else ""
    raise CommandError(f"expected ON/OFF, true/false{extra} or 1/0, got {show_value(value)}")


def parse_enum(value: Any, mapping: Mapping[str, str], what: str) -> tuple[str, str]:
    """Accept an HA option name or the Envoy's own name; return (HA name, Envoy name).

    Raises:
        CommandError: not a string, or not a known option.
    """
    if isinstance(value, str):
        word = value.strip().lower()
        for ha_name, envoy_name in mapping.items():
            if word in (ha_name, envoy_name):
                return ha_name, envoy_name
    raise CommandError(f"{what} must be one of {'|'.join(mapping)}, got {show_value(value)}")


def parse_int(value: Any, minimum: int, maximum: int, what: str) -> int:
    """An integer in ``[minimum, maximum]``; ``"20"``, ``20.0`` and ``"20.0"`` count as 20.

    Raises:
        CommandError: not a number, not finite, not integral or out of range.
    """
    number = _number(value, what)
    if isinstance(number, float) and not number.is_integer():
        raise CommandError(f"{what} must be an integer, got {show_value(value)}")
    if not minimum <= number <= maximum:
        raise CommandError(
            f"{what} must be between {minimum} and {maximum}, got {show_value(value)}"
        )
    return int(number)


def parse_number(value: Any, minimum: float, maximum: float, what: str) -> int | float:
    """A finite JSON number in ``[minimum, maximum]`` (integral values come back as int).

    Raises:
        CommandError: not a number, not finite or out of range.
    """
    number = _number(value, what)
    if not minimum <= number <= maximum:
        raise CommandError(
            f"{what} must be between {minimum:g} and {maximum:g}, got {show_value(value)}"
        )
    return int(number) if float(number).is_integer() else number


def _number(value: Any, what: str) -> int | float:
    if isinstance(value, str):
        try:
            value = float(value.strip()) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            raise CommandError(f"{what} must be a number, got {show_value(value)}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{what} must be a number, got {show_value(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise CommandError(f"{what} must be a finite number, got {show_value(value)}")
    return value
