"""Topic-level sanitising and the identifiers derived from it (shared with the MQTT layer)."""

from __future__ import annotations

import re
from typing import Final

_NOT_ALLOWED: Final = re.compile(r"[^a-z0-9_-]+")
_MAX_LEVEL: Final = 64


def sanitize_topic_level(raw: str) -> str:
    """Turn device-reported text into one safe MQTT topic level.

    The result is lowercase ASCII ``[a-z0-9_-]``: every run of other characters
    (``+``, ``#``, ``/``, spaces, dots, non-ASCII…) becomes one ``_``, leading and
    trailing ``_`` are dropped and the result is capped at 64 characters, so
    device data can never add levels or wildcards to a topic.

    Args:
        raw: text from device data (serial numbers, relay ids, CT types).

    Returns:
        The sanitised level; ``"_"`` if nothing usable is left.
    """
    level = _NOT_ALLOWED.sub("_", raw.strip().lower()).strip("_")[:_MAX_LEVEL]
    return level or "_"


def phase_level(phase: str) -> str:
    """Map a pyenphase phase name (``L1``) to its payload/topic form (``l1``)."""
    return sanitize_topic_level(phase)


def join_id(*parts: str) -> str:
    """Join sanitised parts with ``_`` into a stable identifier (unique ids, device ids)."""
    return "_".join(sanitize_topic_level(part) for part in parts)
