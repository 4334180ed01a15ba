"""Envoy-side faults against the running bridge, seen by an MQTT consumer.

Simulator + real mosquitto on 127.0.0.1 + the real ``Bridge``; every assertion is about what
a subscriber to ``#`` receives (plus the simulator's request log and the bridge's log).
"""

from __future__ import annotations

import json
import logging

import pytest

from envoy2mqtt.catalog.topics import Topics
from envoy2mqtt.simulator.faults import Fault, FaultKind
from tests.bridge_helpers import Watcher
from tests.plugins.stack import BridgeStack
from tests.reliability_helpers import (
    lifetime_steps_down,
    messages,
)

T = Topics("envoy2mqtt")
FIXTURE = "8.3.5169_with_generator"


async def test_unreachable_at_start_retries_with_a_capped_backoff_and_recovers(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    await sim.inject(Fault(FaultKind.OUTAGE, seconds=120))  # every request dropped
    settings = bridge_stack.settings(sim)
    envoy = settings.envoys[0].model_copy(update={"serial": sim.serial})
    settings = settings.model_copy(update={"envoys": [envoy]})
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(settings):  # setup delays 0.05 s doubling, capped at 0.2 s
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        assert watcher.latest[T.bridge_state] == b"online"
        # Uncapped doubling from 0.05 s would need ~50 s for 10 attempts; capped at 0.2 s
        # they come well within the wait: retries continue, at a bounded pace.
        await sim.requests.wait_for(lambda _e: len(sim.requests.entries(path="/info")) >= 10, 15)
        sim.clear_faults()
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        await watcher.wait(lambda w: T.state(sim.serial, "production") in w.latest)
    # setup attempts are paced, not a busy loop: one /info per attempt and transport retry
    assert len(sim.requests.entries(path="/info")) < 400


async def test_slow_production_json_does_not_delay_the_fast_tier(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    sim.set_live(7)  # values move on every read, so every poll publishes
    # every interval 1 s: production.json answering in 5 s is 5 normal intervals late
    settings = bridge_stack.settings(sim)
    meters = T.state(sim.serial, "meters/production")
    production = T.state(sim.serial, "production")
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: production in w.latest and meters in w.latest)
        await sim.inject(Fault(FaultKind.LATENCY, path="/production.json*", seconds=5))
        sim.requests.clear()
        # the next production.json request hangs for 5 s ...
        await sim.requests.wait_for(
            lambda _e: bool(sim.requests.entries(path="/production.json")), 15
        )
        start = len(watcher.log)
        # ... while meters keep arriving every second
        await watcher.wait(lambda w: len(messages(w, meters, start)) >= 3, 4.5)
        assert not messages(watcher, production, start)
        # the rest of the normal tier is not held back either
        assert len(sim.requests.entries(path="/ivp/ensemble/inventory")) >= 2
        # and production publishes when its answer arrives
        await watcher.wait(lambda w: bool(messages(w, production, start)), 10)
        assert "production" not in watcher.json(T.state(sim.serial, "gateway")).get("stale", [])


@pytest.mark.parametrize(
    ("kind", "first_status"),
    [(FaultKind.ERROR, 503), (FaultKind.OUTAGE, 0)],  # 0: dropped without an answer
    ids=["5xx", "dropped_connection"],
)
async def test_one_failed_read_is_retried_within_the_poll_and_nothing_goes_stale(
    bridge_stack: BridgeStack, watcher: Watcher, kind: FaultKind, first_status: int
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    gateway = T.state(sim.serial, "gateway")
    async with bridge_stack.bridge(sim) as bridge:
        await watcher.wait(lambda w: T.state(sim.serial, "meters/production") in w.latest)
        start = len(watcher.log)
        sim.requests.clear()
        await sim.inject(Fault(kind, path="/ivp/meters/readings", count=1))
        await sim.requests.wait_for(
            lambda _e: len(sim.requests.entries(path="/ivp/meters/readings")) >= 3, 10
        )
        statuses = [e.status for e in sim.requests.entries(path="/ivp/meters/readings")]
        assert statuses[0] == first_status
        assert statuses[1] == 200  # the retry, in the same poll
        gateways = [json.loads(p) for p in messages(watcher, gateway, start)]
        assert all("meters" not in g.get("stale", []) for g in gateways)
        assert bridge.workers[0].stats.polls_failed == 0
        assert watcher.latest[T.availability(sim.serial)] == b"online"


@pytest.mark.parametrize("kind", [FaultKind.ERROR, FaultKind.TIMEOUT])
async def test_persistent_failure_is_stale_only_after_the_budget_and_recovers(
    bridge_stack: BridgeStack, watcher: Watcher, kind: FaultKind
) -> None:
    # ERROR: 5xx answers, re-read within the budget; TIMEOUT: the request hangs past it.
    sim = await bridge_stack.sim(FIXTURE)
    gateway = T.state(sim.serial, "gateway")
    storage = T.state(sim.serial, "storage")
    meters = T.state(sim.serial, "meters/production")
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: storage in w.latest)
        before, start = watcher.latest[storage], len(watcher.log)
        sim.requests.clear()
        await sim.inject(Fault(kind, path="/admin/lib/tariff", seconds=30))
        await watcher.wait(lambda w: "tariff" in w.json(gateway).get("stale", []))
        if kind is FaultKind.ERROR:  # stale only after more than one attempt
            assert len(sim.requests.entries(path="/admin/lib/tariff")) >= 2
        stale_at = len(watcher.log)
        sim.requests.clear()
        # the other tiers keep going and the Envoy stays online throughout
        await sim.requests.wait_for(
            lambda _e: len(sim.requests.entries(path="/ivp/meters/readings")) >= 3, 10
        )
        assert [p for t, p, _ in watcher.since(start) if t == availability] == []
        assert watcher.latest[availability] == b"online"
        assert watcher.latest[T.bridge_state] == b"online"
        assert (await watcher.retained_now(storage))[storage] == before
        assert messages(watcher, meters, 0)
        sim.clear_faults()
        await watcher.wait(lambda w: "stale" not in w.json(gateway))
        assert stale_at > start


@pytest.mark.parametrize("kind", [FaultKind.GARBAGE, FaultKind.TRUNCATED, FaultKind.WRONG_TYPE])
async def test_malformed_body_skips_the_group_with_one_log_line_and_keeps_the_last_value(
    bridge_stack: BridgeStack, watcher: Watcher, caplog: pytest.LogCaptureFixture, kind: FaultKind
) -> None:
    sim = await bridge_stack.sim(FIXTURE)  # static values: a good poll republishes nothing
    gateway = T.state(sim.serial, "gateway")
    storage = T.state(sim.serial, "storage")
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: storage in w.latest)
        before, start = watcher.latest[storage], len(watcher.log)
        caplog.clear()
        await sim.inject(Fault(kind, path="/admin/lib/tariff"))
        await watcher.wait(lambda w: "tariff" in w.json(gateway).get("stale", []))
        assert watcher.latest[T.availability(sim.serial)] == b"online"
        assert messages(watcher, storage, start) in ([], [before])
        assert (await watcher.retained_now(storage))[storage] == before
        sim.clear_faults()
        await watcher.wait(lambda w: "stale" not in w.json(gateway))
    lines = [r.getMessage() for r in caplog.records if "group=tariff" in r.getMessage()]
    assert lines, caplog.text
    assert all(len(line.splitlines()) == 1 for line in lines)  # one line per event
    assert "Traceback" not in caplog.text


async def test_invalid_info_xml_is_skipped_and_the_envoy_stays_online(
    bridge_stack: BridgeStack, watcher: Watcher, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    gateway = T.state(sim.serial, "gateway")
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: w.json(gateway).get("firmware") == "8.3.5169")
        before = watcher.latest[gateway]
        caplog.clear()
        sim.requests.clear()
        await sim.inject(Fault(FaultKind.GARBAGE, path="/info", count=4))
        await sim.requests.wait_for(
            lambda _e: sum(e.path == "/info" for e in sim.requests.entries()) >= 5, 15
        )
        await watcher.wait(lambda w: w.latest.get(T.availability(sim.serial)) == b"online")
        assert json.loads(watcher.latest[gateway])["firmware"] == "8.3.5169"
        assert json.loads(before)["serial"] == sim.serial
        retained = await watcher.retained_now(f"envoy2mqtt/{sim.serial}/#")
    assert retained[T.availability(sim.serial)] == b"online"
    assert "Traceback" not in caplog.text
    assert any("info" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


async def test_revoked_token_is_refetched_without_losing_more_than_one_poll(
    bridge_stack: BridgeStack,
    watcher: Watcher,
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    sim.set_live(3)
    meters = T.state(sim.serial, "meters/production")
    availability = T.availability(sim.serial)
    settings = await bridge_stack.enlighten_settings(sim, FIXTURE)
    async with bridge_stack.bridge(settings) as bridge:
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        tokens_before = sim.enlighten.token_calls
        start = len(watcher.log)
        failed_before = bridge.workers[0].stats.polls_failed
        sim.revoke_tokens()
        await watcher.wait(lambda w: len(messages(w, meters, start)) >= 3)
        assert sim.enlighten.token_calls == tokens_before + 1
        assert bridge.workers[0].stats.polls_failed - failed_before <= 1
        assert [p for t, p, _ in watcher.since(start) if t == availability] in ([], [b"online"])


async def test_revoked_token_without_credentials_is_offline_with_an_error_and_retried(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)  # config token only: nothing to re-fetch with
    availability = T.availability(sim.serial)
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        sim.revoke_tokens()
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        await watcher.wait(lambda w: "last_error" in w.json(T.bridge_info).get("envoys", [{}])[0])
        error = watcher.json(T.bridge_info)["envoys"][0]["last_error"]
        sim.requests.clear()
        await sim.requests.wait_for(lambda _e: len(sim.requests) >= 3, 10)  # retried
        assert watcher.latest[T.bridge_state] == b"online"
    assert "auth" in error.lower() or "token" in error.lower()


async def test_reboot_with_zeros_and_new_firmware_never_steps_lifetime_counters_down(
    bridge_stack: BridgeStack,
    watcher: Watcher,
) -> None:
    # Static values: after the reboot the counters stay at zero for as long as the test
    # runs (the worst case of "brief" zeros); zeros must never be published for them.
    sim = await bridge_stack.sim(FIXTURE)
    availability = T.availability(sim.serial)
    gateway = T.state(sim.serial, "gateway")
    config = f"homeassistant/device/envoy2mqtt_{sim.serial}/config"
    production = T.state(sim.serial, "production")
    prefix = f"envoy2mqtt/{sim.serial}/"
    settings = await bridge_stack.enlighten_settings(sim, FIXTURE)
    async with bridge_stack.bridge(settings):
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        await watcher.wait(lambda w: production in w.latest and config in w.latest)
        lifetime = watcher.json(production)["watt_hours_lifetime"]
        states_before = {t for t in watcher.latest if t.startswith(prefix)}
        start = len(watcher.log)
        # Zeros, tokens revoked, and down until the availability grace ran out (a fixed
        # downtime would race the grace under load): every request dropped meanwhile.
        await sim.inject(Fault(FaultKind.OUTAGE, seconds=600))
        await sim.reboot(firmware="8.3.9999")
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        sim.clear_faults()
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        await watcher.wait(lambda w: w.json(gateway).get("firmware") == "8.3.9999")
        await watcher.wait(lambda w: b"8.3.9999" in w.latest.get(config, b""))
        sim.requests.clear()
        await sim.requests.wait_for(
            lambda _e: len(sim.requests.entries(path="/production.json")) >= 3, 10
        )
        # zeros were read; the daily guard holds "today" like the lifetime guard
        assert sim.document("/production.json?details=1")["production"][1]["whToday"] == 0
        assert watcher.json(production)["watt_hours_today"] > 0
        retained = await watcher.retained_now(f"{prefix}#")
    assert lifetime_steps_down(watcher, prefix) == []
    assert json.loads(retained[production])["watt_hours_lifetime"] == lifetime
    # nothing vanished on the way: no retained state was cleared by the re-probe
    cleared = [t for t, p, _ in watcher.since(start) if t.startswith(prefix) and not p]
    assert cleared == []
    assert states_before <= set(retained)


async def test_nightly_outage_goes_offline_then_back_without_stale_values_as_live(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE)
    sim.set_live(11)
    availability = T.availability(sim.serial)
    prefix = f"envoy2mqtt/{sim.serial}/"
    async with bridge_stack.bridge(sim):
        await watcher.wait(lambda w: w.latest.get(availability) == b"online")
        await sim.inject(Fault(FaultKind.OUTAGE, seconds=600))  # cleared once offline
        await watcher.wait(lambda w: w.latest.get(availability) == b"offline")
        offline_at = len(watcher.log) - 1
        retained_then = {t: p for t, p in watcher.latest.items() if t.startswith(prefix)}
        sim.clear_faults()
        await watcher.wait(lambda w: w.latest.get(availability) == b"online", 20)
        online_at = max(i for i, (t, p, _) in enumerate(watcher.log) if t == availability)
        start = len(watcher.log)
        await watcher.wait(lambda w: len(messages(w, prefix + "meters/production", start)) >= 1)
    # while offline no value changed: nothing stale presented as news; the gateway payload
    # may only gain its list of stale groups (that says the opposite: not live)
    during = [
        (t, p)
        for t, p, _ in watcher.log[offline_at + 1 : online_at]
        if t.startswith(prefix) and t != availability
    ]
    changed = [(t, p) for t, p in during if retained_then.get(t) != p]
    assert all(t == prefix + "gateway" for t, _ in changed), changed
    for _, payload in changed:
        assert _without_staleness(payload) == _without_staleness(retained_then[prefix + "gateway"])


def _without_staleness(payload: bytes) -> dict[str, object]:
    return {
        k: v
        for k, v in json.loads(payload).items()
        if k not in ("stale", "last_poll", "last_poll_iso")
    }
