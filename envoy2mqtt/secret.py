"""A password or token as a typed value that cannot end up in a text by accident.

``str()``, ``repr()``, f-strings and ``%`` formatting of a :class:`Secret` all give ``***``;
the clear value is only handed out by :meth:`Secret.reveal`, at the one place that sends it
(an HTTP header, a login form, the token cache file). Creating a secret also registers it
with the log safety net (:func:`envoy2mqtt.redact.register_secret`), as a whole token.
"""

from __future__ import annotations

from typing import Any

from envoy2mqtt.redact import MASK, register_secret

__all__ = ["Secret", "reveal"]


class Secret:
    """An immutable secret string with a masking ``str``/``repr``/``format``."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        """Wrap ``value`` and register it with the log redactor."""
        object.__setattr__(self, "_value", value)
        register_secret(value)

    @classmethod
    def of(cls, value: Secret | str | None) -> Secret | None:
        """``value`` as a secret; ``None`` and empty text stay ``None``."""
        if value is None or isinstance(value, Secret):
            return value or None
        return cls(value) if value else None

    def reveal(self) -> str:
        """The clear value: only for the call that transmits or stores it."""
        return self._value

    def strip(self) -> Secret:
        """The same secret without surrounding whitespace."""
        return Secret(self._value.strip())

    def __setattr__(self, name: str, value: Any) -> None:
        msg = "Secret is immutable"
        raise AttributeError(msg)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)


def reveal(value: Secret | None) -> str | None:
    """The clear value of an optional secret."""
    return None if value is None else value.reveal()
