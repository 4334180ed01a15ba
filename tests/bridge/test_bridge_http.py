"""The optional health endpoints, served over a real socket on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from envoy2mqtt.bridge.health import BridgeStats, EnvoyStats, health_payload, rss_bytes
from envoy2mqtt.bridge.http import HealthView, metrics_text, start_health_server
from tests.bridge_helpers import Watcher, bridge_settings
from tests.plugins.mosquitto import Mosquitto, free_port
from tests.plugins.stack import BridgeStack


class State:
    def __init__(self) -> None:
        self.connected = True
        self.envoys = [EnvoyStats(host="envoy.local", serial="123", online=True, polls_ok=4)]


@pytest.fixture
async def served() -> AsyncIterator[tuple[State, str]]:
    state = State()
    view = HealthView(BridgeStats(), lambda: state.envoys, lambda: state.connected)
    port = free_port()
    runner = await start_health_server(view, "127.0.0.1", port)
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


async def test_healthz_follows_the_mqtt_connection(served: tuple[State, str]) -> None:
    state, base = served
    assert (await get(f"{base}/healthz"))[0] == 200
    state.connected = False
    assert (await get(f"{base}/healthz"))[0] == 503


async def test_readyz_needs_every_envoy_online(served: tuple[State, str]) -> None:
    state, base = served
    assert (await get(f"{base}/readyz"))[0] == 200
    state.envoys[0].online = False
    status, text = await get(f"{base}/readyz")
    assert status == 503
    assert "123" in text


async def test_metrics_are_prometheus_text(served: tuple[State, str]) -> None:
    _, base = served
    status, text = await get(f"{base}/metrics")
    assert status == 200
    assert 'envoy2mqtt_envoy_polls_ok_total{host="envoy.local",serial="123"} 4' in text
    assert "envoy2mqtt_mqtt_connected 1" in text


def test_metric_labels_are_escaped() -> None:
    envoy = EnvoyStats(host='a"b\\c', serial=None)
    text = metrics_text(HealthView(BridgeStats(), lambda: [envoy], lambda: False))
    assert 'host="a\\"b\\\\c",serial=""' in text


def test_health_payload_reports_the_newest_error() -> None:
    old, new = EnvoyStats(host="a"), EnvoyStats(host="b")
    old.poll_failed("old problem")
    new.poll_failed("new problem")
    new.last_error_at = (old.last_error_at or 0) + 10
    payload = health_payload(BridgeStats(messages_published=7), [old, new])
    assert payload["last_error"] == "new problem"
    assert payload["messages_published"] == 7
    assert [e["polls_failed"] for e in payload["envoys"]] == [1, 1]
    assert rss_bytes() > 0


async def test_bridge_serves_the_endpoints_when_configured(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim("8.3.5169_with_generator")
    port = free_port()
    settings = bridge_stack.settings(sim, health={"port": port, "bind": "127.0.0.1"})
    availability = f"envoy2mqtt/{sim.serial}/availability"
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        assert (await get(f"http://127.0.0.1:{port}/healthz"))[0] == 200
        assert (await get(f"http://127.0.0.1:{port}/readyz"))[0] == 200
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"http://127.0.0.1:{port}/healthz")


def _metric(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
    return float(line.split()[1])


async def test_metrics_are_current_at_scrape_time(
    bridge_stack: BridgeStack, watcher: Watcher, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sim = await bridge_stack.sim("8.3.5169_with_generator")
    port = free_port()
    settings = bridge_settings(
        mosquitto.port,
        [sim],
        tmp_path,
        health={"port": port, "bind": "127.0.0.1"},
        publish={"health_interval": 3600},  # bridge/health (and its copy) never in this test
    )
    production = f"envoy2mqtt/{sim.serial}/production"
    async with bridge_stack.bridge(settings) as bridge:
        await watcher.wait(lambda w: production in w.latest)
        # The session counts a publish once the broker acknowledged it, which may be after
        # the watcher saw it: so the scrape is bracketed by the session's own counter.
        before = bridge.session.stats.published
        status, text = await get(f"http://127.0.0.1:{port}/metrics")
        after = bridge.session.stats.published
        assert status == 200
        published = _metric(text, "envoy2mqtt_messages_published_total")
        assert 0 < before <= published <= after
        assert bridge.stats.messages_published == 0  # only the health loop copies it
