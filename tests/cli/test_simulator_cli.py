"""``envoy2mqtt simulate`` starts, serves, and stops cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from envoy2mqtt.catalog.topics import Topics
from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import FIXTURES_DIR


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    proc, printed, _ = await _start_with_lines(*args)
    return proc, printed


async def _start_with_lines(
    *args: str,
) -> tuple[asyncio.subprocess.Process, dict[str, str], list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "simulate", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    lines: list[str] = []
    while "api" not in printed:  # the last announcement line
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line, "simulate exited before printing its URL"
        lines.append(line.rstrip("\n"))
        for word in line.split():
            key, _, value = word.partition("=")
            printed.setdefault(key, value)
    return proc, printed, lines


def _printed_config(lines: list[str]) -> str:
    """The indented block after ``bridge config=…`` (the YAML ``run`` is told to use)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("bridge config="))
    block = [line for line in lines[start + 1 :] if line.startswith("    ")]
    return "\n".join(line[4:] for line in block) + "\n"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_simulate_serves_and_stops_on_signal(signum: signal.Signals) -> None:
    proc, printed = await _start("--fixture", str(FIXTURES_DIR / "4.10.35"))
    assert printed["url"].startswith("http://127.0.0.1:")
    assert printed["auth"] == "digest"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{printed['url']}/info") as resp:
            assert resp.status == 200
            assert printed["serial"].encode() in await resp.read()
        async with session.get(f"{printed['url']}/__sim__/status") as resp:
            assert (await resp.json())["firmware"] == "4.10.35"
    proc.send_signal(signum)
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert b"simulator stopped" in out
    assert b"Traceback" not in err


async def test_simulate_https_by_firmware_and_mode_flag() -> None:
    proc, printed = await _start(
        "--fixture", str(FIXTURES_DIR / "8.3.5169_with_generator"), "--mode", "golden"
    )
    try:
        assert printed["url"].startswith("https://127.0.0.1:")
        assert printed["email"] == "owner@example.com"
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{printed['url']}/info", ssl=False) as resp,
        ):
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0


async def test_simulate_rejects_missing_fixture() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "simulate", "--fixture", "/nonexistent/fixture",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert b"not a fixture directory" in err


@pytest.mark.parametrize("fixture", ["8.3.5169_with_generator", "4.10.35"])
async def test_simulate_prints_a_config_that_run_accepts_as_is(
    fixture: str, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sim, printed, lines = await _start_with_lines(
        "--fixture", str(FIXTURES_DIR / fixture), "--mqtt", f"127.0.0.1:{mosquitto.port}"
    )
    watcher = Watcher(mosquitto.host, mosquitto.port)
    bridge: asyncio.subprocess.Process | None = None
    try:
        https = fixture.startswith("8.")
        _check_written(printed, _printed_config(lines), https, tmp_path / "config.yaml")
        await watcher.start()
        production = Topics("envoy2mqtt").state(printed["serial"], "production")
        bridge = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "envoy2mqtt", "run", "--config", str(tmp_path / "config.yaml"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await watcher.wait(lambda w: production in w.latest, 60)
        assert watcher.json(production)["watts_now"] > 0
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{printed['url']}/__sim__/status", ssl=False) as resp,
        ):
            status = await resp.json()
        # a token came from the fake Enlighten (over verified TLS) only where one is needed
        assert (status["cloud_calls"] > 0) is https
    finally:
        await watcher.stop()
        if bridge is not None and bridge.returncode is None:
            bridge.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(bridge.communicate(), 30)
            assert b"Traceback" not in err
            assert b"not trusted" not in err
        sim.send_signal(signal.SIGTERM)
        await asyncio.wait_for(sim.communicate(), 20)
    assert not _exists(printed["config"])  # removed with the simulator


def _check_written(printed: dict[str, str], text: str, https: bool, copy: Path) -> None:
    assert text == Path(printed["config"]).read_text()  # printed = written
    config = yaml.safe_load(text)
    if https:  # the fake Enlighten's self-signed certificate is trusted via its CA file
        assert config["enlighten"]["ca_file"] == printed["ca_file"]
        assert Path(printed["ca_file"]).read_bytes().startswith(b"-----BEGIN CERTIFICATE")
    copy.write_text(text)


def _exists(path: str) -> bool:
    return Path(path).exists()


async def test_simulate_rejects_a_bad_mqtt_option() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "simulate",
        "--fixture", str(FIXTURES_DIR / "4.10.35"), "--mqtt", "broker:99999",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert b"--mqtt must be HOST or HOST:PORT" in err


LEGACY = "4.10.35"


def test_simulate_into_a_closed_pipe_stops_quietly() -> None:
    # `envoy2mqtt simulate | head -1`: the reader leaves; SIGTERM then ends with exit 0.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "envoy2mqtt",
            "simulate",
            "--fixture",
            str(FIXTURES_DIR / "4.10.35"),
        ],
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20)
        assert ready, "simulate printed nothing"
        assert os.read(read_end, 64).startswith(b"simulated Envoy")
    finally:
        os.close(read_end)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert err == b""
