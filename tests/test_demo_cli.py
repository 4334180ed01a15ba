"""``envoy2mqtt demo`` as a real process: starts, publishes, exits 0 on SIGINT/--duration."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from envoy2mqtt.cmd.demo import BUNDLED, resolve_fixture
from envoy2mqtt.cmd.demo_view import summarize
from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto


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
    try:
        lines = await read_until(proc, "/batteries/")
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    text = "".join(lines) + out.decode()
    assert "envoy2mqtt/bridge/state  online" in text
    assert "/availability  online" in text
    assert "/production  watts_now=" in text
    assert "/bridge/scan/" not in text
    assert "# demo stopped" in text


async def test_demo_against_an_external_broker_retains_state_and_honours_duration(
    mosquitto: Mosquitto,
) -> None:
    watcher = Watcher(mosquitto.host, mosquitto.port)
    await watcher.start()
    proc = await start_demo(
        "--mqtt-host", "127.0.0.1", "--mqtt-port", str(mosquitto.port), "--duration", "4"
    )
    try:
        await watcher.wait(lambda w: any(t.endswith("/storage") for t in w.latest), 30)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        retained = await watcher.retained_now("envoy2mqtt/#")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await watcher.stop()
    assert proc.returncode == 0, err.decode()
    assert retained["envoy2mqtt/bridge/state"] == b"offline"
    assert any(t.endswith("/production") for t in retained)


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
    source = Path(__file__).resolve().parents[1] / "fixtures" / "7.3.517"
    bundled = BUNDLED / "7.3.517"
    assert sorted(p.name for p in bundled.iterdir()) == sorted(p.name for p in source.iterdir())


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "(cleared)"),
        (b"online", "online"),
        (b'{"status": "closed", "id": "NC1"}', "status=closed id=NC1"),
        (b'{"a": 1, "phases": {"l1": {}}}', "a=1 +phases"),
        (
            b'{"dev": {"name": "Envoy"}, "cmps": {"x": {}, "y": {}}}',
            "discovery: Envoy (2 entities)",
        ),
        (b"{broken", "{broken"),
    ],
)
def test_summaries(payload: bytes, expected: str) -> None:
    assert summarize(payload) == expected


def test_summaries_are_bounded() -> None:
    assert len(summarize(b'{"k": "' + b"x" * 500 + b'"}', limit=40)) == 40
