"""``envoy2mqtt demo`` as a real process: starts, publishes, exits 0 on SIGINT/--duration/EPIPE.

The live view fits 80 columns and shows payloads as real JSON. The demo's isolation from a
real bridge on the same broker is tested in ``test_demo_isolation``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from envoy2mqtt.cmd.demo import BUNDLED, resolve_fixture
from envoy2mqtt.cmd.demo_view import WIDTH, format_message, summarize
from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto
from tests.process_helpers import never_left_running

DEMO_STORAGE = "envoy2mqtt-demo/122027033238/storage"  # the bundled system's serial


async def start_demo(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "demo", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def read_until(proc: asyncio.subprocess.Process, needle: str) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []

    async def scan() -> None:
        while True:
            line = await proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                msg = f"demo ended before {needle!r}: {lines[-5:]}"
                raise AssertionError(msg)
            lines.append(line.decode())
            if needle in lines[-1]:
                return

    await asyncio.wait_for(scan(), 30)
    return lines


async def test_demo_with_embedded_broker_publishes_and_exits_0_on_sigint() -> None:
    proc = await start_demo()
    async with never_left_running(proc):
        lines = await read_until(proc, "/batteries/")
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    text = "".join(lines) + out.decode()
    assert "envoy2mqtt-demo/bridge/state  online" in text
    assert "/availability  online" in text
    assert '/production  {"watts_now":' in text
    assert "/bridge/scan/" not in text
    assert "# demo stopped" in text
    assert_view_is_80_columns_of_json(text.splitlines())


_JSON_PART = re.compile(r"(?:^|  )([\[{].*?)(?: \+(\d+))?$")


def assert_view_is_80_columns_of_json(lines: list[str]) -> None:
    """Every line fits; every payload shown as an object is valid JSON, never a repr."""
    assert max(len(line) for line in lines) <= WIDTH
    objects = 0
    for line in lines:
        assert "=True" not in line
        assert "=False" not in line
        match = _JSON_PART.search(line)
        if match and not line.startswith("#"):
            json.loads(match[1])  # raises on anything that is not JSON
            objects += 1
    assert objects >= 10


async def test_demo_piped_into_head_exits_0_quietly(tmp_path: Path) -> None:
    # `envoy2mqtt demo | head -3`, with a real head
    script = '"$@" 2>"$ERR" | head -3; exit "${PIPESTATUS[0]}"'
    err_file = tmp_path / "err"
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", script, "bash", sys.executable, "-m", "envoy2mqtt", "demo",
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "ERR": str(err_file)},
    )  # fmt: skip
    async with never_left_running(proc):
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    assert len(out.decode().splitlines()) == 3
    assert err_file.read_text() == ""  # no BrokenPipeError traceback, no message


async def test_demo_against_an_external_broker_retains_state_and_honours_duration(
    watcher: Watcher, mosquitto: Mosquitto
) -> None:
    proc = await start_demo(
        "--mqtt-host", "127.0.0.1", "--mqtt-port", str(mosquitto.port), "--duration", "6"
    )
    async with never_left_running(proc):
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        retained = await watcher.retained_now("#")
    assert proc.returncode == 0, err.decode()
    published = {t for t, _, _ in watcher.log if "/bridge/scan/" not in t}  # scan markers
    assert DEMO_STORAGE in published
    assert all(t.startswith("envoy2mqtt-demo/") for t in published)  # no --discovery: no configs
    # everything it retained was removed on exit, and it says so
    removed = re.search(r"^# removed (\d+) retained topics$", out.decode(), re.MULTILINE)
    assert removed is not None, out.decode()
    assert int(removed[1]) >= 10
    assert retained == {}


async def test_unknown_fixture_exits_2_and_names_the_bundled_ones() -> None:
    proc = await start_demo("--fixture", "no-such-system")
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert "7.3.517" in err.decode()


def test_fixture_resolution(tmp_path: Path) -> None:
    assert resolve_fixture("7.3.517") == (BUNDLED / "7.3.517").resolve()
    own = tmp_path / "mine"
    own.mkdir()
    (own / "info").write_text("<envoy_info/>")
    assert resolve_fixture(str(own)) == own.resolve()
    with pytest.raises(FileNotFoundError, match="bundled"):
        resolve_fixture(str(tmp_path / "missing"))


def test_bundled_fixture_is_complete() -> None:
    source = Path(__file__).resolve().parents[2] / "fixtures" / "7.3.517"
    bundled = BUNDLED / "7.3.517"
    assert sorted(p.name for p in bundled.iterdir()) == sorted(p.name for p in source.iterdir())


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "(cleared)"),
        (b"online", "online"),
        (b'{"id": "NC1", "status": "closed"}', '{"status":"closed","id":"NC1"}'),
        (b'{"charge_from_grid": true, "date": null}', '{"charge_from_grid":true,"date":null}'),
        (b'{"a": 1, "phases": {"l1": {}}}', '{"a":1,"phases":{"l1":{}}}'),
        (b"[1, 2]", "[1,2]"),
        (b"42.5", "42.5"),
        (
            b'{"dev": {"name": "Envoy"}, "cmps": {"x": {}, "y": {}}}',
            "discovery config: Envoy, 2 entities",
        ),
        (b"{broken", "{broken"),
    ],
)
def test_summaries(payload: bytes, expected: str) -> None:
    assert summarize(payload) == expected


def test_a_long_object_shows_the_keys_that_fit_as_valid_json() -> None:
    payload = {"serial": "X1", "big": "x" * 500, "watts_now": 12, "ok": False}
    text = summarize(json.dumps(payload).encode(), limit=50, topic="e/X1")
    assert len(text) <= 50
    shown, rest = text.rsplit(" +", 1)
    assert json.loads(shown) == {"watts_now": 12, "ok": False, "serial": "X1"}
    assert rest == "1"


def test_a_serial_repeating_the_topic_comes_last() -> None:
    text = summarize(b'{"serial": "X1", "watts": 3}', topic="base/inverters/x1")
    assert text == '{"watts":3,"serial":"X1"}'


def test_long_arrays_and_texts_are_cut_to_the_limit() -> None:
    assert summarize(json.dumps(list(range(100))).encode(), limit=20) == "[0,1,2,3,4,5,6] +93"
    assert len(summarize(b"y" * 500, limit=40)) == 40


def test_a_long_topic_puts_its_payload_on_a_second_line() -> None:
    topic = "envoy2mqtt-demo/122027033238/inverters/202043003473"
    lines = format_message(topic, b'{"last_report_watts": 209, "serial_number": "202043003473"}')
    assert lines[0] == topic
    assert lines[1].startswith('  {"last_report_watts":209')
    assert all(len(line) <= WIDTH for line in format_message("t/" * 60, b"x" * 200))
