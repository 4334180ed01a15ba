"""MQTT latency and start-up fixes from docs/performance.md (TCP_NODELAY, pending publishes)."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from envoy2mqtt.bridge.app import Bridge, max_pending_publishes
from envoy2mqtt.mqtt.session import Backoff, MqttSession
from envoy2mqtt.settings import Settings
from tests.mqtt.test_mqtt_support import mqtt_settings, running
from tests.plugins.mosquitto import Mosquitto

WARNING = "pending publish calls"


def session_for(mosquitto: Mosquitto, **kw: int) -> MqttSession:
    backoff = Backoff(initial=0.05, maximum=0.3)
    return MqttSession(mqtt_settings(mosquitto), backoff=backoff, timeout=5.0, **kw)


async def test_bridge_socket_has_tcp_nodelay(mosquitto: Mosquitto) -> None:
    session = session_for(mosquitto)
    async with running(session):
        client = session._client
        assert client is not None
        sock = client._client.socket()  # paho's socket under aiomqtt
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def _burst(session: MqttSession, count: int) -> list[bool]:
    return list(
        await asyncio.gather(
            *(session.publish(f"e2m/test/burst/{i}", b"x", qos=1) for i in range(count))
        )
    )


async def test_a_fleet_sized_burst_of_publishes_does_not_warn(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mqtt")
    roomy = session_for(mosquitto, max_pending=max_pending_publishes(20))
    async with running(roomy):
        assert all(await _burst(roomy, 60))  # 20 Envoys: 60 in flight at most
    assert not [r for r in caplog.records if WARNING in r.getMessage()]
    # The same burst with aiomqtt's default bound is what flooded the log.
    tight = session_for(mosquitto)
    async with running(tight):
        assert all(await _burst(tight, 60))
    assert [r for r in caplog.records if WARNING in r.getMessage()]


def test_bridge_sizes_the_pending_bound_to_its_fleet(tmp_path: Path) -> None:
    assert max_pending_publishes(200) >= 3 * 200
    assert max_pending_publishes(1) > 10  # never below aiomqtt's default
    data: dict[str, Any] = {
        "mqtt": {"host": "127.0.0.1"},
        "envoys": [{"host": f"127.0.0.1:{port}", "token": "x"} for port in (1, 2, 3)],
        "token_cache_dir": str(tmp_path),
    }
    settings = Settings(**data)  # nothing connects before run()
    assert Bridge(settings).session._max_pending == max_pending_publishes(3)
