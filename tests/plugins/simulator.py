"""Simulated Envoys for tests: real aiohttp servers on 127.0.0.1 with a random port.

Usage::

    async def test_x(envoy_simulator):
        sim = await envoy_simulator("8.3.5169_with_generator")          # HTTPS + tokens
        legacy = await envoy_simulator("4.10.35", mode="golden")       # HTTP + digest
        token = sim.issue_token()
        ...
        assert sim.requests.entries(path="/production.json") == []

Every simulator started through the factory is stopped when the test ends. Its control
API (``sim.faults``, ``await sim.inject(Fault(...))``, ``sim.reboot()``, ``sim.requests``,
``sim.cloud_calls``) and its HTTP control API (``f"{sim.url}/__sim__/..."``) are available.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from envoy2mqtt.simulator.server import EnvoySimulator

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"
TOKEN_FIXTURE = "8.3.5169_with_generator"
LEGACY_FIXTURE = "4.10.35"

StartSimulator = Callable[..., Awaitable[EnvoySimulator]]


class FakeClock:
    """A wall clock the test moves by hand (pass as ``clock=`` to the simulator)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        """Start at ``now`` (epoch seconds)."""
        self.now = now

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now


def fixture_dirs() -> list[str]:
    """Names of every fixture directory."""
    return sorted(p.name for p in FIXTURES_DIR.iterdir() if (p / "info").is_file())


@pytest.fixture
async def envoy_simulator() -> AsyncIterator[StartSimulator]:
    """Factory: ``await envoy_simulator(fixture_name, **EnvoySimulator options)``."""
    started: list[EnvoySimulator] = []

    async def start(fixture: str = TOKEN_FIXTURE, **options: Any) -> EnvoySimulator:
        sim = EnvoySimulator(FIXTURES_DIR / fixture, **options)
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim_token_envoy(envoy_simulator: StartSimulator) -> EnvoySimulator:
    """A started token-firmware (HTTPS) simulator of ``8.3.5169_with_generator``."""
    return await envoy_simulator(TOKEN_FIXTURE)


@pytest.fixture
async def sim_legacy_envoy(envoy_simulator: StartSimulator) -> EnvoySimulator:
    """A started legacy-firmware (HTTP + Digest) simulator of ``4.10.35``."""
    return await envoy_simulator(LEGACY_FIXTURE)


def sim_session(sim: EnvoySimulator, **kwargs: Any) -> aiohttp.ClientSession:
    """A client session that trusts the simulator's certificate (no keep-alive reuse)."""
    connector = aiohttp.TCPConnector(ssl=sim.client_ssl_context() or False, force_close=True)
    return aiohttp.ClientSession(connector=connector, **kwargs)
