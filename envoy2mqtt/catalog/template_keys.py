"""Completing state payloads with every key a discovery value template reads.

Value templates are plain ``{{ value_json.<key> }}``: a key missing from the payload would
be an error (or an empty state) in a consumer's template engine. So every key an entity
of the snapshot reads is put in its topic's payload - ``null`` when the Envoy did not
report the value (Home Assistant shows unknown), or the value computed by the row's
:class:`~envoy2mqtt.catalog.derived.Derived` rule. Entities of every control flag count:
the payloads do not depend on the configuration.
"""

from __future__ import annotations

from typing import Any

from envoy2mqtt.catalog.registry import rows
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.topics import state_suffix

__all__ = ["add_template_keys"]


def add_template_keys(payloads: dict[str, dict[str, Any]], snapshot: Snapshot) -> None:
    """Add (in place) every key an entity of ``snapshot`` reads to its state payload."""
    for spec, ident in rows(snapshot, any_flags=True):
        payload = payloads.get(state_suffix(spec.topic, ident))
        if payload is None:
            continue  # the topic is not published at all: HA keeps the entity unknown
        if spec.phase is not None:
            payload = payload.setdefault("phases", {}).setdefault(spec.phase, {})
        if spec.derived is not None:
            payload[spec.value] = spec.derived(payload)
        else:
            payload.setdefault(spec.value, None)
