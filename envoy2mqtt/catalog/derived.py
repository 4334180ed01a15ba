"""Payload keys the catalogue computes from other keys of the same payload.

Every discovery value template is a plain ``{{ value_json.<key> }}`` (the template engines
of other consumers, such as openHAB's Jinjava, lack much of Home Assistant's), so where
Home Assistant's state is not the Envoy's raw value - a timestamp shown as ISO 8601,
milli-watts shown as watts, a count of active flags - the state payload carries the
converted value under a key of its own, next to the raw one. A row declares this with
``derived=`` (see :class:`Derived`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Derived", "count_of", "iso_of", "mapped_of", "scaled_of"]


@dataclasses.dataclass(frozen=True, slots=True)
class Derived:
    """How one payload key is computed from another key of the same payload.

    Attributes:
        source: the key holding the Envoy's value.
        convert: applied to a present (non-null) source value.
        doc: plain words for ``docs/entities.md``.
        missing: the value when the source is absent or null (``None`` = unknown).
    """

    source: str
    convert: Callable[[Any], Any]
    doc: str
    missing: Any = None

    def __call__(self, payload: Mapping[str, Any]) -> Any:
        """The derived value for ``payload``."""
        raw = payload.get(self.source)
        return self.missing if raw is None else self.convert(raw)


def _iso(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def iso_of(source: str) -> dict[str, Any]:
    """Row fields for a timestamp entity: reads ``<source>_iso``, epoch seconds as ISO 8601 UTC."""
    derived = Derived(source, _iso, f"ISO 8601 UTC of `{source}` (epoch s)")
    return {"value": f"{source}_iso", "derived": derived}


def scaled_of(source: str, target: str, factor: float, digits: int) -> dict[str, Any]:
    """Row fields for a unit conversion: ``target`` = ``source`` * ``factor``, rounded."""

    def convert(value: Any) -> Any:
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        return None if number is None else round(number * factor, digits)

    return {"value": target, "derived": Derived(source, convert, f"`{source}` * {factor:g}")}


def count_of(source: str, target: str) -> dict[str, Any]:
    """Row fields for a count of a list's entries; an absent list counts 0 (as in HA)."""

    def convert(value: Any) -> Any:
        return len(value) if isinstance(value, list) else None

    doc = f"number of entries of `{source}` (0 when absent)"
    return {"value": target, "derived": Derived(source, convert, doc, missing=0)}


def mapped_of(source: str, target: str, mapping: Mapping[str, str]) -> dict[str, Any]:
    """Row fields for a word mapping; words the mapping lacks pass through unchanged."""

    def convert(value: Any) -> Any:
        return mapping.get(value, value) if isinstance(value, str) else value

    pairs = ", ".join(f"`{k}` → `{v}`" for k, v in mapping.items())
    return {"value": target, "derived": Derived(source, convert, f"`{source}` with {pairs}")}
