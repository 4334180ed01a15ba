"""Helpers for the bridge tests: an MQTT watcher on the real broker and a bridge runner."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt

from envoy2mqtt.bridge.app import Bridge
from envoy2mqtt.mqtt.retained import scan_retained
from envoy2mqtt.settings import MqttSettings, Settings
from envoy2mqtt.simulator.server import EnvoySimulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Watcher:
    """Subscribes to ``#`` and keeps every message; waits on conditions, never sleeps."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.latest: dict[str, bytes] = {}
        self.log: list[tuple[str, bytes, bool]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.client: aiomqtt.Client | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(self.host, self.port) as client:
                    self.client = client
                    await client.subscribe("#", qos=1)
                    self._ready.set()
                    async for message in client.messages:
                        await self._add(message)
            except aiomqtt.MqttError:
                self.client = None
                await asyncio.sleep(0.05)  # reconnect pacing while the broker restarts

    async def _add(self, message: aiomqtt.Message) -> None:
        payload = message.payload if isinstance(message.payload, bytes) else b""
        topic = message.topic.value
        async with self._changed:
            self.log.append((topic, payload, message.retain))
            if payload:
                self.latest[topic] = payload
            else:
                self.latest.pop(topic, None)
            self._changed.notify_all()

    async def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        async with aiomqtt.Client(self.host, self.port) as client:
            await client.publish(topic, payload, qos=1, retain=retain)

    async def wait(self, predicate: Callable[[Watcher], bool], limit: float = 15) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), limit)

    def json(self, topic: str) -> Any:
        """The latest payload of ``topic`` decoded ({} while nothing arrived)."""
        return json.loads(self.latest[topic]) if topic in self.latest else {}

    async def retained_now(self, *filters: str) -> dict[str, bytes]:
        """What a fresh subscriber gets as retained messages right now."""
        scan = await scan_retained(MqttSettings(host=self.host, port=self.port), filters or ["#"])
        assert scan.complete
        return {t: p for t, p in scan.messages.items() if "/bridge/scan/" not in t}

    def since(self, index: int) -> list[tuple[str, bytes, bool]]:
        return self.log[index:]


def bridge_settings(
    mqtt_port: int,
    sims: list[EnvoySimulator],
    tmp_path: Path,
    **overrides: Any,
) -> Settings:
    envoys = [
        {
            "host": sim.url,
            "token": sim.issue_token() if sim.tls else None,
            "intervals": {"fast": 1, "normal": 1, "slow": 1, "firmware": 1},
        }
        for sim in sims
    ]
    data: dict[str, Any] = {
        "mqtt": {
            "host": "127.0.0.1",
            "port": mqtt_port,
            "client_id": "bridge-under-test",
            "reconnect_min_delay": 0.05,
            "reconnect_max_delay": 0.2,
        },
        "envoys": envoys,
        "token_cache_dir": str(tmp_path / "tokens"),
        "publish": {"health_interval": 1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Settings(**data)


@contextlib.asynccontextmanager
async def running_bridge(settings: Settings, **kw: Any) -> AsyncIterator[Bridge]:
    bridge = Bridge(settings, setup_delays=(0.05, 0.2), **kw)
    task = asyncio.create_task(bridge.run())
    try:
        yield bridge
    finally:
        bridge.stop()
        await asyncio.wait_for(task, 15)
