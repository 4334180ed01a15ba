"""Daily counters through the running bridge: simulator over HTTPS, real mosquitto."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.state import COUNTER_KEYS
from tests.bridge_helpers import Watcher
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import messages

T = Topics("envoy2mqtt")
FIXTURE = "8.3.5169_with_generator"  # serves /home with timezone US/Central
PRODUCTION_JSON = "/production.json?details=1"
DAILY = ("watt_hours_today", "watt_hours_last_7_days")
#: Midnight starting 2 August 2026 in the fixture's /home time zone.
MIDNIGHT = int(dt.datetime(2026, 8, 2, tzinfo=ZoneInfo("US/Central")).timestamp())


async def polled(sim: EnvoySimulator, path: str, times: int) -> None:
    """Wait until ``path`` has been answered 200 ``times`` more (request log, no sleeping)."""
    sim.requests.clear()
    await sim.requests.wait_for(
        lambda _e: len([e for e in sim.requests.entries(path=path) if e.status == 200]) >= times,
        15,
    )


def _bumped(doc: Any, by: float) -> Any:
    """``doc`` with every energy counter ``by`` higher (the Envoy back after its reboot)."""
    doc = copy.deepcopy(doc)
    stack = [doc]
    while stack:
        item = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict):
            for key, value in item.items():
                if key in COUNTER_KEYS and isinstance(value, int | float):
                    item[key] = value + by
        stack.extend(c for c in children if isinstance(c, dict | list))
    return doc


async def test_reboot_zeros_of_daily_counters_are_held_and_the_recovery_published(
    bridge_stack: BridgeStack,
    watcher: Watcher,
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    topics = {name: T.state(sim.serial, name) for name in ("production", "consumption")}
    slug = sim.state.store.resolve(PRODUCTION_JSON)
    settings = await bridge_stack.enlighten_settings(sim, FIXTURE)
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: all(t in w.latest for t in topics.values()))
        before = {name: watcher.json(t) for name, t in topics.items()}
        assert before["production"]["watt_hours_today"] > 0
        captured = copy.deepcopy(sim.document(PRODUCTION_JSON))
        start = len(watcher.log)
        await sim.reboot()  # every counter reads 0 from now on, tokens revoked
        served = sim.document(PRODUCTION_JSON)
        assert served["production"][1]["whToday"] == served["consumption"][0]["whToday"] == 0
        for entry in served["production"] + served["consumption"]:
            entry["wNow"] = 0  # as a booting Envoy reports
        # the zeros went through the bridge: power is published as read, 0 W ...
        await watcher.wait(lambda w: w.json(topics["production"])["watts_now"] == 0, 30)
        sim.requests.clear()
        await sim.requests.wait_for(
            lambda _e: len([e for e in sim.requests.entries(path="/production.json")
                            if e.status == 200]) >= 2,
            15,
        )  # fmt: skip
        held = {name: watcher.json(t) for name, t in topics.items()}
        # ... and the Envoy comes back with its counters a little higher: at once
        sim.state.set_doc(slug, _bumped(captured, 500))
        for name, topic in topics.items():
            want = before[name]["watt_hours_today"] + 500
            await watcher.wait(lambda w, t=topic, v=want: w.json(t)["watt_hours_today"] == v)
    for name, topic in topics.items():
        for key in DAILY:
            assert held[name][key] == before[name][key], (name, key)
            published = [json.loads(p)[key] for p in messages(watcher, topic, start)]
            assert published, (name, key)
            assert min(published) >= before[name][key], (name, key, published)


async def test_the_day_reset_passes_at_the_envoys_midnight_and_not_before(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE, live_seed=5)  # counters grow on every read
    sim.set_clock(MIDNIGHT - 120)  # 23:58 on the gateway's clock, in its zone (Chicago)
    production = T.state(sim.serial, "production")

    def todays(since: int = 0) -> list[Any]:
        return [json.loads(p)["watt_hours_today"] for p in messages(watcher, production, since)]

    async with bridge_stack.bridge(sim):
        # a rise: the counter is known to count 1 August
        await watcher.wait(lambda _w: len(set(todays())) >= 2)
        before, start = todays()[-1], len(watcher.log)
        sim.document(PRODUCTION_JSON)["production"][1]["whToday"] = 10  # drop, same day
        await polled(sim, "/production.json", 3)
        held = todays(start)
        sim.set_clock(MIDNIGHT + 60)  # 00:01: the gateway's day rolled over
        await polled(sim, "/info", 1)
        await watcher.wait(lambda w: w.json(production)["watt_hours_today"] < 100)
    assert all(value >= before for value in held), (before, held)
