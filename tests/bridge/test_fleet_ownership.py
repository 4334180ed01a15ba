"""Ownership of an Envoy between named instances, on a real mosquitto with the simulator.

A fake instance (its own process, with a real Last Will) or retained messages published by
the test stand in for the other instance, so that every request the simulator logs is
known to come from the bridge under test.
"""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Any

import aiohttp

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.settings import Settings
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.fleet_helpers import LogWaiter, fake_owner, log_waiter
from tests.plugins.mosquitto import Mosquitto, free_port
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import command_writes

FIXTURE = "7.3.517"  # tariff: reserve_soc commands
DELAY = 0.5  # takeover delay of the bridges under test
T = Topics("envoy2mqtt")


def named(stack: BridgeStack, sim: EnvoySimulator, instance: str, **overrides: Any) -> Settings:
    settings = stack.settings(sim, instance=instance, **overrides)
    envoys = [e.model_copy(update={"serial": sim.serial}) for e in settings.envoys]
    mqtt = settings.mqtt.model_copy(update={"client_id": f"envoy2mqtt-{instance}"})
    return settings.model_copy(update={"envoys": envoys, "mqtt": mqtt})


def discovery_availability(watcher: Watcher, serial: str) -> list[str]:
    config = watcher.json(f"homeassistant/device/envoy2mqtt_{serial}/config")
    first = next(iter(config.get("cmps", {}).values()), {})
    return [a["topic"] for a in first.get("availability", [])]


def record(logs: LogWaiter, *needles: str) -> logging.LogRecord:
    return next(r for r in logs.records if all(n in r.getMessage() for n in needles))


async def probe(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


def requests_when(logs: LogWaiter, sim: EnvoySimulator, needle: str) -> list[int]:
    """Record ``len(sim.requests)`` at the moment a log message containing ``needle`` is emitted."""
    seen: list[int] = []

    def hook(record: logging.LogRecord) -> None:
        if needle in record.getMessage():
            seen.append(len(sim.requests))

    logs.hooks.append(hook)
    return seen


async def test_live_owner_is_left_alone_and_taken_over_when_it_dies(
    bridge_stack: BridgeStack, watcher: Watcher, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    owner_topic = T.owner(sim.serial)
    async with (
        log_waiter() as logs,
        fake_owner(tmp_path, mosquitto.port, "x", [sim.serial]) as owner,
    ):
        taken = requests_when(logs, sim, "envoy ownership taken")
        health = free_port()
        settings = named(bridge_stack, sim, "b", health={"port": health})
        async with bridge_stack.bridge(settings, takeover_delay=DELAY) as bridge:
            error = await logs.wait(logging.ERROR, f"serial={sim.serial}", "owner=x")
            assert "instance=b" in error
            assert "envoy2mqtt/bridge/b/state" in watcher.latest
            assert watcher.latest["envoy2mqtt/bridge/b/state"] == b"online"
            # b never contacted the Envoy and published nothing for it
            assert len(sim.requests) == 0
            assert T.availability(sim.serial) not in watcher.latest
            assert watcher.latest[owner_topic] == b"x"
            info_topic = "envoy2mqtt/bridge/b/info"
            await watcher.wait(lambda w: w.json(info_topic)["envoys"][0]["owner"] == "x")
            info = watcher.json(info_topic)
            assert (info["instance"], info["envoys"][0]["online"]) == ("b", False)
            # a standby is ready: every Envoy it serves (none) is online
            readyz, metrics = await probe(health, "/readyz"), await probe(health, "/metrics")
            assert readyz == (200, "ready\n")
            assert sim.serial not in metrics[1]

            owner.send_signal(signal.SIGKILL)  # its Last Will: bridge/x/state offline
            await logs.wait(logging.INFO, "ownership taken", "previous=x")
            # x was seen going offline: it had DELAY seconds to come back first
            pause = record(logs, "owner went offline", "owner=x")
            took = record(logs, "ownership taken", "previous=x")
            assert took.created - pause.created >= DELAY * 0.8
            await watcher.wait(lambda w: w.latest.get(owner_topic) == b"b")
            await watcher.wait(lambda w: w.latest.get(T.availability(sim.serial)) == b"online")
            await watcher.wait(
                lambda w: (
                    discovery_availability(w, sim.serial)
                    == ["envoy2mqtt/bridge/b/state", T.availability(sim.serial)]
                )
            )
            assert taken == [0]  # not a single request before the takeover
            assert len(sim.requests) > 0
            assert bridge.serves(bridge.workers[0])
            assert sim.serial in (await probe(health, "/metrics"))[1]
        # clean exit: claim cleared, bridge and Envoy offline
        retained = await watcher.retained_now("envoy2mqtt/#")
    assert owner_topic not in retained
    assert retained["envoy2mqtt/bridge/b/state"] == b"offline"
    assert retained["envoy2mqtt/bridge/x/state"] == b"offline"
    assert retained[T.availability(sim.serial)] == b"offline"
    assert "envoy2mqtt/bridge/state" not in retained  # the instance-less topic is untouched


async def _command(watcher: Watcher, serial: str, value: int) -> None:
    await watcher.publish(T.command(serial, "reserve_soc"), str(value))


def results(watcher: Watcher, serial: str, since: int) -> list[dict[str, Any]]:
    topic = T.result(serial, "reserve_soc")
    return [json.loads(p) for t, p, _ in watcher.since(since) if t == topic]


async def test_a_tie_is_won_by_the_smaller_instance_name(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    owner_topic = T.owner(sim.serial)
    stale = T.owner("999999999999")  # an Envoy m served in an earlier configuration
    await watcher.publish(stale, "m", retain=True)
    async with (
        log_waiter() as logs,
        bridge_stack.bridge(named(bridge_stack, sim, "m"), takeover_delay=0) as bridge,
    ):
        await watcher.wait(lambda w: w.latest.get(T.availability(sim.serial)) == b"online")
        assert watcher.latest[owner_topic] == b"m"
        await watcher.wait(lambda w: stale not in w.latest)  # its own stale claim cleared
        worker = bridge.workers[0]

        # A larger live name claims the Envoy as well: m keeps it and says so again.
        await watcher.publish("envoy2mqtt/bridge/z/state", "online", retain=True)
        index = len(watcher.log)
        await watcher.publish(owner_topic, "z", retain=True)
        await watcher.wait(lambda w: (owner_topic, b"m", False) in w.since(index + 1))
        assert bridge.serves(worker)

        # A smaller live name claims it: m gives it up at once.
        await watcher.publish("envoy2mqtt/bridge/a/state", "online", retain=True)
        await watcher.publish(owner_topic, "a", retain=True)
        await logs.wait(logging.ERROR, "ownership conflict", "owner=a", "instance=m")
        assert not bridge.serves(worker)
        assert watcher.latest[owner_topic] == b"a"
        # A command now belongs to a: m neither executes nor answers it.
        index = len(watcher.log)
        await _command(watcher, sim.serial, 42)
        taken = requests_when(logs, sim, "envoy ownership taken")
        # a dies: m takes the Envoy back and serves commands again.
        await watcher.publish("envoy2mqtt/bridge/a/state", "offline", retain=True)
        await logs.wait(logging.INFO, "ownership taken", "previous=a")
        assert watcher.latest[owner_topic] == b"m"
        assert command_writes(sim) == []
        assert results(watcher, sim.serial, index) == []
        assert len(taken) == 1
        await watcher.wait(lambda w: bridge.serves(worker) and worker.availability.online)
        index = len(watcher.log)
        await _command(watcher, sim.serial, 37)
        await watcher.wait(lambda w: len(results(w, sim.serial, index)) >= 1)
    first = results(watcher, sim.serial, index)[0]
    assert (first["status"], first["value"]) == ("ok", 37)
    assert [w.path for w in command_writes(sim)] == ["/admin/lib/tariff"]
