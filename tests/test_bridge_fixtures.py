"""The whole bridge against real mosquitto and the simulator, for several real systems.

The simulator serves each fixture in ``golden`` mode, so what the bridge publishes must be
exactly what the catalogue makes of the fixture's ``expected.json``: same state topics with
the same payloads, same discovery topics, nothing for features the system lacks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.discovery import DiscoveryOptions, discovery_payloads
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.mqtt.topics import Topics
from tests.bridge_helpers import FIXTURES, Watcher, bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator

FIXTURE_NAMES = [
    "3.17.3",
    "7.3.466_with_cts_3phase",
    "7.3.517",
    "8.2.4382_ACB",
    "8.3.1598_collar",
    "8.3.5169_with_generator",
]
# Values that depend on the run, not on the fixture.
_VOLATILE_GATEWAY_KEYS = {"token_expires_at", "last_poll", "stale"}


def expected_snapshot(fixture: str) -> Snapshot:
    return Snapshot.from_expected(json.loads((FIXTURES / fixture / "expected.json").read_text()))


def _gateway_stable(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in _VOLATILE_GATEWAY_KEYS}


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
async def test_states_and_discovery_match_the_catalogue(
    fixture: str, mosquitto: Mosquitto, envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sim = await envoy_simulator(fixture, mode="golden")
    snapshot = expected_snapshot(fixture)
    topics = Topics("envoy2mqtt")
    expected_states = {
        topics.state(snapshot.serial, suffix): payload
        for suffix, payload in state_payloads(snapshot).items()
    }
    options = DiscoveryOptions(controls=ControlFlags())
    expected_discovery = discovery_payloads(snapshot, options)
    watcher = Watcher(mosquitto.host, mosquitto.port)
    await watcher.start()
    try:
        async with running_bridge(bridge_settings(mosquitto.port, [sim], tmp_path)):
            await watcher.wait(lambda w: set(expected_states) <= set(w.latest))
            await watcher.wait(lambda w: set(expected_discovery) <= set(w.latest))
            availability = topics.availability(snapshot.serial)
            await watcher.wait(lambda w: w.latest.get(availability) == b"online")
            retained = await watcher.retained_now("envoy2mqtt/#", "homeassistant/#")
    finally:
        await watcher.stop()

    root = topics.device_prefix(snapshot.serial) + "/"
    published_states = {t for t in retained if t.startswith(root)} - {availability}
    assert published_states == set(expected_states)
    for topic, payload in expected_states.items():
        got = json.loads(retained[topic])
        if topic.endswith("/gateway"):
            assert _gateway_stable(got) == _gateway_stable(payload)
            assert got["last_poll"] > 0
        else:
            assert got == payload, topic
    published_discovery = {t for t in retained if t.startswith("homeassistant/")}
    assert published_discovery == set(expected_discovery)
    assert retained["envoy2mqtt/bridge/state"] == b"online"
    info = json.loads(retained["envoy2mqtt/bridge/info"])
    assert info["envoys"][0]["serial"] == snapshot.serial
    assert info["envoys"][0]["firmware"] == snapshot.firmware
    assert sorted(info["envoys"][0]["features"]) == sorted(snapshot.features.names())
    assert "password" not in json.dumps(info).lower()
