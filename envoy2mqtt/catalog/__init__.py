"""The entity catalogue: entities as data, and what the bridge publishes from them.

Public API (pure functions, no I/O):

* :class:`Snapshot` - what one poll knows about one Envoy;
* :func:`state_payloads` - topic suffix -> JSON payload per state topic;
* :func:`discovery_payloads` / :class:`DiscoveryOptions` - HA discovery configs, plus
  :func:`stale_discovery_topics` and :func:`with_removed_components` for clean-up;
* :func:`parse_command` / :class:`CommandError` / :class:`ParsedCommand` - ``/set`` payloads;
* :class:`ControlFlags` - which controls the configuration enables;
* :func:`sanitize_topic_level` - the topic-level rule shared with the MQTT layer.
"""

from envoy2mqtt.catalog.commands import CommandError, ParsedCommand, parse_command
from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.discovery import (
    DiscoveryOptions,
    discovery_payloads,
    stale_discovery_topics,
    with_removed_components,
)
from envoy2mqtt.catalog.naming import sanitize_topic_level
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.state import state_payloads

__all__ = [
    "CommandError",
    "ControlFlags",
    "DiscoveryOptions",
    "ParsedCommand",
    "Snapshot",
    "discovery_payloads",
    "parse_command",
    "sanitize_topic_level",
    "stale_discovery_topics",
    "state_payloads",
    "with_removed_components",
]
