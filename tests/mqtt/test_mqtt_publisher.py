"""StatePublisher: change-only retained publishing, periodic re-publish, clearing."""

from __future__ import annotations

import asyncio
import contextlib

from envoy2mqtt.mqtt.publisher import StatePublisher, encode_payload
from tests.mqtt.test_mqtt_support import Probe, fast_session, mqtt_settings, running
from tests.plugins.mosquitto import Mosquitto

PRODUCTION = "e2m/1221/production"
SENTINEL = "e2m/test/sentinel"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingTarget:
    """A publish target that records calls and can pretend to be offline."""

    def __init__(self) -> None:
        self.online = True
        self.sent: list[tuple[str, bytes, int, bool]] = []

    async def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 0, retain: bool = False
    ) -> bool:
        if not self.online:
            return False
        self.sent.append((topic, encode_payload(payload), qos, retain))
        return True


def test_encoding_is_compact_json_and_passes_bytes_and_text() -> None:
    assert encode_payload({"a": 1, "b": [1.5, None]}) == b'{"a":1,"b":[1.5,null]}'
    assert encode_payload("online") == b"online"
    assert encode_payload(b"\x00raw") == b"\x00raw"


async def test_same_payload_twice_gives_one_message_on_the_broker(mosquitto: Mosquitto) -> None:
    session = fast_session(mqtt_settings(mosquitto))
    publisher = StatePublisher(session, republish_interval=300)
    async with running(session), Probe(mosquitto) as probe:
        await probe.subscribe(PRODUCTION, SENTINEL)
        assert await publisher.publish(PRODUCTION, {"watts_now": 10})
        assert not await publisher.publish(PRODUCTION, {"watts_now": 10})
        assert await publisher.publish(PRODUCTION, {"watts_now": 11})
        # Messages from one client arrive in order: once the sentinel is here, every
        # earlier publish has been delivered too.
        await session.publish(SENTINEL, b"done", qos=1)
        await probe.expect(SENTINEL, b"done")
        assert probe.payloads(PRODUCTION) == [b'{"watts_now":10}', b'{"watts_now":11}']
        assert all(m.retain is False for m in probe.received)  # live deliveries


async def test_unchanged_state_is_republished_after_the_interval() -> None:
    target, clock = RecordingTarget(), FakeClock()
    publisher = StatePublisher(target, republish_interval=100, clock=clock)
    assert await publisher.publish("t/a", {"v": 1})
    clock.now += 50
    assert not await publisher.publish("t/a", {"v": 1})
    assert await publisher.republish_due() == 0
    clock.now += 50
    assert await publisher.publish("t/a", {"v": 1})
    assert [s[0] for s in target.sent] == ["t/a", "t/a"]
    assert all(qos == 1 and retain for _, _, qos, retain in target.sent)


async def test_periodic_task_republishes_on_the_broker(mosquitto: Mosquitto) -> None:
    session = fast_session(mqtt_settings(mosquitto))
    publisher = StatePublisher(session, republish_interval=0.5)
    async with running(session), Probe(mosquitto) as probe:
        await probe.subscribe(PRODUCTION)
        await publisher.publish(PRODUCTION, {"watts_now": 3})
        first = await probe.expect(PRODUCTION)
        refresher = asyncio.create_task(publisher.run())
        try:
            again = await probe.expect(PRODUCTION)
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
        assert again.payload == first.payload == b'{"watts_now":3}'


async def test_dropped_publish_is_sent_when_due_again() -> None:
    target = RecordingTarget()
    publisher = StatePublisher(target, republish_interval=300)
    target.online = False
    assert not await publisher.publish("t/a", b"1")
    target.online = True
    # Unchanged payload, but it never reached the broker: it must not be suppressed.
    assert await publisher.publish("t/a", b"1")
    target.online = False
    assert not await publisher.publish("t/b", b"2")
    target.online = True
    assert await publisher.republish_due() == 1
    assert [s[0] for s in target.sent] == ["t/a", "t/b"]


async def test_republish_all_sends_everything_known() -> None:
    target = RecordingTarget()
    publisher = StatePublisher(target)
    await publisher.publish("t/a", {"v": 1})
    await publisher.publish("t/b", {"v": 2})
    target.sent.clear()
    assert await publisher.republish_all() == 2
    assert sorted(s[0] for s in target.sent) == ["t/a", "t/b"]
    assert publisher.payload("t/b") == b'{"v":2}'


async def test_clear_removes_the_retained_message(mosquitto: Mosquitto) -> None:
    session = fast_session(mqtt_settings(mosquitto))
    publisher = StatePublisher(session)
    async with running(session):
        await publisher.publish("e2m/1221/inverters/111", {"watts_now": 1})
        await publisher.publish("e2m/1221/inverters/222", {"watts_now": 2})
        await publisher.publish("e2m/1221/production", {"watts_now": 3})
        cleared = await publisher.clear_missing(
            "e2m/1221/inverters", keep={"e2m/1221/inverters/222"}
        )
        assert cleared == ["e2m/1221/inverters/111"]
        assert publisher.topics("e2m/1221/inverters") == {"e2m/1221/inverters/222"}
        async with Probe(mosquitto) as probe:
            await probe.subscribe("e2m/1221/#", SENTINEL)
            await probe.expect("e2m/1221/inverters/222")
            await probe.expect("e2m/1221/production")
            await probe.publish(SENTINEL, b"done")
            await probe.expect(SENTINEL)
            assert probe.payloads("e2m/1221/inverters/111") == []


async def test_clear_forgets_the_topic_so_the_next_publish_is_sent() -> None:
    target = RecordingTarget()
    publisher = StatePublisher(target)
    await publisher.publish("t/a", b"x")
    await publisher.clear("t/a")
    assert await publisher.publish("t/a", b"x")
    assert [s[1] for s in target.sent] == [b"x", b"", b"x"]


async def test_non_periodic_entries_are_not_refreshed_on_a_timer() -> None:
    target, clock = RecordingTarget(), FakeClock()
    publisher = StatePublisher(target, republish_interval=100, clock=clock)
    await publisher.publish("homeassistant/device/x/config", {"cmps": {}}, periodic=False)
    await publisher.publish("t/state", {"v": 1})
    clock.now += 1000
    assert await publisher.republish_due() == 1
    assert not await publisher.publish(
        "homeassistant/device/x/config", {"cmps": {}}, periodic=False
    )
    assert [s[0] for s in target.sent] == ["homeassistant/device/x/config", "t/state", "t/state"]
    assert await publisher.republish_all() == 2  # reconnect / HA birth still re-send it
