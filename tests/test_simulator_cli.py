"""``envoy2mqtt simulate`` starts, serves, and stops cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp
import pytest

from tests.plugins.simulator import FIXTURES_DIR


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "simulate", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    while "api" not in printed:  # the last announcement line
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line, "simulate exited before printing its URL"
        for word in line.split():
            key, _, value = word.partition("=")
            printed.setdefault(key, value)
    return proc, printed


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
