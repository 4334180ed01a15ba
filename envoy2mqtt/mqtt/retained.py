"""Find retained topics left by a previous run, so that stale ones can be cleared.

At start the bridge opens a short second connection (built like the session's, see
:mod:`envoy2mqtt.mqtt.client`), subscribes to the discovery prefix and
to each known Envoy's topic tree, and publishes a unique *end marker* on that same
connection. A broker delivers the retained messages of a subscription before any message
published after the SUBSCRIBE was acknowledged, so when the marker comes back every retained
message has been seen; no sleep or guessed delay is involved.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import aiomqtt

from envoy2mqtt.logs import error_text
from envoy2mqtt.mqtt.client import MqttTlsError, new_client, tls_context
from envoy2mqtt.settings import MqttSettings

_LOGGER = logging.getLogger(__name__)

# Topic suffixes that never hold retained device state (and must not be cleared).
_TRANSIENT_LEAVES = ("/set", "/result")


@dataclass
class RetainedScan:
    """Retained messages found at start, by topic (empty payloads are not kept)."""

    messages: dict[str, bytes] = field(default_factory=dict)
    complete: bool = False

    def under(self, prefix: str) -> dict[str, bytes]:
        """Retained state topics below ``prefix`` (commands and results excluded)."""
        root = prefix.rstrip("/") + "/"
        return {
            t: p
            for t, p in self.messages.items()
            if t.startswith(root) and not t.endswith(_TRANSIENT_LEAVES)
        }

    def discovery_for(self, discovery_prefix: str, device_root: str) -> set[str]:
        """Discovery config topics whose payload points at ``device_root`` (``<base>/<sn>``).

        A config belongs to an Envoy when it mentions that Envoy's topic tree (state,
        availability or command topics), which holds for both discovery modes.
        """
        root = discovery_prefix.rstrip("/") + "/"
        needle = (device_root.rstrip("/") + "/").encode()
        return {t for t, p in self.messages.items() if t.startswith(root) and needle in p}


async def scan_retained(
    settings: MqttSettings, filters: Iterable[str], limit: float = 15.0
) -> RetainedScan:
    """Collect the retained messages matching ``filters`` (see module docstring).

    ``limit`` bounds the whole scan in seconds. Never raises for broker trouble: a failed
    or timed-out scan returns what it saw with ``complete=False`` (the caller must then
    not clear anything).
    """
    scan = RetainedScan()
    marker = f"{settings.base_topic}/bridge/scan/{uuid.uuid4().hex}"
    try:
        client = role_client(settings, "scan", limit)
        async with asyncio.timeout(limit), client:
            for topic_filter in [*filters, marker]:
                await client.subscribe(topic_filter, qos=1)
            await client.publish(marker, b"end", qos=1)
            async for message in client.messages:
                topic = message.topic.value
                if topic == marker:
                    scan.complete = True
                    break
                payload = bytes(message.payload) if isinstance(message.payload, bytes) else b""
                if message.retain and payload:
                    scan.messages[topic] = payload
    except (aiomqtt.MqttError, MqttTlsError, TimeoutError, OSError, ssl.SSLError) as exc:
        _LOGGER.warning(
            "retained scan incomplete error=%s seen=%d", error_text(exc), len(scan.messages)
        )
    _LOGGER.info("retained scan done complete=%s topics=%d", scan.complete, len(scan.messages))
    return scan


def role_client(settings: MqttSettings, role: str, timeout: float) -> aiomqtt.Client:
    """A short-lived second client next to the session's (id ``<client_id>-<role>-<random>``).

    Raises:
        MqttTlsError: the TLS files of ``mqtt.tls`` cannot be loaded.
    """
    return new_client(
        settings,
        identifier=f"{settings.client_id}-{role}-{uuid.uuid4().hex[:8]}",
        tls=tls_context(settings),
        timeout=timeout,
    )
