"""Logging setup (envoy2mqtt.logs): formats, one line per event, redaction, idempotence."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from envoy2mqtt.logs import add_filter, setup_logging
from envoy2mqtt.redact import register_secret


@pytest.fixture(autouse=True)
def _restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _boom() -> None:
    raise ValueError("bad\nthing")


def test_text_format_is_one_line_per_event_even_with_a_traceback() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    log = logging.getLogger("envoy2mqtt.test")
    log.info("poll ok serial=%s groups=%d", "1221", 3)
    try:
        _boom()
    except ValueError:
        log.exception("poll failed serial=%s", "1221")
    log.debug("not shown at info")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("INFO envoy2mqtt.test poll ok serial=1221 groups=3")
    assert "ERROR envoy2mqtt.test poll failed serial=1221 exc=Traceback" in lines[1]
    assert "ValueError: bad | thing" in lines[1]


def test_json_format() -> None:
    stream = io.StringIO()
    setup_logging("debug", "json", stream)
    logging.getLogger("envoy2mqtt.test").debug("mqtt publish topic=%s bytes=%d", "a/b", 12)
    (line,) = stream.getvalue().splitlines()
    event = json.loads(line)
    assert event["level"] == "debug"
    assert event["logger"] == "envoy2mqtt.test"
    assert event["msg"] == "mqtt publish topic=a/b bytes=12"
    assert event["ts"].endswith("Z")


def test_registered_secrets_are_redacted() -> None:
    stream = io.StringIO()
    setup_logging("info", "text", stream)
    register_secret("s3cr3t-envoy-password")
    logging.getLogger("envoy2mqtt.test").info("login user=me password=%s", "s3cr3t-envoy-password")
    output = stream.getvalue()
    assert "s3cr3t-envoy-password" not in output
    assert "***" in output


def test_setup_twice_replaces_the_handler_and_extra_filters_attach() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging("info", "text", first)
    setup_logging("warning", "text", second)
    log = logging.getLogger("envoy2mqtt.test")

    class DropNoise(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "noise" not in record.getMessage()

    add_filter(DropNoise())
    log.info("hidden at warning")
    log.warning("noise here")
    log.warning("kept")
    assert first.getvalue() == ""
    assert second.getvalue().splitlines()[-1].endswith("kept")
    assert len(second.getvalue().splitlines()) == 1
