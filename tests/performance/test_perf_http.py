"""The bridge's shared HTTP pool keeps one idle connection per Envoy (docs/performance.md 2.2)."""

from __future__ import annotations

import asyncio
from asyncio import sslproto
from collections.abc import Callable
from typing import Any

import aiohttp
import psutil
import pytest

from envoy2mqtt.envoy.pool import (
    MIN_KEEPALIVE,
    TLS_READ_BUFFER,
    IdleCappedConnector,
    http_keepalive,
    limit_tls_read_buffer,
)
from envoy2mqtt.simulator.faults import Fault, FaultKind
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.simulator import StartSimulator

FIXTURE = "7.6.185_with_cts_and_battery_3t"


def established_to(port: int) -> int:
    """Our TCP connections to ``port`` that are still open."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for ``condition`` (a TLS close finishes its shutdown in the background)."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - a socket state, nothing to wait on
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), within)


async def get_info(sim: EnvoySimulator, session: aiohttp.ClientSession, ssl: Any) -> int:
    async with session.get(f"{sim.url}/info", ssl=ssl) as resp:
        await resp.read()
        return resp.status


async def overlapping_requests(
    sim: EnvoySimulator, session: aiohttp.ClientSession, ssl: Any
) -> None:
    """Three requests in flight at once (the server holds each 0.3 s): three connections."""
    await sim.inject(Fault(FaultKind.LATENCY, path="/info", seconds=0.3, count=3))
    statuses = await asyncio.gather(*(get_info(sim, session, ssl) for _ in range(3)))
    assert list(statuses) == [200, 200, 200]


async def test_surplus_idle_connections_are_closed(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator(FIXTURE)
    connector = IdleCappedConnector(keepalive_timeout=60)
    ssl = sim.client_ssl_context() or False  # one context: it is part of the pool key
    async with aiohttp.ClientSession(connector=connector) as session:
        await overlapping_requests(sim, session, ssl)
        await until(lambda: established_to(sim.port) == 1)
        # The one kept is reused: a next request opens nothing new.
        assert await get_info(sim, session, ssl) == 200
        assert established_to(sim.port) == 1


async def test_plain_aiohttp_pool_keeps_every_connection(envoy_simulator: StartSimulator) -> None:
    # What the capped pool fixes: the default pool keeps the peak open.
    sim = await envoy_simulator(FIXTURE)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=60)) as s:
        await overlapping_requests(sim, s, sim.client_ssl_context() or False)
        assert established_to(sim.port) == 3


def test_keepalive_outlives_the_slowest_fast_tier() -> None:
    assert http_keepalive([5, 10]) == MIN_KEEPALIVE
    assert http_keepalive([5, 30]) == 45
    assert http_keepalive([]) == MIN_KEEPALIVE


async def test_small_tls_read_buffer_still_reads_large_bodies(
    envoy_simulator: StartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sslproto.SSLProtocol, "max_size", sslproto.SSLProtocol.max_size)
    limit_tls_read_buffer()
    sim = await envoy_simulator(FIXTURE)
    assert sim.tls
    await sim.inject(Fault(FaultKind.HUGE, path="/info", size=300_000, count=1))
    ssl = sim.client_ssl_context() or False
    async with aiohttp.ClientSession() as session, session.get(f"{sim.url}/info", ssl=ssl) as r:
        transport = r.connection.transport if r.connection is not None else None
        body = await r.read()
    ssl_protocol: Any = getattr(transport, "_ssl_protocol", None)
    assert isinstance(ssl_protocol, sslproto.SSLProtocol)
    assert len(vars(ssl_protocol)["_ssl_buffer"]) == TLS_READ_BUFFER  # asyncio: 256 KiB
    assert len(body) == 300_000
