"""Topic-level sanitising and the identifiers derived from it (shared with the MQTT layer)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final

_VALID_LEVEL: Final = re.compile(r"^[a-z0-9_-]+$")
_NOT_ALLOWED: Final = re.compile(r"[^a-z0-9_-]+")
_MAX_LEVEL: Final = 64


def sanitize_topic_level(raw: str) -> str:
    """Turn device-reported text into one safe MQTT topic level (the only sanitiser).

    The result is lowercase ASCII ``[a-z0-9_-]``, at most 64 characters and never empty:
    text is ASCII-folded (``é`` -> ``e``), every run of other characters (``+``, ``#``,
    ``/``, spaces…) becomes one ``_`` and edge ``_`` are dropped, so device data can never
    add levels or wildcards to a topic. Text with nothing usable left maps to
    ``id_<hash>`` so that distinct inputs stay distinct. Idempotent.

    Args:
        raw: text from device data (serial numbers, relay ids, CT types).

    Returns:
        The sanitised level.
    """
    if _VALID_LEVEL.match(raw):
        return raw[:_MAX_LEVEL]
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    level = _NOT_ALLOWED.sub("_", folded.lower()).strip("_")[:_MAX_LEVEL]
    if level:
        return level
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"id_{digest}"


def phase_level(phase: str) -> str:
    """Map a pyenphase phase name (``L1``) to its payload/topic form (``l1``)."""
    return sanitize_topic_level(phase)


def join_id(*parts: str) -> str:
    """Join sanitised parts with ``_`` into a stable identifier (unique ids, device ids)."""
    return "_".join(sanitize_topic_level(part) for part in parts)
