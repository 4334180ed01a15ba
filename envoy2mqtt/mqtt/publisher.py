"""Retained state publishing: change-only, with a periodic re-send of unchanged state.

The publisher remembers the encoded payload of every retained topic it owns. A payload is
sent when its bytes differ from the last ones, when the last send is older than the
re-publish interval (``expire_after`` consumers need to see life), or when the last attempt
was dropped because the broker was away. The same bookkeeping tells which topics to clear
when a device disappears.

Change detection compares a digest of the payload, optionally without *volatile* keys
(a poll time, a meter's reading timestamp): a payload whose only difference is in such keys
is not sent, but it is kept as the newest payload, so the periodic re-publish carries it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

__all__ = ["PublishTarget", "StatePublisher", "encode_payload"]

_LOGGER = logging.getLogger(__name__)
_ENCODER = msgspec.json.Encoder()


class PublishTarget(Protocol):
    """What the publisher needs from the session (see :class:`MqttSession.publish`)."""

    async def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 0, retain: bool = False
    ) -> bool:
        """Publish; ``False`` when the message was dropped."""
        ...


def encode_payload(payload: object) -> bytes:
    """Bytes as they are, text as UTF-8, anything else as compact JSON (msgspec)."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return _ENCODER.encode(payload)


def _without(value: Any, keys: Collection[str]) -> Any:
    """``value`` with the values of ``keys`` blanked in every object at any depth.

    Only the values: a volatile key appearing (the first poll time) is still a change.
    """
    if isinstance(value, dict):
        return {k: None if k in keys else _without(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass(slots=True)
class _Entry:
    digest: bytes  # what change detection compares
    payload: bytes | None  # None: not kept, the owner sends it again itself (keep=False)
    periodic: bool = True  # re-sent every interval even when unchanged
    sent_at: float | None = None  # None: not delivered to the broker yet


class StatePublisher:
    """Publishes retained state with change detection and periodic re-publish.

    Args:
        target: Usually the :class:`~envoy2mqtt.mqtt.session.MqttSession`.
        republish_interval: Unchanged state is re-sent at least this often (seconds).
        qos: QoS of retained state messages.
        clock: Monotonic clock (tests inject a fake one).
    """

    def __init__(
        self,
        target: PublishTarget,
        *,
        republish_interval: float = 300.0,
        qos: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._target = target
        self._qos = qos
        self._clock = clock
        # The periodic task wakes every tick; re-sending from `interval - tick` on keeps
        # the real gap between two sends within `interval`.
        self._tick = max(republish_interval / 10, 0.01)
        self._refresh_after = republish_interval - self._tick
        self._entries: dict[str, _Entry] = {}

    async def publish(
        self,
        topic: str,
        payload: object,
        *,
        periodic: bool = True,
        volatile: Collection[str] = (),
        keep: bool = True,
        force: bool = False,
    ) -> bool:
        """Publish ``payload`` retained on ``topic`` unless it is unchanged and fresh.

        Args:
            topic: The retained topic.
            payload: Bytes, text, or anything msgspec encodes as JSON.
            periodic: ``False`` for messages that must not be refreshed on a timer
                (discovery configs: re-sending them makes Home Assistant reload entities);
                they are still re-sent by :meth:`republish_all` and when undelivered.
            volatile: Keys (at any depth of a JSON object payload) left out of the change
                comparison: a payload differing only there is stored but not sent.
            keep: ``False`` to remember only a digest of the payload (large configs the
                owner can rebuild): :meth:`republish_all` and :meth:`republish_due` then
                skip the topic, and the owner publishes it again after a reconnect.
            force: Send even when unchanged and fresh (the owner's own re-publish).

        Returns:
            Whether a message was handed to the broker.
        """
        data = encode_payload(payload)
        compared = data
        if volatile and isinstance(payload, dict):
            compared = encode_payload(_without(payload, volatile))
        digest = _digest(compared)
        entry = self._entries.get(topic)
        if entry is not None and entry.digest == digest and not (force or self._due(entry)):
            if keep:
                entry.payload = data  # the newest values go out with the next refresh
            return False
        entry = _Entry(digest, data if keep else None, periodic)
        self._entries[topic] = entry
        return await self._send(topic, entry, data)

    async def clear(self, topic: str) -> bool:
        """Remove ``topic``'s retained message (empty payload) and forget it."""
        self._entries.pop(topic, None)
        sent = await self._target.publish(topic, b"", qos=self._qos, retain=True)
        _LOGGER.debug("mqtt clear topic=%s sent=%s", topic, sent)
        return sent

    async def clear_missing(self, prefix: str, keep: Iterable[str]) -> list[str]:
        """Clear every topic we published under ``prefix`` that is not in ``keep``."""
        stale = sorted(self.topics(prefix) - set(keep))
        for topic in stale:
            await self.clear(topic)
        if stale:
            _LOGGER.info("mqtt cleared stale topics prefix=%s count=%d", prefix, len(stale))
        return stale

    def forget(self, topics: Iterable[str]) -> None:
        """Stop tracking ``topics`` without clearing them (another instance serves them now)."""
        for topic in topics:
            self._entries.pop(topic, None)

    def topics(self, prefix: str = "") -> set[str]:
        """Topics currently published by us, optionally limited to ``prefix`` (a topic level)."""
        if not prefix:
            return set(self._entries)
        root = prefix.rstrip("/") + "/"
        return {t for t in self._entries if t.startswith(root) or t == prefix}

    def payload(self, topic: str) -> bytes | None:
        """The last payload published (or attempted) on ``topic``."""
        entry = self._entries.get(topic)
        return entry.payload if entry is not None else None

    async def republish_all(self) -> int:
        """Send every known retained state again (after reconnect or HA birth)."""
        sent = 0
        for topic, entry in list(self._entries.items()):
            if entry.payload is not None:
                sent += await self._send(topic, entry)
        return sent

    async def republish_due(self) -> int:
        """Send the states that were not delivered or are older than the interval."""
        sent = 0
        for topic, entry in list(self._entries.items()):
            if entry.payload is not None and self._due(entry):
                sent += await self._send(topic, entry)
        return sent

    async def run(self) -> None:
        """Re-publish due state forever (run as a task; cancel to stop)."""
        while True:
            await asyncio.sleep(self._tick)
            count = await self.republish_due()
            if count:
                _LOGGER.debug("mqtt republished unchanged state count=%d", count)

    def _due(self, entry: _Entry) -> bool:
        if entry.sent_at is None:
            return True
        return entry.periodic and self._clock() - entry.sent_at >= self._refresh_after

    async def _send(self, topic: str, entry: _Entry, data: bytes | None = None) -> bool:
        payload = entry.payload if data is None else data
        assert payload is not None  # entries without a payload are sent by their owner
        sent = await self._target.publish(topic, payload, qos=self._qos, retain=True)
        if sent:
            entry.sent_at = self._clock()
            _LOGGER.debug("mqtt publish topic=%s bytes=%d retain=true", topic, len(payload))
        return sent
