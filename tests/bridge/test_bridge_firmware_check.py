"""Firmware re-checks: ``/info`` on its own interval, and at once after an outage.

A changed version re-authenticates and re-probes (the gateway payload and the discovery
``sw_version`` show the new firmware). The data tiers never read ``/info``: with a one-hour
firmware interval the only ``/info`` reads after start-up are the ones an outage triggers.
"""

from __future__ import annotations

from envoy2mqtt.bridge.schedule import TierName
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.plugins.stack import BridgeStack

FIXTURE = "8.3.5169_with_generator"
NEW_FIRMWARE = "8.3.9999"


def _info_reads(sim: EnvoySimulator) -> int:
    return len(sim.requests.entries(path="/info"))


async def _online_with_states(watcher: Watcher, sim: EnvoySimulator) -> None:
    base = f"envoy2mqtt/{sim.serial}"
    await watcher.wait(lambda w: w.latest.get(f"{base}/availability") == b"online")
    await watcher.wait(lambda w: w.json(f"{base}/gateway").get("firmware") == sim.firmware)


async def _shows_firmware(watcher: Watcher, sim: EnvoySimulator, firmware: str) -> None:
    gateway = f"envoy2mqtt/{sim.serial}/gateway"
    config = f"homeassistant/device/envoy2mqtt_{sim.serial}/config"
    await watcher.wait(lambda w: w.json(gateway).get("firmware") == firmware)
    await watcher.wait(lambda w: f'"sw_version":"{firmware}"'.encode() in w.latest.get(config, b""))


async def test_firmware_is_rechecked_on_its_interval_even_without_a_reboot(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    intervals = {"fast": 1, "normal": 1, "slow": 3600, "firmware": 1}
    async with bridge_stack.bridge(
        await bridge_stack.enlighten_settings(sim, FIXTURE, intervals)
    ) as bridge:
        await _online_with_states(watcher, sim)
        [worker] = bridge.workers
        assert {t.name: t.interval for t in worker.tiers}[TierName.FIRMWARE] == 1
        # The version changes while the gateway stays reachable and keeps its tokens.
        sim.state.set_firmware(NEW_FIRMWARE)
        await _shows_firmware(watcher, sim, NEW_FIRMWARE)
        assert watcher.latest[f"envoy2mqtt/{sim.serial}/availability"] == b"online"


async def test_envoy_back_after_an_outage_is_rechecked_at_once(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    availability = f"envoy2mqtt/{sim.serial}/availability"
    tariff = "/admin/lib/tariff"
    intervals = {"fast": 1, "normal": 1, "slow": 1, "firmware": 3600}
    async with bridge_stack.bridge(await bridge_stack.enlighten_settings(sim, FIXTURE, intervals)):
        await _online_with_states(watcher, sim)
        # Setup and the firmware tier's first tick read /info; the slow tier never does.
        await sim.requests.wait_for(lambda _e: _info_reads(sim) >= 2, 15)
        reads = _info_reads(sim)
        assert reads == 2
        polls = len(sim.requests.entries(path=tariff))
        await sim.requests.wait_for(
            lambda _e: len(sim.requests.entries(path=tariff)) >= polls + 3, 15
        )
        assert _info_reads(sim) == reads
        # Down long enough to be offline, back with new firmware: checked at once, not
        # an hour later.
        await sim.reboot(firmware=NEW_FIRMWARE, downtime=4.0)
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        await _shows_firmware(watcher, sim, NEW_FIRMWARE)
    assert _info_reads(sim) > reads
