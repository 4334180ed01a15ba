"""Several Envoys in one bridge, firmware changes and lifetime counters across a reset."""

from __future__ import annotations

import json
from pathlib import Path

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher, bridge_settings, running_bridge
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.stack import BridgeStack

T = Topics("envoy2mqtt")


async def polled_again(sim: EnvoySimulator, path: str, times: int = 2) -> None:
    """Wait until the bridge has requested ``path`` ``times`` more times."""
    sim.requests.clear()
    await sim.requests.wait_for(lambda _e: len(sim.requests.entries(path=path)) >= times, 15)


async def test_one_bridge_serves_several_envoys(
    bridge_stack: BridgeStack, watcher: Watcher, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sims = [
        await bridge_stack.sim("8.3.5169_with_generator"),
        await bridge_stack.sim("7.3.466_with_cts_3phase"),
        await bridge_stack.sim("3.17.3", mode="golden"),
    ]
    wanted = {T.availability(s.serial) for s in sims}
    async with running_bridge(bridge_settings(mosquitto.port, sims, tmp_path)):
        await watcher.wait(lambda w: all(w.latest.get(t) == b"online" for t in wanted))
        await watcher.wait(lambda w: all(T.state(s.serial, "production") in w.latest for s in sims))
        await watcher.wait(lambda w: len(w.json(T.bridge_info).get("envoys", [])) == 3)
        info = watcher.json(T.bridge_info)
    assert sorted(e["serial"] for e in info["envoys"]) == sorted(s.serial for s in sims)
    assert all(e["online"] for e in info["envoys"])


async def test_firmware_change_reprobes_and_republishes(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim("8.3.5169_with_generator")
    gateway = T.state(sim.serial, "gateway")
    config = f"homeassistant/device/envoy2mqtt_{sim.serial}/config"
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: w.json(gateway).get("firmware") == "8.3.5169")
        await watcher.wait(lambda w: config in w.latest)
        sim.state.set_firmware("8.3.9999")
        await watcher.wait(lambda w: w.json(gateway).get("firmware") == "8.3.9999")
        await watcher.wait(lambda w: b"8.3.9999" in w.latest.get(config, b""))
        await watcher.wait(lambda w: w.json(T.bridge_info)["envoys"][0]["firmware"] == "8.3.9999")
        assert watcher.latest[T.availability(sim.serial)] == b"online"


async def test_lifetime_counters_hold_across_a_counter_reset(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim("8.3.5169_with_generator")
    production = T.state(sim.serial, "production")
    meter = T.state(sim.serial, "meters/production")
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: production in w.latest and meter in w.latest)
        lifetime = watcher.json(production)["watt_hours_lifetime"]
        today = watcher.json(production)["watt_hours_today"]
        delivered = watcher.json(meter)["energy_delivered"]
        assert lifetime > 0
        assert delivered > 0
        sim.state.reset_counters()  # what an Envoy reports right after a reboot
        await polled_again(sim, "/production.json", 2)
        await polled_again(sim, "/ivp/meters/readings", 2)
        retained = await watcher.retained_now(production, meter)
    assert json.loads(retained[production])["watt_hours_lifetime"] == lifetime
    assert json.loads(retained[meter])["energy_delivered"] == delivered
    # today's energy did drop to 0 on the device, within its day: held by the daily guard
    assert sim.document("/production.json?details=1")["production"][1]["whToday"] == 0
    assert json.loads(retained[production])["watt_hours_today"] == today > 0
