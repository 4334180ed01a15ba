"""The whole bridge against real mosquitto and the simulator, for several real systems.

The simulator serves each fixture in ``golden`` mode, so what the bridge publishes must be
exactly what the catalogue makes of the fixture's ``expected.json``: same state topics with
the same payloads, same discovery topics, nothing for features the system lacks.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from envoy2mqtt.catalog.controls import ControlFlags
from envoy2mqtt.catalog.discovery import DiscoveryOptions, discovery_payloads
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.state import state_payloads
from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.envoy.network import primary_interface
from tests.bridge_helpers import FIXTURES, Watcher
from tests.catalog_helpers import SYSTEM_FIXTURES
from tests.plugins.stack import BridgeStack

# Values that depend on the run, not on the fixture.
_VOLATILE_GATEWAY_KEYS = {
    "token_expires_at",
    "token_expires_at_iso",
    "last_poll",
    "last_poll_iso",
    "stale",
}


def expected_snapshot(fixture: str) -> Snapshot:
    snap = Snapshot.from_expected(json.loads((FIXTURES / fixture / "expected.json").read_text()))
    home = FIXTURES / fixture / "home"  # read once per probe, beside the data groups
    return (
        dataclasses.replace(snap, network=primary_interface(home.read_bytes()))
        if home.is_file()
        else snap
    )


def _gateway_stable(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in _VOLATILE_GATEWAY_KEYS}


@pytest.mark.parametrize("fixture", SYSTEM_FIXTURES)
async def test_states_and_discovery_match_the_catalogue(
    bridge_stack: BridgeStack, watcher: Watcher, fixture: str
) -> None:
    sim = await bridge_stack.sim(fixture, mode="golden")
    snapshot = expected_snapshot(fixture)
    topics = Topics("envoy2mqtt")
    expected_states = {
        topics.state(snapshot.serial, suffix): payload
        for suffix, payload in state_payloads(snapshot).items()
    }
    options = DiscoveryOptions(controls=ControlFlags())
    expected_discovery = discovery_payloads(snapshot, options)
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: set(expected_states) <= set(w.latest))
        await watcher.wait(lambda w: set(expected_discovery) <= set(w.latest))
        gateway = topics.state(snapshot.serial, "gateway")
        mac = expected_states[gateway].get("mac")
        await watcher.wait(lambda w: w.json(gateway).get("mac") == mac)
        availability = topics.availability(snapshot.serial)
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        retained = await watcher.retained_now("envoy2mqtt/#", "homeassistant/#")

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
    for topic in [t for t in expected_discovery if "_inverter_" in t][:3]:
        assert json.loads(retained[topic]) == expected_discovery[topic]
    assert retained["envoy2mqtt/bridge/state"] == b"online"
    info = json.loads(retained["envoy2mqtt/bridge/info"])
    assert info["envoys"][0]["serial"] == snapshot.serial
    assert info["envoys"][0]["firmware"] == snapshot.firmware
    assert sorted(info["envoys"][0]["features"]) == sorted(snapshot.features.names())
    assert "password" not in json.dumps(info).lower()


async def test_component_discovery_mode_and_disabled_discovery(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    fixture = "8.3.5169_with_generator"
    sim = await bridge_stack.sim(fixture, mode="golden")
    # a token-firmware Envoy has a token expiry, which the golden snapshot lacks
    snapshot = dataclasses.replace(expected_snapshot(fixture), token_expires_at=1)
    expected = discovery_payloads(snapshot, DiscoveryOptions(mode="component"))
    assert all(t.startswith("homeassistant/") and t.count("/") == 4 for t in expected)
    production = Topics("envoy2mqtt").state(snapshot.serial, "production")
    settings = bridge_stack.settings(sim, homeassistant={"discovery_mode": "component"})
    async with bridge_stack.bridge(settings):
        # equality, not inclusion: configs of a provisional storage owner must be gone
        await watcher.wait(
            lambda w: {t for t in w.latest if t.startswith("homeassistant/")} == set(expected)
        )
    retained = await watcher.retained_now("homeassistant/#")
    assert set(retained) == set(expected)

    # discovery off: nothing new under the prefix, the old configs are left alone
    # (they belong to whoever enabled them; a user can clear them deliberately)
    for topic in expected:
        await watcher.publish(topic, b"", retain=True)
    await watcher.wait(lambda w: not any(t.startswith("homeassistant/") for t in w.latest))
    watcher.latest.pop(production, None)
    settings = bridge_stack.settings(sim, homeassistant={"enabled": False})
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: production in w.latest)
    assert await watcher.retained_now("homeassistant/#") == {}
