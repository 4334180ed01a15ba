"""aiomqtt's late-acknowledgement false alarm is a debug line; its other records pass."""

from __future__ import annotations

import logging

import aiomqtt
import pytest

from envoy2mqtt.mqtt.library_log import aiomqtt_logger


def _client() -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", 1, logger=aiomqtt_logger())


async def test_an_ack_for_a_cancelled_subscribe_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = _client()
    # what the broker's SUBACK does when the subscribe's waiter was cancelled first
    client._on_subscribe(client._client, None, 7, [])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    late = [r for r in caplog.records if r.name == "envoy2mqtt.mqtt.library_log"]
    assert [r.getMessage() for r in late] == [
        "mqtt late ack ignored mid=7 (its request was cancelled)"
    ]


async def test_other_library_records_pass_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _client()
    aiomqtt_logger().error("Failed to receive message: %s", "boom")
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("mqtt", logging.ERROR, "Failed to receive message: boom")
    ]


def test_the_filter_is_attached_once() -> None:
    for _ in range(3):
        logger = aiomqtt_logger()
    assert len(logger.filters) == 1
