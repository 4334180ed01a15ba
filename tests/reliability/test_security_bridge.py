"""Security of the running bridge: MQTT over TLS with CA and client certificates, topics
built from hostile device ids, and dangerous controls that stay off unless enabled."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

from envoy2mqtt.catalog.naming import sanitize_topic_level
from tests.bridge_helpers import FIXTURES, Watcher, bridge_settings, running_bridge
from tests.mqtt.test_mqtt_session import tls_broker  # noqa: F401 - the fixture
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import command_writes

FIXTURE = "7.3.517"  # inverters, batteries, Enpower, dry contacts NC1 NC2 NO1 NO2
HOSTILE = {
    b'"202043003473"': b'"2020 43+00#3473/x"',  # an inverter serial
    b'"122035013273"': b'"1220 35+01#3273/y"',  # a battery serial
    b'"NC1"': b'"N C+1#/z"',  # a dry contact (relay) id
}


async def test_bridge_over_tls_with_ca_and_client_certificate(
    tls_broker: tuple[Mosquitto, int, Path],  # noqa: F811 - the imported fixture
    envoy_simulator: StartSimulator,
    tmp_path: Path,
) -> None:
    broker, tls_port, certs = tls_broker
    sim = await envoy_simulator("8.3.5169_with_generator")
    watcher = Watcher(broker.host, broker.port)  # the broker's plain listener
    await watcher.start()
    tls = {
        "enabled": True,
        "ca_file": str(certs / "ca.pem"),
        "cert_file": str(certs / "client.pem"),
        "key_file": str(certs / "client.key"),
    }
    settings = bridge_settings(tls_port, [sim], tmp_path, mqtt={"port": tls_port, "tls": tls})
    production = f"envoy2mqtt/{sim.serial}/production"
    try:
        async with running_bridge(settings) as bridge:
            await watcher.wait(
                lambda w: w.latest.get(f"envoy2mqtt/{sim.serial}/availability") == b"online"
            )
            await watcher.wait(lambda w: production in w.latest)
            assert watcher.latest["envoy2mqtt/bridge/state"] == b"online"
            assert bridge.session.connected
    finally:
        await watcher.stop()
    assert json.loads(watcher.latest[production])["watt_hours_lifetime"] > 0


def hostile_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "hostile"
    shutil.copytree(FIXTURES / FIXTURE, target)
    for file in target.iterdir():
        body = file.read_bytes()
        for old, new in HOSTILE.items():
            body = body.replace(old, new)
        file.write_bytes(body)
    return target


def _answered(w: Watcher, topic: str, since: int) -> bool:
    return any(t == topic for t, _, _ in w.since(since))


def _announces_a_control(w: Watcher) -> bool:
    return any(
        t.endswith("/set")
        for topic, payload in w.latest.items()
        if topic.startswith("homeassistant/") and payload
        for t in _topics_in(json.loads(payload))
    )


def _topics_in(config: Any) -> list[str]:
    """Every topic a discovery config points at (state, command, availability, ...)."""
    found: list[str] = []
    if isinstance(config, dict):
        for key, value in config.items():
            if isinstance(value, str) and key.endswith(("topic", "_t")):
                found.append(value)
            else:
                found += _topics_in(value)
    elif isinstance(config, list):
        for item in config:
            found += _topics_in(item)
    return found


async def test_topics_from_hostile_device_ids_are_sanitised(
    bridge_stack: BridgeStack, watcher: Watcher, tmp_path: Path
) -> None:
    sim = await bridge_stack.sim(str(hostile_fixture(tmp_path)))
    controls = {"grid_relay": True, "dry_contacts": True, "storage": True}
    base = f"envoy2mqtt/{sim.serial}"
    relay = sanitize_topic_level("N C+1#/z")
    inverter = sanitize_topic_level("2020 43+00#3473/x")
    async with running_bridge(bridge_stack.settings(sim, controls=controls)):
        await watcher.wait(lambda w: f"{base}/dry_contacts/{relay}" in w.latest)
        await watcher.wait(lambda w: f"{base}/inverters/{inverter}" in w.latest)
        # the hostile relay can still be addressed, by its sanitised topic
        index = len(watcher.log)
        await watcher.publish(f"{base}/dry_contacts/{relay}/set", "OFF")
        result = f"{base}/dry_contacts/{relay}/result"
        await watcher.wait(lambda w: any(t == result for t, _, _ in w.since(index)))
        answer = json.loads(watcher.latest[result])
    published = {t for t, _, _ in watcher.log if t.startswith((base, "homeassistant/"))}
    pointed = [
        t
        for topic, payload, _ in watcher.log
        if topic.startswith("homeassistant/") and payload
        for t in _topics_in(json.loads(payload))
    ]
    for topic in published | set(pointed):
        assert not set(topic) & {"+", "#", " ", "\x00"}, topic
        assert "" not in topic.split("/"), topic
    assert not [t for t in published if "3473/x" in t or "3273/y" in t]
    assert answer["status"] == "ok", answer
    assert [w.body for w in command_writes(sim)] == [
        {"dry_contacts": {"id": "N C+1#/z", "status": "open"}}
    ]


async def test_grid_relay_and_dry_contacts_are_off_unless_enabled(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    # Default configuration: storage controls on, grid relay and dry contacts off.
    sim = await bridge_stack.sim(FIXTURE)
    base = f"envoy2mqtt/{sim.serial}"
    commands = [
        ("grid_relay", "OFF"),
        ("dry_contacts/nc1", "OFF"),
        ("dry_contacts/nc1/settings", '{"soc_low": 20}'),
    ]
    results: dict[str, dict[str, Any]] = {}
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: f"{base}/storage" in w.latest)
        await watcher.wait(lambda w: f"{base}/dry_contacts/nc1" in w.latest)
        # The storage controls are announced once the Enpower they belong to has reported.
        await watcher.wait(_announces_a_control)
        for suffix, payload in commands:
            index = len(watcher.log)
            await watcher.publish(f"{base}/{suffix}/set", payload)
            result = f"{base}/{suffix}/result"
            await watcher.wait(functools.partial(_answered, topic=result, since=index))
            results[suffix] = json.loads(watcher.latest[result])
        configs = [
            json.loads(p) for t, p in watcher.latest.items() if t.startswith("homeassistant/")
        ]
    assert all(r["status"] == "error" and "disabled" in r["error"] for r in results.values()), (
        results
    )
    assert command_writes(sim) == []
    commandable = [t for c in configs for t in _topics_in(c) if t.endswith("/set")]
    assert commandable  # the storage controls are there ...
    assert not [t for t in commandable if "/grid_relay/" in t or "/dry_contacts/" in t]
