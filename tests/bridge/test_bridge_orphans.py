"""The retained-topic scan: end marker instead of a sleep, safe failure, attribution."""

from __future__ import annotations

import logging
from pathlib import Path

import aiomqtt
import pytest

from envoy2mqtt.mqtt.retained import RetainedScan, scan_retained
from envoy2mqtt.settings import MqttSettings
from tests.plugins.mosquitto import Mosquitto, free_port


async def test_scan_sees_every_retained_message(mosquitto: Mosquitto) -> None:
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
        for i in range(300):
            await client.publish(f"homeassistant/sensor/x{i}/config", b"{}", qos=1, retain=True)
        await client.publish("envoy2mqtt/sn1/production", b"{}", qos=1, retain=True)
        await client.publish("unrelated/topic", b"x", qos=1, retain=True)
    settings = MqttSettings(host=mosquitto.host, port=mosquitto.port)
    scan = await scan_retained(settings, ["homeassistant/#", "envoy2mqtt/+/#"])
    assert scan.complete
    assert len(scan.under("homeassistant")) == 300
    assert set(scan.under("envoy2mqtt/sn1")) == {"envoy2mqtt/sn1/production"}
    assert "unrelated/topic" not in scan.messages


async def test_scan_against_no_broker_is_incomplete_not_an_error() -> None:
    settings = MqttSettings(host="127.0.0.1", port=free_port())
    scan = await scan_retained(settings, ["#"], limit=5)
    assert not scan.complete
    assert scan.messages == {}


async def test_a_scan_that_runs_out_of_time_names_its_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The broker lets the scan subscribe but drops its end marker (read-only ACL), so the
    # scan ends at its limit with asyncio's TimeoutError, whose str() is empty.
    acl = tmp_path / "acl"
    acl.write_text("topic read #\n")
    broker = Mosquitto(workdir=tmp_path, extra_config=f"user root\nacl_file {acl}")
    broker.start()
    try:
        with caplog.at_level(logging.WARNING, logger="envoy2mqtt.mqtt.retained"):
            scan = await scan_retained(MqttSettings(host=broker.host, port=broker.port), ["#"], 3)
    finally:
        broker.stop()
    assert not scan.complete
    lines = [r.getMessage() for r in caplog.records if "retained scan incomplete" in r.getMessage()]
    assert lines == ["retained scan incomplete error=TimeoutError seen=0"]


def test_attribution_of_topics() -> None:
    scan = RetainedScan(
        messages={
            "homeassistant/device/a/config": b'{"stat_t": "envoy2mqtt/sn1/production"}',
            "homeassistant/device/b/config": b'{"stat_t": "envoy2mqtt/sn10/production"}',
            "envoy2mqtt/sn1/inverters/1": b"{}",
            "envoy2mqtt/sn1/grid_relay/set": b"ON",
            "envoy2mqtt/sn1/grid_relay/result": b"{}",
        },
        complete=True,
    )
    assert scan.discovery_for("homeassistant", "envoy2mqtt/sn1") == {
        "homeassistant/device/a/config"
    }
    assert set(scan.under("envoy2mqtt/sn1")) == {"envoy2mqtt/sn1/inverters/1"}
