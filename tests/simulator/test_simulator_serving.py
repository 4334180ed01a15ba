"""The simulator serves every fixture over the scheme and auth its firmware needs."""

from __future__ import annotations

import re

import aiohttp
import pytest
from cryptography import x509

from envoy2mqtt.simulator.fixture_store import FixtureMode, FixtureStore
from envoy2mqtt.simulator.passwords import installer_password
from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.state import shared_store
from tests.plugins.simulator import FIXTURES_DIR, StartSimulator, fixture_dirs, sim_session


def _major(fixture: str) -> int:
    software = re.search(
        rb"<software>[A-Za-z]?(\d+)", (FIXTURES_DIR / fixture / "info").read_bytes()
    )
    assert software is not None
    return int(software[1])


def _auth(sim: EnvoySimulator) -> tuple[dict[str, str], tuple[aiohttp.DigestAuthMiddleware, ...]]:
    if sim.state.uses_tokens:
        return {"Authorization": f"Bearer {sim.issue_token()}"}, ()
    return {}, (aiohttp.DigestAuthMiddleware("installer", installer_password(sim.serial)),)


@pytest.mark.parametrize("fixture", fixture_dirs())
async def test_each_fixture_served_like_the_device(
    envoy_simulator: StartSimulator, fixture: str
) -> None:
    sim = await envoy_simulator(fixture)
    assert sim.url.startswith("https://" if _major(fixture) >= 7 else "http://")
    store = FixtureStore(FIXTURES_DIR / fixture)
    headers, middlewares = _auth(sim)
    async with sim_session(sim, middlewares=middlewares) as session:
        async with session.get(f"{sim.url}/info") as resp:
            assert resp.status == 200
            assert await resp.read() == (FIXTURES_DIR / fixture / "info").read_bytes()
        for slug, path in (("production.json", "/production.json"), ("ivp_meters", "/ivp/meters")):
            expected = store.lookup_slug(slug)
            async with session.get(f"{sim.url}{path}", headers=headers) as resp:
                if expected is None:
                    assert resp.status == 404
                    continue
                assert resp.status == expected.status
                assert await resp.read() == expected.body
                assert resp.headers["Content-Type"] == expected.content_type


async def test_unknown_and_hidden_paths_are_404(sim_token_envoy: EnvoySimulator) -> None:
    headers = {"Authorization": f"Bearer {sim_token_envoy.issue_token()}"}
    async with sim_session(sim_token_envoy) as session:
        hidden = ("/expected.json", "/info_log.json", "/_readme", "/..", "/a%00b", "/?x=/../info")
        for path in ("/no/such/thing", *hidden):
            async with session.get(f"{sim_token_envoy.url}{path}", headers=headers) as resp:
                assert resp.status == 404, path


async def test_device_and_golden_modes_differ_for_details(
    envoy_simulator: StartSimulator,
) -> None:
    fixture = "8.3.5169_with_generator"
    device = await envoy_simulator(fixture)
    golden = await envoy_simulator(fixture, mode="golden")
    bodies = []
    for sim in (device, golden):
        headers = {"Authorization": f"Bearer {sim.issue_token()}"}
        async with sim_session(sim) as session:
            url = f"{sim.url}/production.json?details=1"
            async with session.get(url, headers=headers) as resp:
                assert resp.status == 200
                bodies.append(await resp.read())
    assert bodies[0] == (FIXTURES_DIR / fixture / "production.json_details_1").read_bytes()
    assert bodies[1] == (FIXTURES_DIR / fixture / "production.json").read_bytes()


async def test_golden_mode_turns_status_401_body_into_401(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator("3.9.36_bad_auth", mode=FixtureMode.GOLDEN)
    _, middlewares = _auth(sim)
    url = f"{sim.url}/api/v1/production/inverters"
    async with sim_session(sim, middlewares=middlewares) as session, session.get(url) as resp:
        assert resp.status == 401


async def test_tls_can_be_forced_off_and_https_cert_names_the_envoy(
    envoy_simulator: StartSimulator,
) -> None:
    plain = await envoy_simulator("8.3.5169_with_generator", tls=False)
    assert plain.url.startswith("http://")
    assert plain.state.uses_tokens
    secure = await envoy_simulator("4.10.35", tls=True)
    assert secure.url.startswith("https://")
    cert = x509.load_pem_x509_certificate(secure.certificate.cert_pem)
    assert cert.subject.rfc4514_string() == f"CN=envoy-{secure.serial}"
    async with sim_session(secure) as session, session.get(f"{secure.url}/info") as resp:
        assert resp.status == 200


def test_simulators_of_one_fixture_share_the_parsed_files() -> None:
    one = EnvoySimulator(FIXTURES_DIR / "7.3.517")
    two = EnvoySimulator(FIXTURES_DIR / "7.3.517")
    assert one.state.store is two.state.store
    assert shared_store(FIXTURES_DIR / "7.3.517", FixtureMode.GOLDEN) is not one.state.store
