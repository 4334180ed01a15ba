"""Bridge behaviour over real sockets: availability, broker restart, HA birth, stale groups,
orphan clean-up, unreachable Envoys and graceful shutdown."""

from __future__ import annotations

import asyncio
import json

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.simulator.faults import Fault, FaultKind
from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.stack import BridgeStack

T = Topics("envoy2mqtt")
FIXTURE = "8.3.5169_with_generator"


async def test_envoy_stopped_goes_offline_and_comes_back_without_its_error(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(sim) as bridge:
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        await sim.stop_listening()
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        assert (await watcher.retained_now(availability))[availability] == b"offline"
        info = json.loads((await watcher.retained_now(T.bridge_info))[T.bridge_info])
        assert info["envoys"][0]["online"] is False
        error = info["envoys"][0]["last_error"]
        assert error
        await sim.resume_listening()
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        # bridge/info tells the Envoy's error only while it lasts; bridge/health keeps it.
        await watcher.wait(lambda w: w.json(T.bridge_info)["envoys"][0]["online"] is True)
        envoy = watcher.json(T.bridge_info)["envoys"][0]
        assert "last_error" not in envoy
        assert bridge.workers[0].stats.last_error == error


async def test_broker_restart_reconnects_and_restores_retained_state(
    bridge_stack: BridgeStack, watcher: Watcher, mosquitto: Mosquitto
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    production = T.state(sim.serial, "production")
    async with bridge_stack.bridge(sim) as bridge:
        await watcher.wait(lambda w: production in w.latest)
        index = len(watcher.log)
        await asyncio.to_thread(mosquitto.stop)
        await asyncio.to_thread(mosquitto.start)  # no persistence: retained state is gone
        # the watcher reconnects on its own; the state comes back live or retained
        wanted = {production, T.availability(sim.serial), T.bridge_info}
        await watcher.wait(lambda w: wanted <= {t for t, _, _ in w.since(index)})
        retained = await watcher.retained_now("envoy2mqtt/#", "homeassistant/#")
        assert production in retained
        assert T.availability(sim.serial) in retained
        assert retained[T.bridge_state] == b"online"
        assert any(t.startswith("homeassistant/device/") for t in retained)
        assert bridge.session.stats.connects >= 2
        # commands are subscribed again after the reconnect
        index = len(watcher.log)
        await watcher.publish(f"envoy2mqtt/{sim.serial}/reserve_soc/set", "abc")
        result = f"envoy2mqtt/{sim.serial}/reserve_soc/result"
        await watcher.wait(lambda w: any(t == result for t, _, _ in w.since(index)))


async def test_home_assistant_birth_resends_discovery_and_states(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    gateway_config = f"homeassistant/device/envoy2mqtt_{sim.serial}/config"
    production = T.state(sim.serial, "production")
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: gateway_config in w.latest and production in w.latest)
        index = len(watcher.log)
        await watcher.publish("homeassistant/status", "online")

        def resent(w: Watcher) -> bool:
            seen = {t for t, _, _ in w.since(index)}
            return gateway_config in seen and production in seen

        await watcher.wait(resent)


async def test_failing_group_is_stale_and_envoy_stays_online(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    gateway = T.state(sim.serial, "gateway")
    storage = T.state(sim.serial, "storage")
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: storage in w.latest)
        before = watcher.latest[storage]
        await sim.inject(Fault(FaultKind.ERROR, path="/admin/lib/tariff", status=500))
        await watcher.wait(lambda w: "tariff" in w.json(gateway).get("stale", []))
        assert watcher.latest[availability] == b"online"
        assert (await watcher.retained_now(storage))[storage] == before  # last good kept
        sim.clear_faults()
        await watcher.wait(lambda w: "stale" not in w.json(gateway))


async def test_orphans_of_a_previous_run_are_cleared_and_others_kept(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    gone_state = T.state(sim.serial, "inverters/999999")
    gone_config = f"homeassistant/device/envoy2mqtt_{sim.serial}_inverter_999999/config"
    foreign = "homeassistant/sensor/someone_else/config"
    await watcher.publish(gone_state, b'{"serial_number":"999999"}', retain=True)
    await watcher.publish(gone_config, json.dumps({"stat_t": gone_state}), retain=True)
    await watcher.publish(foreign, b'{"state_topic":"other/x"}', retain=True)
    production = T.state(sim.serial, "production")
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: production in w.latest)
        await watcher.wait(lambda w: gone_state not in w.latest and gone_config not in w.latest)
        retained = await watcher.retained_now("#")
    assert gone_state not in retained
    assert gone_config not in retained
    assert foreign in retained
    assert production in retained


async def test_unreachable_at_start_with_configured_serial(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    await sim.stop_listening()
    settings = bridge_stack.settings(sim)
    envoy = settings.envoys[0].model_copy(update={"serial": sim.serial})
    settings = settings.model_copy(update={"envoys": [envoy]})
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        assert watcher.latest[T.bridge_state] == b"online"
        await watcher.wait(lambda w: "last_error" in w.json(T.bridge_info).get("envoys", [{}])[0])
        await sim.resume_listening()
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")


async def test_unreachable_without_any_serial_publishes_no_availability(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    await sim.stop_listening()
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: "last_error" in w.json(T.bridge_info).get("envoys", [{}])[0])
        envoy = watcher.json(T.bridge_info)["envoys"][0]
        assert envoy["serial"] is None
        assert envoy["host"] == sim.url
        assert not [t for t in watcher.latest if t.endswith("/availability")]


async def test_graceful_stop_publishes_offline(bridge_stack: BridgeStack, watcher: Watcher) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
    retained = await watcher.retained_now("envoy2mqtt/#")
    assert retained[availability] == b"offline"
    assert retained[T.bridge_state] == b"offline"


async def test_health_is_published_periodically_without_retain(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    async with bridge_stack.bridge(sim):
        await watcher.wait(
            lambda w: (
                T.bridge_health in w.latest and w.json(T.bridge_health)["envoys"][0]["polls_ok"] > 0
            )
        )
        health = watcher.json(T.bridge_health)
        retained = await watcher.retained_now("envoy2mqtt/bridge/#")
    assert T.bridge_health not in retained
    assert health["messages_published"] > 0
    assert health["rss_bytes"] > 0
    assert health["open_fds"] > 0
    assert health["tasks"] > 0
    assert health["envoys"][0]["serial"] == sim.serial


async def test_impossible_auth_is_offline_with_a_clear_error(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    settings = bridge_stack.settings(sim)
    envoy = settings.envoys[0].model_copy(update={"serial": sim.serial, "token": None})
    settings = settings.model_copy(update={"envoys": [envoy]})
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        await watcher.wait(lambda w: "last_error" in w.json(T.bridge_info).get("envoys", [{}])[0])
        error = watcher.json(T.bridge_info)["envoys"][0]["last_error"]
        assert watcher.latest[T.bridge_state] == b"online"
    assert "Authentication" in error or "token" in error.lower()
