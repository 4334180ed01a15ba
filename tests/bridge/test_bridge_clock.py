"""The Envoy's day: time zone from /home, clock from /info, host zone as the fallback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from envoy2mqtt.bridge.clock import ZONE_FROM_HOME, ZONE_FROM_HOST, EnvoyClock, clock_of, host_zone
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.firmware import parse_info
from envoy2mqtt.envoy.home import EnvoyHome, parse_home
from envoy2mqtt.simulator.passwords import owner_password
from tests.plugins.simulator import StartSimulator, sim_session

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# 2026-08-02 04:30 UTC: still 1 August in Chicago, already 2 August in Amsterdam
AT = dt.datetime(2026, 8, 2, 4, 30, tzinfo=dt.UTC).timestamp()


def test_home_of_a_fixture_gives_zone_date_and_time() -> None:
    home = parse_home((FIXTURES / "8.3.5169_with_generator" / "home").read_bytes())
    assert home is not None
    assert (home.timezone, home.current_date, home.current_time) == (
        "US/Central",
        "08/01/2026",
        "09:09",
    )


@pytest.mark.parametrize("body", [b"<html>legacy home page</html>", b"[]", b'{"timezone": 5}'])
def test_home_that_is_not_the_json_document_is_not_served(body: bytes) -> None:
    assert parse_home(body) is None


def test_info_time_is_the_gateway_clock() -> None:
    info = parse_info((FIXTURES / "8.3.5169_with_generator" / "info").read_bytes())
    assert info.time == 1785593316


def test_day_follows_the_envoy_zone_and_clock_offset() -> None:
    chicago = clock_of(SimpleNamespace(home=EnvoyHome(timezone="US/Central"), clock_offset=0))
    assert (chicago.zone_source, chicago.day(AT)) == (ZONE_FROM_HOME, dt.date(2026, 8, 1))
    amsterdam = EnvoyClock(ZoneInfo("Europe/Amsterdam"), ZONE_FROM_HOME)
    assert amsterdam.day(AT) == dt.date(2026, 8, 2)
    # 06:30 in Amsterdam; an Envoy whose clock runs seven hours late is still on 1 August
    late = EnvoyClock(ZoneInfo("Europe/Amsterdam"), ZONE_FROM_HOME, offset=-7 * 3600)
    assert late.day(AT) == dt.date(2026, 8, 1)
    assert chicago.describe() == "zone=US/Central source=/home offset=+0s"


@pytest.mark.parametrize("home", [None, EnvoyHome(), EnvoyHome(timezone="Mars/Olympus_Mons")])
def test_without_a_usable_zone_the_host_zone_is_used(home: EnvoyHome | None) -> None:
    clock = clock_of(SimpleNamespace(home=home, clock_offset=12.0))
    assert clock.zone_source == ZONE_FROM_HOST
    assert clock.zone == host_zone()
    assert clock.offset == 12.0


async def test_client_reads_home_and_the_clock_offset_from_the_simulator(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator("8.3.5169_with_generator")
    client = EnvoyClient(sim.url, token=sim.issue_token(), clock=lambda: 1785593316.0 + 60)
    try:
        snapshot = await client.setup()
    finally:
        await client.close()
    assert snapshot.home is not None
    assert snapshot.home.timezone == "US/Central"
    assert snapshot.clock_offset == -60.0  # the capture's clock is a minute behind "now"
    assert clock_of(snapshot).day(1785593316.0 + 60) == dt.date(2026, 8, 1)


async def test_client_of_legacy_firmware_has_no_home(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator("4.10.35", tls=False)
    client = EnvoyClient(sim.url, username="envoy", password=owner_password(sim.serial))
    try:
        snapshot = await client.setup()
    finally:
        await client.close()
    assert snapshot.home is None
    assert clock_of(snapshot).zone_source == ZONE_FROM_HOST


async def test_simulator_clock_is_set_from_python_and_over_http(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator("8.3.5169_with_generator")
    sim.set_clock(1785650460)
    assert parse_info(sim.state.info_xml).time == 1785650460
    assert parse_info(sim.state.info_xml).firmware == "8.3.5169"  # the rest is kept
    async with sim_session(sim) as session:
        async with session.post(f"{sim.url}/__sim__/clock", json={"time": 1785650520}) as resp:
            assert resp.status == 200
        async with session.get(f"{sim.url}/info") as resp:
            assert parse_info(await resp.read()).time == 1785650520
        for bad in ({"time": "soon"}, {"time": True}, {"time": -1}, [1]):
            async with session.post(f"{sim.url}/__sim__/clock", json=bad) as resp:
                assert resp.status == 400
