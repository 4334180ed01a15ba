"""Message volume and resource fixes from docs/performance.md, against the running bridge."""

from __future__ import annotations

from envoy2mqtt.bridge.app import Bridge
from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.settings import Settings
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.performance.test_perf_http import established_to, until
from tests.plugins.stack import BridgeStack

T = Topics("envoy2mqtt")
FIXTURE = "7.6.185_with_cts_and_battery_3t"
HOUR = {"fast": 3600, "normal": 3600, "slow": 3600}


def hourly(settings: Settings) -> Settings:
    """The same settings with 1 h poll tiers: only the first round polls."""
    envoys = [
        e.model_copy(update={"intervals": e.intervals.model_copy(update=HOUR)})
        for e in settings.envoys
    ]
    return settings.model_copy(update={"envoys": envoys})


def fast_only(settings: Settings) -> Settings:
    """The same settings with a 1 s fast tier and 1 h other tiers."""
    settings = hourly(settings)
    envoys = [
        e.model_copy(update={"intervals": e.intervals.model_copy(update={"fast": 1})})
        for e in settings.envoys
    ]
    return settings.model_copy(update={"envoys": envoys})


def _first_round_published(bridge: Bridge) -> bool:
    # Every tier has polled once (callers add their own margin for the last tier's pass).
    return bool(bridge.workers) and bridge.workers[0].first_round_done


def _nth_reading(sim: EnvoySimulator) -> int:
    return len(sim.requests.entries(path="/ivp/meters/readings"))


async def _first_round(sim: EnvoySimulator, bridge: Bridge) -> None:
    """Wait for every tier's first poll; the fast tier keeps polling, so the request log
    moves even when nothing is published (static values)."""
    await sim.requests.wait_for(lambda _e: _first_round_published(bridge), within=15)


def _count(watcher: Watcher, topic: str) -> int:
    return sum(1 for t, _, _ in watcher.log if t == topic)


async def test_periodic_republish_refreshes_states_but_not_discovery(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    settings = bridge_stack.settings(sim, publish={"republish_interval": 1, "health_interval": 0})
    settings = hourly(settings)
    production = T.state(sim.serial, "production")
    async with bridge_stack.bridge(settings) as bridge:
        # Tiers of 1 h: after the first round nothing is polled, so every further
        # message comes from the re-publish timer. The first production message after
        # the round may still be the long tier's own; the second is the timer's (1 s
        # later), when every tier's first pass has long been published.
        await watcher.wait(lambda w: _first_round_published(bridge))
        first = _count(watcher, production)
        await watcher.wait(lambda w: _count(w, production) >= first + 2)
        index = len(watcher.log)
        await watcher.wait(lambda w: _count(w, production) >= first + 4)
    assert any(t.startswith("homeassistant/") for t, _, _ in watcher.log[:index])
    resent = {t for t, _, _ in watcher.since(index) if t.startswith("homeassistant/")}
    assert not resent, f"discovery re-sent by the timer: {sorted(resent)}"


async def test_a_poll_changing_only_the_poll_time_publishes_nothing(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    # Static values and no live-data stream: every reading repeats exactly.
    sim = await bridge_stack.sim(FIXTURE, livedata=False)
    settings = bridge_stack.settings(
        sim, publish={"republish_interval": 3600, "health_interval": 0}
    )
    settings = fast_only(settings)

    async with bridge_stack.bridge(settings) as bridge:
        await _first_round(sim, bridge)
        # Two more fast polls let the other tiers' first passes finish publishing.
        start = await _after_polls(sim, bridge, watcher, 2)
        # A fast poll's publishing ends before the next poll starts: 4 requests later,
        # 3 polls (each with a new last_poll second) have been published.
        end = await _after_polls(sim, bridge, watcher, 4)
    assert T.state(sim.serial, "gateway") in {t for t, _, _ in watcher.log[:start]}
    resent = sorted({t for t, _, _ in watcher.log[start + 1 : end]})
    assert resent == [], f"unchanged states re-sent: {resent}"


async def _after_polls(sim: EnvoySimulator, bridge: Bridge, watcher: Watcher, polls: int) -> int:
    """Wait for ``polls`` more meter readings, then return the log index of a sentinel."""
    wanted = _nth_reading(sim) + polls
    await sim.requests.wait_for(lambda e: _nth_reading(sim) >= wanted, within=15)
    sentinel = f"test/sentinel/{wanted}"
    await bridge.session.publish(sentinel, b"done", qos=1)
    # Messages of one client arrive in order: everything published before is in the log.
    await watcher.wait(lambda w: any(t == sentinel for t, _, _ in w.log))
    return next(i for i, (t, _, _) in enumerate(watcher.log) if t == sentinel)


async def test_discovery_is_rebuilt_not_stored_and_still_resent_on_ha_birth(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE, livedata=False)
    settings = fast_only(bridge_stack.settings(sim))
    gateway_config = f"homeassistant/device/envoy2mqtt_{sim.serial}/config"
    async with bridge_stack.bridge(settings) as bridge:
        await _first_round(sim, bridge)
        await _after_polls(sim, bridge, watcher, 2)  # the other tiers' passes are done
        view = bridge.view(bridge.workers[0])
        announced = set(view.discovery)
        assert gateway_config in announced
        # Per Envoy only component platforms (for removals) and a digest remain.
        platforms = view.discovery[gateway_config]
        assert "sensor" in platforms.values()
        assert all(bridge.publisher.payload(t) is None for t in announced)
        before = watcher.latest[gateway_config]
        index = len(watcher.log)
        await watcher.publish("homeassistant/status", "online")
        await watcher.wait(lambda w: announced <= {t for t, _, _ in w.since(index)})
    resent = {t: p for t, p, _ in watcher.since(index) if t in announced}
    assert resent[gateway_config] == before  # the full config, rebuilt identically


async def test_after_the_first_round_one_connection_per_envoy_stays_open(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    settings = fast_only(bridge_stack.settings(sim))
    async with bridge_stack.bridge(settings) as bridge:
        # The first round runs all four tiers at once (several connections); then
        # only the fast tier polls, every second, through one kept connection.
        await _first_round(sim, bridge)
        await until(lambda: established_to(sim.port) == 1, within=10)
        await _after_polls(sim, bridge, watcher, 3)
        assert established_to(sim.port) == 1
