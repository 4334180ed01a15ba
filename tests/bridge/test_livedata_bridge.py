"""End to end: a CT-less battery Envoy gets fast live data through the bridge (real broker)."""

from __future__ import annotations

import json

from envoy2mqtt.bridge.schedule import TierName, plan_tiers
from envoy2mqtt.catalog.topics import Topics
from tests.bridge_helpers import Watcher
from tests.plugins.stack import BridgeStack

T = Topics("envoy2mqtt")
FIXTURE = "7.3.517"  # batteries + Enpower, no CTs: no meters group, so livedata is all it has
LIVE_UPDATES = 3


def test_livedata_is_planned_on_the_fast_tier() -> None:
    tiers = plan_tiers(1, 60, 600, ["livedata", "production", "ensemble", "tariff"])
    fast = next(t for t in tiers if t.name is TierName.FAST)
    assert fast.groups == ("livedata",)
    assert all("livedata" not in t.groups for t in tiers if t is not fast)


def _payloads(watcher: Watcher, topic: str) -> list[dict[str, object]]:
    return [json.loads(p) for t, p, _ in watcher.log if t == topic and p]


async def test_livedata_updates_on_the_fast_tier(
    bridge_stack: BridgeStack, watcher: Watcher
) -> None:
    sim = await bridge_stack.sim(FIXTURE, live_seed=3)
    assert sim.livedata is not None
    envoy = {
        "host": sim.url,
        "token": sim.issue_token(),
        "intervals": {"fast": 1, "normal": 3600, "slow": 3600},
    }
    settings = bridge_stack.settings(sim, envoys=[envoy])
    livedata, production = T.state(sim.serial, "livedata"), T.state(sim.serial, "production")
    async with bridge_stack.bridge(settings):

        def refreshed(w: Watcher) -> bool:
            stamps = {p.get("last_update") for p in _payloads(w, livedata)}
            return len(stamps) >= LIVE_UPDATES

        await watcher.wait(refreshed, limit=20)
        discovery = watcher.json(f"homeassistant/device/envoy2mqtt_{sim.serial}/config")
    live = _payloads(watcher, livedata)
    assert all(p["pv_power"] for p in live)
    assert live[-1]["stream_enabled"] is True
    assert live[-1]["soc"] == 100
    # The normal tier (one hour) polled once while the fast tier kept going.
    assert len(_payloads(watcher, production)) == 1
    assert len(live) >= LIVE_UPDATES
    # The bridge asked once for the stream; it stays enabled for 15 minutes.
    assert sim.livedata.stream_requests == 1
    assert [w.path for w in sim.requests.writes()] == ["/ivp/livedata/stream"]
    cmps = {c["unique_id"] for c in discovery["cmps"].values()}
    assert f"{sim.serial}_envoy_live_pv_power" in cmps
    assert f"{sim.serial}_envoy_live_storage_power" in cmps
