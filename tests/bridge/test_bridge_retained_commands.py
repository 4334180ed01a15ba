"""Retained commands end to end: bridge + real mosquitto + simulator, MQTT 5 and 3.1.1.

A command carrying the retain flag is never executed: it is answered with an error on its
``…/result`` topic, cleared from the broker, and the simulator's request log shows no write.
MQTT 5 sees the flag on live deliveries too (retain-as-published); MQTT 3.1.1 only on the
replay at subscribe time (the documented limit). Normal commands keep working.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from envoy2mqtt.bridge.app import Bridge
from envoy2mqtt.mqtt.router import RETAINED_ERROR
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import command_writes

FIXTURE = "7.3.517"  # IQ Batteries + tariff: storage commands exist
STORAGE = {"storage": True, "grid_relay": True}


class Env:
    """The simulated Envoy, the watcher and the bridge runner of one test."""

    def __init__(self, stack: BridgeStack, sim: EnvoySimulator, watcher: Watcher) -> None:
        self.stack, self.sim, self.watcher = stack, sim, watcher
        self.base = f"envoy2mqtt/{sim.serial}"

    def bridge(self, protocol: str) -> contextlib.AbstractAsyncContextManager[Bridge]:
        settings = self.stack.settings(self.sim, controls=STORAGE, mqtt={"protocol": protocol})
        return self.stack.bridge(settings)

    async def online(self) -> None:
        """Waits until the bridge has announced the Envoy available."""
        availability = f"{self.base}/availability"
        await self.watcher.wait(lambda w: w.latest.get(availability) == b"online")

    async def result_of(self, suffix: str, payload: str, *, retain: bool) -> dict[str, Any]:
        index = len(self.watcher.log)
        await self.watcher.publish(f"{self.base}/{suffix}/set", payload, retain=retain)
        return await self.next_result(suffix, index)

    async def next_result(self, suffix: str, index: int) -> dict[str, Any]:
        topic = f"{self.base}/{suffix}/result"
        await self.watcher.wait(lambda w: any(t == topic for t, _, _ in w.since(index)))
        return json.loads(next(p for t, p, _ in self.watcher.since(index) if t == topic))

    async def retained_commands(self) -> dict[str, bytes]:
        return await self.watcher.retained_now(f"{self.base}/#")


@pytest.fixture
async def env(bridge_stack: BridgeStack, watcher: Watcher) -> Env:
    return Env(bridge_stack, await bridge_stack.sim(FIXTURE), watcher)


def _set_topics(retained: dict[str, bytes]) -> list[str]:
    return [t for t in retained if t.endswith("/set")]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_retained_command_waiting_at_start_is_refused_cleared_and_sends_nothing(
    env: Env, watcher: Watcher, protocol: str
) -> None:
    index = len(watcher.log)
    await watcher.publish(
        f"{env.base}/reserve_soc/set", '{"value": 5, "transaction": "stale"}', retain=True
    )
    async with env.bridge(protocol):
        refused = await env.next_result("reserve_soc", index)
        assert refused == {"status": "error", "error": RETAINED_ERROR, "transaction": "stale"}
        assert _set_topics(await env.retained_commands()) == []
        await env.online()
        await watcher.wait(lambda w: f"{env.base}/storage" in w.latest)
        assert command_writes(env.sim) == []
        # a normal command still works: exactly one write reaches the Envoy
        ok = await env.result_of("reserve_soc", "20", retain=False)
        assert ok == {"status": "ok", "value": 20}
        writes = command_writes(env.sim)
        assert [(w.method, w.path) for w in writes] == [("PUT", "/admin/lib/tariff")]
        assert writes[0].body["tariff"]["storage_settings"]["reserved_soc"] == 20
    results = [t for t, _, _ in watcher.log[index:] if t == f"{env.base}/reserve_soc/result"]
    assert len(results) == 2  # the clearing (an empty retained publish) was not answered


async def test_mqtt5_retained_command_published_live_is_refused_cleared_and_sends_nothing(
    env: Env, watcher: Watcher
) -> None:
    async with env.bridge("5"):
        await env.online()
        await watcher.wait(lambda w: f"{env.base}/enpower" in w.latest)
        for suffix, payload in (("grid_relay", "OFF"), ("storage_mode", "backup")):
            refused = await env.result_of(suffix, payload, retain=True)
            assert refused == {"status": "error", "error": RETAINED_ERROR}
        assert _set_topics(await env.retained_commands()) == []
        assert command_writes(env.sim) == []
        ok = await env.result_of("grid_relay", "OFF", retain=False)
        assert ok == {"status": "ok", "value": "OFF"}
        assert [(w.method, w.path) for w in command_writes(env.sim)] == [
            ("POST", "/ivp/ensemble/relay")
        ]


async def test_mqtt311_retained_command_published_live_runs_once_then_is_refused_at_restart(
    env: Env, watcher: Watcher
) -> None:
    # The documented MQTT 3.1.1 limit: a live delivery carries retain=0 to existing
    # subscribers, so the bridge cannot tell; the copy left on the broker is refused and
    # cleared at the next subscribe instead of being executed a second time.
    async with env.bridge("3.1.1"):
        await env.online()
        ran = await env.result_of("reserve_soc", "30", retain=True)
        assert ran == {"status": "ok", "value": 30}
    assert len(command_writes(env.sim)) == 1
    index = len(watcher.log)
    async with env.bridge("3.1.1"):
        refused = await env.next_result("reserve_soc", index)
        assert refused == {"status": "error", "error": RETAINED_ERROR}
        assert _set_topics(await env.retained_commands()) == []
    assert len(command_writes(env.sim)) == 1


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_empty_payload_gets_no_answer_and_sends_nothing(
    env: Env, watcher: Watcher, protocol: str
) -> None:
    # How a user clears a retained command of their own: never a command, never answered.
    async with env.bridge(protocol):
        await env.online()
        index = len(watcher.log)
        await watcher.publish(f"{env.base}/grid_relay/set", "")
        await watcher.publish(f"{env.base}/grid_relay/set", "", retain=True)
        later = await env.result_of("storage_mode", "turbo", retain=False)  # a bad one
        assert later["status"] == "error"
        answered = [t for t, _, _ in watcher.since(index) if t.endswith("/result")]
        assert answered == [f"{env.base}/storage_mode/result"]
        assert command_writes(env.sim) == []
