"""Command routing: ``…/set`` messages to the bridge's handler, one result per command.

Safety rules of the MQTT contract enforced here:

* retained commands are never executed (a stale relay command replayed at reconnect would
  be dangerous): they are answered with an error and cleared from the broker (an empty
  retained publish), so they cannot linger. Over MQTT 5 the command filters are subscribed
  with retain-as-published, so a retained command published while we are connected is
  recognised too; MQTT 3.1.1 brokers deliver those with retain=0 (only the replay at
  subscribe time carries the flag there);
* an empty payload on a command topic is never a command: it is how a retained message is
  cleared (our own clearing comes back to us this way) and is ignored without an answer;
* oversized payloads are answered with an error without calling the handler;
* commands for the same Envoy run one at a time, in arrival order;
* a result may carry a ``follow_up``: a second result published later on the same topics
  (``reverted`` after a battery-settings write the gateway undid), never holding the lock;
* a handler failure becomes an error result; it never stops the message loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiomqtt
import msgspec
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from envoy2mqtt.catalog.topics import SetTopic, Topics
from envoy2mqtt.mqtt.publisher import encode_payload
from envoy2mqtt.mqtt.session import MqttSession

__all__ = ["BirthHook", "CommandHandler", "CommandResult", "CommandRouter"]

_LOGGER = logging.getLogger(__name__)

RETAINED_ERROR = "retained commands are not executed; publish without the retain flag"

CommandHandler = Callable[[str, str, str | None, bytes], Awaitable["CommandResult"]]
BirthHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The answer to one command, published as JSON on its ``…/result`` topic.

    ``follow_up``, when set, is awaited after this result was published; a result it
    returns is published as a second message to the same destinations (None: nothing).
    """

    status: Literal["ok", "error", "reverted"]
    value: Any = None
    error: str | None = None
    transaction: Any = None
    warning: str | None = None
    follow_up: Awaitable[CommandResult | None] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    @classmethod
    def ok(cls, value: Any = None, transaction: Any = None) -> CommandResult:
        """A successful command that applied ``value``."""
        return cls("ok", value=value, transaction=transaction)

    @classmethod
    def failure(cls, error: str, transaction: Any = None) -> CommandResult:
        """A rejected or failed command; ``error`` is shown to the user."""
        return cls("error", error=error, transaction=transaction)

    def to_payload(self) -> dict[str, Any]:
        """The JSON object of the contract; absent fields are omitted."""
        payload: dict[str, Any] = {"status": self.status}
        for key in ("value", "error", "warning", "transaction"):
            value = getattr(self, key)
            if value is not None:
                payload[key] = value
        return payload


def _transaction(payload: bytes) -> Any:
    """The ``transaction`` of a JSON object payload, echoed in the result."""
    if not payload.startswith(b"{"):
        return None
    try:
        decoded = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return None
    return decoded.get("transaction") if isinstance(decoded, dict) else None


def _as_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


class CommandRouter:
    """Subscribes to the command topics and Home Assistant's status topic.

    Args:
        session: The MQTT session (subscriptions survive reconnects there).
        handler: ``await handler(serial, control, ident, payload)`` (``control`` is the
            control's name, see ``catalog.topics.SetTopic``) returning
            a :class:`CommandResult`.
        ha_status_topic: Home Assistant's birth/last-will topic, or ``None``.
        on_ha_online: Called when Home Assistant announces ``online`` (it restarted).
        max_payload: Larger command payloads are rejected without calling the handler.
        command_timeout: A handler running longer than this gets an error result.
        per_envoy: Subscribe to the ``/set`` topics of the Envoys added with
            :meth:`serve_envoy` only (several instances on one base topic), instead of
            every Envoy's.
        accepts: ``accepts(serial)`` False: a command for that Envoy is another
            instance's to answer and is ignored without a result.
    """

    def __init__(
        self,
        session: MqttSession,
        handler: CommandHandler,
        *,
        ha_status_topic: str | None = None,
        on_ha_online: BirthHook | None = None,
        max_payload: int = 4096,
        command_timeout: float = 60.0,
        per_envoy: bool = False,
        accepts: Callable[[str], bool] | None = None,
    ) -> None:
        self._session = session
        self._topics: Topics = session.topics
        self._handler = handler
        self._ha_status_topic = ha_status_topic
        self._on_ha_online = on_ha_online
        self._max_payload = max_payload
        self._command_timeout = command_timeout
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._per_envoy = per_envoy
        self._accepts = accepts

    async def install(self) -> None:
        """Register the subscriptions and the message handler on the session."""
        if not self._per_envoy:
            for topic_filter in self._topics.command_filters():
                await self._session.subscribe(topic_filter, qos=1, retain_as_published=True)
        if self._ha_status_topic is not None:
            await self._session.subscribe(self._ha_status_topic, qos=1)
        self._session.add_message_handler(self.handle_message)

    async def serve_envoy(self, serial: str) -> None:
        """Subscribe to the command topics of one Envoy (``per_envoy`` mode)."""
        for topic_filter in self._topics.command_filters(serial):
            await self._session.subscribe(topic_filter, qos=1, retain_as_published=True)

    async def drop_envoy(self, serial: str) -> None:
        """Stop receiving the command topics of one Envoy (``per_envoy`` mode)."""
        for topic_filter in self._topics.command_filters(serial):
            await self._session.unsubscribe(topic_filter)

    async def close(self) -> None:
        """Cancel commands still running (at shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def handle_message(self, message: aiomqtt.Message) -> None:
        """Route one incoming message; long work is started as a task."""
        topic = message.topic.value
        if topic == self._ha_status_topic:
            self._ha_status(message)
            return
        parsed = self._topics.parse_command(topic)
        if parsed is None:
            return
        if self._accepts is not None and not self._accepts(parsed.serial):
            _LOGGER.debug("mqtt command ignored reason=not ours topic=%s", topic)
            return
        if not _as_bytes(message.payload):
            _LOGGER.debug("mqtt command ignored reason=empty topic=%s", topic)
            return
        if message.retain:
            self._spawn(self._refuse_retained(parsed, message))
            return
        self._spawn(self._run_command(parsed, message))

    async def _refuse_retained(self, parsed: SetTopic, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        _LOGGER.warning("mqtt command refused reason=retained action=cleared topic=%s", topic)
        # Cleared before the answer: whoever reads the error can rely on it being gone.
        await self._session.publish(topic, b"", qos=1, retain=True)
        payload = _as_bytes(message.payload)
        await self._answer(
            parsed, message, CommandResult.failure(RETAINED_ERROR, _transaction(payload))
        )

    def _ha_status(self, message: aiomqtt.Message) -> None:
        # A retained status arrives right after our own (re)connect, where the on-connect
        # hooks already re-publish everything; only a live "online" means HA restarted.
        if message.retain or self._on_ha_online is None:
            return
        if _as_bytes(message.payload).strip().lower() == b"online":
            _LOGGER.info("mqtt homeassistant online: re-publishing discovery and state")
            self._spawn(self._birth(self._on_ha_online))

    async def _birth(self, hook: BirthHook) -> None:
        try:
            await hook()
        except Exception:
            _LOGGER.exception("mqtt homeassistant birth hook failed")

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_command(self, parsed: SetTopic, message: aiomqtt.Message) -> None:
        payload = _as_bytes(message.payload)
        lock = self._locks.setdefault(parsed.serial, asyncio.Lock())
        async with lock:
            result = await self._execute(parsed, payload)
        if result.transaction is None:
            transaction = _transaction(payload)
            if transaction is not None:
                result = dataclasses.replace(result, transaction=transaction)
        _LOGGER.info(
            "mqtt command serial=%s control=%s ident=%s status=%s error=%s",
            parsed.serial,
            parsed.control,
            parsed.ident,
            result.status,
            result.error,
        )
        await self._answer(parsed, message, result)
        if result.follow_up is not None:
            self._spawn(self._follow(parsed, message, result))

    async def _follow(
        self, parsed: SetTopic, message: aiomqtt.Message, first: CommandResult
    ) -> None:
        if first.follow_up is None:
            return
        try:
            later = await first.follow_up
        except Exception:
            _LOGGER.exception("mqtt command follow-up failed control=%s", parsed.control)
            return
        if later is None:
            return
        if later.transaction is None:
            later = dataclasses.replace(later, transaction=first.transaction)
        _LOGGER.info(
            "mqtt command follow-up serial=%s control=%s status=%s",
            parsed.serial,
            parsed.control,
            later.status,
        )
        await self._answer(parsed, message, later)

    async def _execute(self, parsed: SetTopic, payload: bytes) -> CommandResult:
        if len(payload) > self._max_payload:
            return CommandResult.failure(
                f"payload too large ({len(payload)} bytes, max {self._max_payload})"
            )
        try:
            return await asyncio.wait_for(
                self._handler(parsed.serial, parsed.control, parsed.ident, payload),
                self._command_timeout,
            )
        except TimeoutError:
            return CommandResult.failure(f"command timed out after {self._command_timeout:g}s")
        except Exception as exc:
            _LOGGER.exception(
                "mqtt command handler failed serial=%s control=%s", parsed.serial, parsed.control
            )
            return CommandResult.failure(f"internal error ({type(exc).__name__})")

    async def _answer(
        self, parsed: SetTopic, message: aiomqtt.Message, result: CommandResult
    ) -> None:
        body = encode_payload(result.to_payload())
        await self._session.publish(self._topics.result_for(parsed), body, qos=1)
        response_topic = getattr(message.properties, "ResponseTopic", None)
        if not self._session.is_v5 or not response_topic:
            return
        if any(c in response_topic for c in "+#"):
            _LOGGER.warning("mqtt response topic ignored reason=wildcard topic=%s", response_topic)
            return
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        correlation = getattr(message.properties, "CorrelationData", None)
        if correlation is not None:
            properties.CorrelationData = correlation
        await self._session.publish(response_topic, body, qos=1, properties=properties)
