"""Volatile state keys: values that change on every reading without saying anything new.

A state payload whose only difference from the last published one is in these keys is not
re-sent on its own (the periodic re-publish still carries the newest value); see
:meth:`envoy2mqtt.mqtt.publisher.StatePublisher.publish`.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["VOLATILE_KEYS", "volatile_keys"]

VOLATILE_KEYS: Mapping[str, frozenset[str]] = {
    # first level of the state topic suffix -> keys ignored at any depth of its payload
    # (with the ISO 8601 twins timestamp entities read, see catalog.derived.iso_of)
    "gateway": frozenset({"last_poll", "last_poll_iso"}),
    "meters": frozenset({"timestamp"}),  # the CT reading time, also inside "phases"
    "livedata": frozenset({"last_update", "last_update_iso"}),
}


def volatile_keys(suffix: str) -> frozenset[str]:
    """The volatile keys of the state topic ``suffix`` (e.g. ``meters/production``)."""
    return VOLATILE_KEYS.get(suffix.split("/", 1)[0], frozenset())
