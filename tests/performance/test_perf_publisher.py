"""StatePublisher change detection without volatile keys (docs/performance.md, section 4)."""

from __future__ import annotations

import json

from envoy2mqtt.bridge.publish import _announced_configs, _platforms
from envoy2mqtt.catalog.discovery import with_removed_components
from envoy2mqtt.catalog.state_topics import volatile_keys
from envoy2mqtt.mqtt.publisher import StatePublisher
from tests.mqtt.test_mqtt_publisher import FakeClock, RecordingTarget

METER = "e2m/1221/meters/production"


def meter(timestamp: int, power: int = 500) -> dict[str, object]:
    phase = {"active_power": power // 2, "timestamp": timestamp}
    return {
        "active_power": power,
        "timestamp": timestamp,
        "phases": {"l1": phase, "l2": dict(phase)},
    }


async def test_payload_differing_only_in_volatile_keys_is_not_sent() -> None:
    target, clock = RecordingTarget(), FakeClock()
    publisher = StatePublisher(target, republish_interval=100, clock=clock)
    keys = volatile_keys("meters/production")
    assert await publisher.publish(METER, meter(1), volatile=keys)
    clock.now += 5
    assert not await publisher.publish(METER, meter(2), volatile=keys)  # top level and phases
    assert await publisher.publish(METER, meter(3, power=501), volatile=keys)  # a real change
    assert [json.loads(p)["timestamp"] for _, p, _, _ in target.sent] == [1, 3]


async def test_refresh_carries_the_newest_volatile_values() -> None:
    target, clock = RecordingTarget(), FakeClock()
    publisher = StatePublisher(target, republish_interval=100, clock=clock)
    keys = volatile_keys("gateway")
    assert await publisher.publish(
        "e2m/1221/gateway", {"serial": "1", "last_poll": 10}, volatile=keys
    )
    assert not await publisher.publish(
        "e2m/1221/gateway", {"serial": "1", "last_poll": 20}, volatile=keys
    )
    assert json.loads(publisher.payload("e2m/1221/gateway") or b"")["last_poll"] == 20
    clock.now += 100
    assert await publisher.republish_due() == 1
    assert json.loads(target.sent[-1][1]) == {"serial": "1", "last_poll": 20}
    assert await publisher.republish_all() == 1  # HA birth / reconnect: the newest too
    assert json.loads(target.sent[-1][1])["last_poll"] == 20


async def test_without_volatile_keys_every_difference_is_sent() -> None:
    target = RecordingTarget()
    publisher = StatePublisher(target, republish_interval=100, clock=FakeClock())
    battery = "e2m/1221/batteries/42"
    assert volatile_keys("batteries/42") == frozenset()
    assert await publisher.publish(
        battery, {"timestamp": 1}, volatile=volatile_keys("batteries/42")
    )
    assert await publisher.publish(
        battery, {"timestamp": 2}, volatile=volatile_keys("batteries/42")
    )
    assert await publisher.publish(METER, meter(1))
    assert await publisher.publish(METER, meter(2))  # no keys given: compared in full
    assert len(target.sent) == 4


def test_volatile_keys_are_declared_per_state_group() -> None:
    # the ISO 8601 twins the timestamp entities read change with their epochs
    assert volatile_keys("gateway") == {"last_poll", "last_poll_iso"}
    assert volatile_keys("meters/net-consumption") == {"timestamp"}
    assert volatile_keys("livedata") == {"last_update", "last_update_iso"}
    assert volatile_keys("production") == frozenset()


async def test_unkept_payload_is_compared_by_digest_and_sent_only_by_its_owner() -> None:
    target, clock = RecordingTarget(), FakeClock()
    publisher = StatePublisher(target, republish_interval=100, clock=clock)
    config = {"cmps": {"power": {"platform": "sensor"}}}
    assert await publisher.publish("ha/x/config", config, periodic=False, keep=False)
    assert publisher.payload("ha/x/config") is None  # only a digest is stored
    assert "ha/x/config" in publisher.topics("ha")
    assert not await publisher.publish("ha/x/config", config, periodic=False, keep=False)
    clock.now += 1000
    assert await publisher.republish_due() == 0
    assert await publisher.republish_all() == 0  # the owner rebuilds and re-sends it
    assert await publisher.publish("ha/x/config", config, periodic=False, keep=False, force=True)
    assert len(target.sent) == 2


async def test_unkept_payload_dropped_offline_is_sent_by_the_next_publish() -> None:
    target = RecordingTarget()
    publisher = StatePublisher(target, republish_interval=100, clock=FakeClock())
    target.online = False
    assert not await publisher.publish("ha/x/config", {"a": 1}, keep=False)
    target.online = True
    assert await publisher.republish_due() == 0
    assert await publisher.publish("ha/x/config", {"a": 1}, keep=False)
    assert target.sent == [("ha/x/config", b'{"a":1}', 1, True)]


async def test_a_volatile_key_appearing_is_a_change() -> None:
    target = RecordingTarget()
    publisher = StatePublisher(target, republish_interval=100, clock=FakeClock())
    keys = volatile_keys("gateway")
    assert await publisher.publish("e2m/1/gateway", {"serial": "1"}, volatile=keys)
    assert await publisher.publish("e2m/1/gateway", {"serial": "1", "last_poll": 5}, volatile=keys)
    assert not await publisher.publish(
        "e2m/1/gateway", {"serial": "1", "last_poll": 6}, volatile=keys
    )


def test_kept_platforms_still_announce_removed_components() -> None:
    topic = "homeassistant/device/x/config"
    before = {
        "dev": {},
        "cmps": {
            "power": {"platform": "sensor", "name": "P"},
            "relay": {"platform": "switch", "name": "R"},
        },
    }
    after = {"dev": {}, "cmps": {"power": {"platform": "sensor", "name": "P"}}}
    kept = {topic: _platforms(before)}
    assert kept == {topic: {"power": "sensor", "relay": "switch"}}
    sent = with_removed_components(_announced_configs(kept), {topic: after})
    assert sent[topic]["cmps"]["relay"] == {"platform": "switch"}  # HA removes it
    assert sent[topic]["cmps"]["power"] == after["cmps"]["power"]
    assert _platforms({"state_topic": "t"}) == {}  # one-entity (component mode) config
