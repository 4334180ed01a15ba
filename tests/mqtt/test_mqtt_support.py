"""Helpers shared by the test_mqtt_* files (no tests here).

``Probe`` is an independent MQTT client that records what a real mosquitto delivers, so the
tests observe the bridge exactly as a user's ``mosquitto_sub`` would.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt

from envoy2mqtt.mqtt.session import Backoff, MqttSession
from envoy2mqtt.settings import MqttSettings
from tests.plugins.mosquitto import Mosquitto

WAIT = 10.0  # generous upper bound for any single expected message


def mqtt_settings(broker: Mosquitto, **overrides: Any) -> MqttSettings:
    """Settings pointing at ``broker`` with a unique client id."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": broker.port,
        "client_id": f"e2m-{uuid.uuid4().hex[:8]}",
        "base_topic": "e2m",
    }
    values.update(overrides)
    return MqttSettings(**values)


def fast_session(settings: MqttSettings) -> MqttSession:
    """A session whose reconnect backoff is short enough for tests."""
    return MqttSession(settings, backoff=Backoff(initial=0.05, maximum=0.3), timeout=5.0)


@contextlib.asynccontextmanager
async def running(session: MqttSession) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``session`` until the block ends, then stop it cleanly."""
    task = asyncio.create_task(session.run())
    try:
        await asyncio.wait_for(_connected_or_failed(session, task), WAIT)
        yield task
    finally:
        await session.stop()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _connected_or_failed(session: MqttSession, task: asyncio.Task[None]) -> None:
    waiter = asyncio.ensure_future(session.wait_connected())
    done, _ = await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        task.result()  # re-raise the session's error
        msg = "session ended before connecting"
        raise AssertionError(msg)


class Probe:
    """A subscriber recording every message it receives."""

    def __init__(self, broker: Mosquitto, *, v5: bool = False) -> None:
        self.broker = broker
        self.v5 = v5
        self.received: list[aiomqtt.Message] = []
        self._claimed: set[int] = set()
        self._arrived = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def client(self) -> aiomqtt.Client:
        assert self._client is not None
        return self._client

    async def __aenter__(self) -> Probe:
        protocol = aiomqtt.ProtocolVersion.V5 if self.v5 else aiomqtt.ProtocolVersion.V311
        self._client = aiomqtt.Client(
            "127.0.0.1",
            self.broker.port,
            identifier=f"probe-{uuid.uuid4().hex[:8]}",
            protocol=protocol,
        )
        await self._client.__aenter__()
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await self._task
        with contextlib.suppress(aiomqtt.MqttError):
            await self.client.__aexit__(None, None, None)

    async def _collect(self) -> None:
        async for message in self.client.messages:
            self.received.append(message)
            self._arrived.set()

    async def subscribe(self, *topics: str) -> None:
        for topic in topics:
            await self.client.subscribe(topic, qos=1)

    async def publish(self, topic: str, payload: bytes | str, **kwargs: Any) -> None:
        await self.client.publish(topic, payload, qos=1, **kwargs)

    async def expect(
        self, topic: str, payload: bytes | None = None, wait_up_to: float = WAIT
    ) -> aiomqtt.Message:
        """Wait for the first not yet expected message on ``topic`` (with ``payload``)."""

        async def wait() -> aiomqtt.Message:
            while True:
                for index, message in enumerate(self.received):
                    if index in self._claimed or message.topic.value != topic:
                        continue
                    if payload in (None, message.payload):
                        self._claimed.add(index)
                        return message
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(wait(), wait_up_to)

    def payloads(self, topic: str) -> list[bytes]:
        """Everything received on ``topic`` so far, in order."""
        return [bytes(m.payload) for m in self.received if m.topic.value == topic]  # type: ignore[arg-type]
