"""Commands end to end: MQTT ``/set`` -> bridge -> simulator -> re-read -> state topic.

Valid commands must reach the simulator as exactly one expected request, answer ``ok`` and
show the re-read value on the state topic. Invalid and disabled commands must be answered
with an error and send nothing to the Envoy (retained ones: test_bridge_retained_commands).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher, bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator
from tests.reliability_helpers import command_writes

FIXTURE = "7.3.517"  # Enpower, IQ Batteries, dry contacts, tariff
ALL_CONTROLS = {"grid_relay": True, "dry_contacts": True, "storage": True}


@dataclass
class Env:
    sim: EnvoySimulator
    watcher: Watcher
    base: str

    async def command(self, suffix: str, payload: str, *, retain: bool = False) -> dict[str, Any]:
        """Send one command and return its result payload."""
        index = len(self.watcher.log)
        result = f"{self.base}/{suffix}/result"
        await self.watcher.publish(f"{self.base}/{suffix}/set", payload, retain=retain)
        await self.watcher.wait(lambda w: any(t == result for t, _, _ in w.since(index)))
        return json.loads(next(p for t, p, _ in self.watcher.since(index) if t == result))


async def _env(
    mosquitto: Mosquitto,
    envoy_simulator: StartSimulator,
    tmp_path: Path,
    controls: dict[str, bool],
    sim: EnvoySimulator | None = None,
) -> AsyncIterator[Env]:
    sim = sim or await envoy_simulator(FIXTURE)
    watcher = Watcher(mosquitto.host, mosquitto.port)
    await watcher.start()
    base = f"envoy2mqtt/{sim.serial}"
    settings = bridge_settings(mosquitto.port, [sim], tmp_path, controls=controls)
    try:
        async with running_bridge(settings):
            await watcher.wait(lambda w: w.latest.get(f"{base}/availability") == b"online")
            # every state the cases read back (tiers publish in any order)
            states = [f"{base}/{s}" for s in ("storage", "enpower", "dry_contacts/nc1")]
            await watcher.wait(lambda w: all(t in w.latest for t in states))
            yield Env(sim, watcher, base)
    finally:
        await watcher.stop()


@pytest.fixture
async def env(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, tmp_path: Path
) -> AsyncIterator[Env]:
    async for item in _env(mosquitto, envoy_simulator, tmp_path, ALL_CONTROLS):
        yield item


@pytest.fixture
async def env_default_controls(
    mosquitto: Mosquitto, envoy_simulator: StartSimulator, tmp_path: Path
) -> AsyncIterator[Env]:
    async for item in _env(mosquitto, envoy_simulator, tmp_path, {}):
        yield item


@dataclass
class Case:
    suffix: str
    payload: str
    value: Any
    method: str
    path: str
    body: Callable[[Any], bool]
    state: str
    shows: Callable[[dict[str, Any]], bool]


CASES = [
    Case("reserve_soc", "20", 20, "PUT", "/admin/lib/tariff",
         lambda b: b["tariff"]["storage_settings"]["reserved_soc"] == 20,
         "storage", lambda s: s["reserved_soc"] == 20),
    Case("storage_mode", "self_consumption", "self_consumption", "PUT", "/admin/lib/tariff",
         lambda b: b["tariff"]["storage_settings"]["mode"] == "self-consumption",
         "storage",
         lambda s: (s["mode"], s["envoy_mode"]) == ("self_consumption", "self-consumption")),
    # the Envoy's own word, in any case, as the state's envoy_mode shows it
    Case("storage_mode", "ECONOMY", "savings", "PUT", "/admin/lib/tariff",
         lambda b: b["tariff"]["storage_settings"]["mode"] == "economy",
         "storage", lambda s: (s["mode"], s["envoy_mode"]) == ("savings", "economy")),
    Case("charge_from_grid", "OFF", "OFF", "PUT", "/admin/lib/tariff",
         lambda b: b["tariff"]["storage_settings"]["charge_from_grid"] is False,
         "storage", lambda s: s["charge_from_grid"] is False),
    Case("grid_relay", "OFF", "OFF", "POST", "/ivp/ensemble/relay",
         lambda b: b == {"mains_admin_state": "open"},
         "enpower", lambda s: s["mains_admin_state"] == "open"),
    Case("dry_contacts/nc1", "OFF", "OFF", "POST", "/ivp/ensemble/dry_contacts",
         lambda b: b == {"dry_contacts": {"id": "NC1", "status": "open"}},
         "dry_contacts/nc1", lambda s: s["status"] == "open"),
    Case("dry_contacts/nc1/settings", '{"soc_low": 20, "transaction": "t-1"}', {"soc_low": 20},
         "POST", "/ivp/ss/dry_contact_settings",
         lambda b: b["dry_contacts"]["id"] == "NC1" and b["dry_contacts"]["soc_low"] == 20,
         "dry_contacts/nc1", lambda s: s["soc_low"] == 20),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.suffix for c in CASES])
async def test_command_sends_one_request_and_state_shows_the_reread_value(
    env: Env, case: Case
) -> None:
    before = len(command_writes(env.sim))
    state = f"{env.base}/{case.state}"
    assert not case.shows(env.watcher.json(state))  # the fixture starts elsewhere
    result = await env.command(case.suffix, case.payload)
    assert result["status"] == "ok", result
    assert result["value"] == case.value
    writes = command_writes(env.sim)[before:]
    assert [(w.method, w.path) for w in writes] == [(case.method, case.path)]
    assert case.body(writes[0].body), writes[0].body
    await env.watcher.wait(lambda w: case.shows(w.json(state)))
    if "transaction" in case.payload:
        assert result["transaction"] == "t-1"


BAD = [
    ("reserve_soc", "abc", "number"),
    ("reserve_soc", "150", "100"),
    ("storage_mode", "turbo", "one of"),
    ("charge_from_grid", "maybe", ""),
    ("dry_contacts/nc9", "ON", ""),
    ("dry_contacts/nc1/settings", "{not json", ""),
    ("dry_contacts/nc1/settings", '{"mode": "bogus"}', ""),
]


@pytest.mark.parametrize(("suffix", "payload", "hint"), BAD)
async def test_invalid_payload_is_an_error_and_sends_nothing(
    env: Env, suffix: str, payload: str, hint: str
) -> None:
    before = len(command_writes(env.sim))
    result = await env.command(suffix, payload)
    assert result["status"] == "error"
    assert hint in result["error"]
    assert command_writes(env.sim)[before:] == []


async def test_unknown_serial_is_an_error(env: Env) -> None:
    index = len(env.watcher.log)
    await env.watcher.publish("envoy2mqtt/999999999999/reserve_soc/set", "20")
    result = "envoy2mqtt/999999999999/reserve_soc/result"
    await env.watcher.wait(lambda w: any(t == result for t, _, _ in w.since(index)))
    payload = json.loads(env.watcher.latest[result])
    assert payload["status"] == "error"
    assert "unknown" in payload["error"]
    assert command_writes(env.sim) == []


@pytest.mark.parametrize("suffix", ["grid_relay", "dry_contacts/nc1"])
async def test_disabled_dangerous_controls_answer_error_and_send_nothing(
    env_default_controls: Env, suffix: str
) -> None:
    env = env_default_controls
    result = await env.command(suffix, "OFF")
    assert result["status"] == "error"
    assert command_writes(env.sim) == []
    command_topic = f"{env.base}/{suffix}/set"
    configs = [p for t, p in env.watcher.latest.items() if t.startswith("homeassistant/")]
    assert not [c for c in configs if command_topic.encode() in c]
