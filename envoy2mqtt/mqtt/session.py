"""The broker connection: one aiomqtt client per connection, one reconnect loop.

* Last Will ``<base>/bridge/state`` = ``offline`` (retained, QoS 1); ``online`` is published
  on every connect and ``offline`` again on a clean :meth:`MqttSession.stop`.
* At every (re)connect the registered subscriptions are renewed and the on-connect hooks
  run (the bridge re-publishes its retained state there).
* Over MQTT 5 a subscription can ask for retain-as-published: the broker then keeps the
  retain flag on live deliveries too (MQTT 3.1.1 brokers clear it for existing subscribers),
  which is how the router recognises a command published with the retain flag.
* Each connection uses a fresh client with a clean session, so nothing is carried across a
  reconnect: publishes attempted while offline are dropped (the hooks re-publish current
  state) and commands that arrived for the old connection are never replayed.
* A refused login, a rejected client id or a TLS failure on the *first* connect raises
  :class:`MqttFatalError`; after the first success every failure is retried forever with
  capped exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomqtt
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.logs import error_text
from envoy2mqtt.mqtt.acks import acknowledged
from envoy2mqtt.mqtt.client import (
    MqttAuthError,
    MqttFatalError,
    MqttTlsError,
    new_client,
    tls_context,
)
from envoy2mqtt.mqtt.connect_errors import fatal_error
from envoy2mqtt.settings import MqttSettings
from envoy2mqtt.tls_errors import scrub_reprs

__all__ = [
    "Backoff",
    "ConnectHook",
    "MessageHandler",
    "MqttAuthError",
    "MqttFatalError",
    "MqttSession",
    "MqttTlsError",
    "SessionStats",
]

_LOGGER = logging.getLogger(__name__)

MessageHandler = Callable[[aiomqtt.Message], Awaitable[None]]
ConnectHook = Callable[[], Awaitable[None]]

ONLINE = b"online"
OFFLINE = b"offline"

# A connection that lived this long resets the backoff; shorter ones (a broker that accepts
# and then kicks us, e.g. a client-id clash) keep backing off instead of flapping.
_STABLE_AFTER = 30.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with proportional jitter."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        base = min(self.maximum, self.initial * self.factor ** min(attempt, 32))
        spread = random.uniform(-self.jitter, self.jitter)  # noqa: S311 - timing, not crypto
        return min(self.maximum, max(0.0, base * (1 + spread)))


@dataclass(slots=True)
class SessionStats:
    """Counters for bridge/health."""

    connects: int = 0
    published: int = 0
    dropped: int = 0
    received: int = 0


class MqttSession:
    """Owns the MQTT connection for the whole process.

    Args:
        settings: The ``mqtt`` section of the configuration.
        backoff: Reconnect delays; by default taken from the settings.
        timeout: Seconds to wait for CONNACK, SUBACK and PUBACK.
        max_pending: Publishes awaiting their PUBACK at once before aiomqtt warns (the
            bridge sizes it to its fleet: each Envoy publishes one message at a time).
        instance: The bridge instance name: its ``state`` topic (and Last Will) becomes
            ``<base>/bridge/<instance>/state``.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        instance: str | None = None,
        backoff: Backoff | None = None,
        timeout: float = 10.0,
        max_pending: int = 10,
    ) -> None:
        self._settings = settings
        self._max_pending = max_pending
        self.topics = Topics(settings.base_topic, instance)
        self._backoff = backoff or Backoff(
            initial=settings.reconnect_min_delay, maximum=settings.reconnect_max_delay
        )
        self._timeout = timeout
        # filter -> (qos, retain_as_published)
        self._subscriptions: dict[str, tuple[int, bool]] = {}
        self._handlers: list[MessageHandler] = []
        self._hooks: list[ConnectHook] = []
        self._client: aiomqtt.Client | None = None
        self._closing = False
        # Set when a publish on the current connection was not acknowledged: the connection
        # is presumed dead (half-open TCP) and is replaced instead of stalling every publish.
        self._broken = asyncio.Event()
        self._running = False
        self._stop = asyncio.Event()
        self._stopped = asyncio.Event()
        self._connected = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._disconnected.set()
        self.stats = SessionStats()

    @property
    def is_v5(self) -> bool:
        """Whether the session speaks MQTT 5 (properties such as response topics exist)."""
        return self._settings.protocol == "5"

    @property
    def connected(self) -> bool:
        """Whether a connection is up right now."""
        return self._client is not None and not self._closing and not self._broken.is_set()

    def add_message_handler(self, handler: MessageHandler) -> None:
        """Call ``handler`` for every incoming message; it must return quickly."""
        self._handlers.append(handler)

    def add_on_connect(self, hook: ConnectHook) -> None:
        """Run ``hook`` after every (re)connect, once ``online`` and subscriptions are in place."""
        self._hooks.append(hook)

    async def subscribe(
        self, topic_filter: str, qos: int = 1, *, retain_as_published: bool = False
    ) -> None:
        """Subscribe now (if connected) and again after every reconnect.

        ``retain_as_published`` (MQTT 5 only; ignored on 3.1.1) keeps the publisher's retain
        flag on live deliveries.
        """
        self._subscriptions[topic_filter] = (qos, retain_as_published)
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):  # the reconnect will renew it
                await self._subscribe_on(client, topic_filter, qos, retain_as_published)

    async def _subscribe_on(
        self, client: aiomqtt.Client, topic_filter: str, qos: int, retain_as_published: bool
    ) -> None:
        if self.is_v5 and retain_as_published:
            options = SubscribeOptions(qos=qos, retainAsPublished=True)
            await client.subscribe(topic_filter, options=options, timeout=self._timeout)
        else:
            await client.subscribe(topic_filter, qos, timeout=self._timeout)

    async def unsubscribe(self, topic_filter: str) -> None:
        """Drop a subscription now (if connected) and from the ones renewed at reconnect."""
        if self._subscriptions.pop(topic_filter, None) is None:
            return
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):  # gone with the connection anyway
                await client.unsubscribe(topic_filter, timeout=self._timeout)

    async def wait_connected(self) -> None:
        """Wait until a connection is up (wrap in ``asyncio.wait_for`` to bound it)."""
        await self._connected.wait()

    async def wait_disconnected(self) -> None:
        """Wait until no connection is up (returns at once when offline)."""
        await self._disconnected.wait()

    async def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: int = 0,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> bool:
        """Publish one message; returns ``False`` (and drops it) when not connected.

        Nothing is queued for a later connection: state is re-published by the on-connect
        hooks, and replaying stale messages would be wrong.
        """
        client = self._client
        if client is None or self._closing or self._broken.is_set():
            self.stats.dropped += 1
            _LOGGER.debug("mqtt publish dropped reason=offline topic=%s", topic)
            return False
        return await self._publish_on(
            client, topic, payload, qos=qos, retain=retain, properties=properties
        )

    async def run(self) -> None:
        """Connect and keep the connection up until :meth:`stop`.

        Raises:
            MqttFatalError: The first connection attempt failed for a reason retrying
                cannot fix (credentials, authorisation, client id, protocol, TLS).
        """
        tls = tls_context(self._settings)
        self._running = True
        attempt = 0
        ever_connected = False
        try:
            while not self._stop.is_set():
                connected_at: float | None = None
                try:
                    async with self._new_client(tls) as client:
                        ever_connected, connected_at = True, time.monotonic()
                        await self._serve(client)
                except aiomqtt.MqttError as exc:
                    fatal = fatal_error(self._settings, exc)
                    if fatal is not None and not ever_connected:
                        raise fatal from None
                    if not self._stop.is_set():
                        self._log_failure(exc, fatal, attempt)
                finally:
                    self._detach()
                if self._stop.is_set():
                    break
                if connected_at is not None and time.monotonic() - connected_at >= _STABLE_AFTER:
                    attempt = 0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._backoff.delay(attempt))
                attempt += 1
        finally:
            self._running = False
            self._stopped.set()

    async def stop(self, grace: float = 5.0) -> None:
        """Publish ``offline`` (retained), disconnect cleanly and wait for :meth:`run` to end."""
        client = self._client
        self._closing = True
        if client is not None:
            await self._publish_on(client, self.topics.bridge_state, OFFLINE, qos=1, retain=True)
        self._stop.set()
        if self._running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), grace)

    async def _publish_on(
        self,
        client: aiomqtt.Client,
        topic: str,
        payload: bytes | str,
        *,
        qos: int,
        retain: bool,
        properties: Properties | None = None,
    ) -> bool:
        send = client.publish(
            topic, payload, qos=qos, retain=retain, properties=properties, timeout=math.inf
        )
        try:
            await acknowledged(send, self._timeout)  # a blocked loop is no dead broker
        except (aiomqtt.MqttError, TimeoutError) as exc:
            self.stats.dropped += 1
            _LOGGER.debug("mqtt publish dropped reason=%s topic=%s", error_text(exc), topic)
            if client is self._client and not self._closing and not self._broken.is_set():
                _LOGGER.warning(
                    "mqtt publish failed, reconnecting error=%s topic=%s", error_text(exc), topic
                )
                self._broken.set()
            return False
        self.stats.published += 1
        return True

    def _new_client(self, tls: ssl.SSLContext | None) -> aiomqtt.Client:
        client = new_client(
            self._settings,
            identifier=self._settings.client_id,
            tls=tls,
            timeout=self._timeout,
            will=aiomqtt.Will(self.topics.bridge_state, OFFLINE, qos=1, retain=True),
            # Small messages one after another: Nagle would hold each behind the peer's
            # delayed ACK (~40 ms per /set round trip).
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            # A clean session on every connect: the broker must not store commands for us
            # while we are away (they would be replayed at reconnect).
            clean=True,
        )
        client.pending_calls_threshold = self._max_pending
        return client

    async def _serve(self, client: aiomqtt.Client) -> None:
        self._broken.clear()
        self._client = client
        await client.publish(
            self.topics.bridge_state, ONLINE, qos=1, retain=True, timeout=self._timeout
        )
        for topic_filter, (qos, as_published) in list(self._subscriptions.items()):
            await self._subscribe_on(client, topic_filter, qos, as_published)
        self.stats.connects += 1
        self._disconnected.clear()
        self._connected.set()
        s = self._settings
        _LOGGER.info(
            "mqtt connected host=%s port=%s protocol=%s client_id=%s subscriptions=%d",
            s.host,
            s.port,
            s.protocol,
            s.client_id,
            len(self._subscriptions),
        )
        for hook in list(self._hooks):
            try:
                await hook()
            except Exception:
                _LOGGER.exception(
                    "mqtt on-connect hook failed hook=%s", getattr(hook, "__name__", hook)
                )
        await self._read(client)

    async def _read(self, client: aiomqtt.Client) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        broken = asyncio.ensure_future(self._broken.wait())
        messages = client.messages
        try:
            while True:
                incoming = asyncio.ensure_future(anext(messages))
                done, _ = await asyncio.wait(
                    {incoming, stop, broken}, return_when=asyncio.FIRST_COMPLETED
                )
                if incoming not in done:
                    incoming.cancel()
                    if broken in done and not self._stop.is_set():
                        msg = "publish not acknowledged"
                        raise aiomqtt.MqttError(msg)
                    return
                await self._dispatch(incoming.result())
        finally:
            stop.cancel()
            broken.cancel()

    async def _dispatch(self, message: aiomqtt.Message) -> None:
        self.stats.received += 1
        for handler in list(self._handlers):
            try:
                await handler(message)
            except Exception:
                _LOGGER.exception("mqtt message handler failed topic=%s", message.topic.value)

    def _detach(self) -> None:
        self._client = None
        self._connected.clear()
        self._disconnected.set()

    def _log_failure(
        self, exc: aiomqtt.MqttError, fatal: MqttFatalError | None, attempt: int
    ) -> None:
        s = self._settings
        if fatal is not None:
            _LOGGER.error(
                "mqtt connect refused error=%s attempt=%d", error_text(fatal), attempt + 1
            )
            return
        _LOGGER.warning(
            "mqtt connection lost or failed host=%s port=%s error=%s attempt=%d",
            s.host,
            s.port,
            scrub_reprs(error_text(exc)),
            attempt + 1,
        )
