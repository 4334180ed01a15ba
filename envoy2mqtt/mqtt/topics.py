"""Transitional alias of :mod:`envoy2mqtt.catalog.topics` (removed once the bridge imports it)."""

from envoy2mqtt.catalog.topics import (
    SetTopic,
    Topics,
    control_for_path,
    is_valid_level,
    sanitize_level,
    state_suffix,
)

__all__ = [
    "SetTopic",
    "Topics",
    "control_for_path",
    "is_valid_level",
    "sanitize_level",
    "state_suffix",
]
