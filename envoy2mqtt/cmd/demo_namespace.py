"""The demo's own corner of a broker, and removing everything it left there.

The demo publishes under its own base topic and discovery ids (``envoy2mqtt-demo``), never
under the real bridge's, so a demo pointed at the broker of a running installation cannot
overwrite ``envoy2mqtt/bridge/state`` or share a Home Assistant device with a real Envoy of
the same serial. On exit it deletes every retained message of that namespace: the broker is
left as it was before the demo started.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiomqtt

from envoy2mqtt.mqtt.retained import role_client, scan_retained
from envoy2mqtt.settings import MqttSettings

_LOGGER = logging.getLogger(__name__)

DEMO_NAMESPACE = "envoy2mqtt-demo"


@dataclass(frozen=True)
class Namespace:
    """Where the demo publishes.

    Attributes:
        base_topic: root of every state and bridge topic.
        id_prefix: first part of every unique id and device identifier (discovery node ids
            are device identifiers, so discovery topics carry it too).
        discovery_prefix: Home Assistant's discovery prefix.
    """

    base_topic: str = DEMO_NAMESPACE
    id_prefix: str = DEMO_NAMESPACE
    discovery_prefix: str = "homeassistant"

    def filters(self, *, discovery: bool = True) -> list[str]:
        """Subscriptions covering the namespace (discovery needs filtering with :meth:`owns`)."""
        topics = [f"{self.base_topic}/#"]
        return [*topics, f"{self.discovery_prefix}/#"] if discovery else topics

    def owns(self, topic: str) -> bool:
        """True for the demo's topics: below its base, or a discovery config of its ids."""
        if topic.startswith(f"{self.base_topic}/"):
            return True
        rest = topic.removeprefix(f"{self.discovery_prefix}/")
        if rest == topic:
            return False
        # <component>/<node id>/[<object id>/]config; the node id is a device identifier
        levels = rest.split("/")
        return len(levels) >= 3 and levels[1].startswith(f"{self.id_prefix}_")


@dataclass(frozen=True)
class Cleanup:
    """What :func:`remove_retained` did."""

    removed: int
    left: int


async def remove_retained(mqtt: MqttSettings, namespace: Namespace, limit: float = 15.0) -> Cleanup:
    """Delete every retained message of ``namespace`` and check that none is left.

    Raises:
        aiomqtt.MqttError: the broker cannot be reached (or went away meanwhile).
    """
    found = await _owned(mqtt, namespace, limit)
    if found:
        async with asyncio.timeout(limit), role_client(mqtt, "clean", limit) as client:
            for topic in sorted(found):
                await client.publish(topic, b"", qos=1, retain=True)
    left = await _owned(mqtt, namespace, limit) if found else set()
    _LOGGER.info("demo namespace cleared removed=%d left=%d", len(found - left), len(left))
    return Cleanup(removed=len(found - left), left=len(left))


async def _owned(mqtt: MqttSettings, namespace: Namespace, limit: float) -> set[str]:
    scan = await scan_retained(mqtt, namespace.filters(), limit)
    if not scan.complete:
        msg = "the broker did not answer the retained-topic scan"
        raise aiomqtt.MqttError(msg)
    return {t for t in scan.messages if namespace.owns(t) and "/bridge/scan/" not in t}
