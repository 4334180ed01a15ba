"""Digest auth on legacy firmware, Enlighten + JWT on token firmware."""

from __future__ import annotations

import aiohttp
import jwt

from envoy2mqtt.simulator.passwords import installer_password
from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.tokens import EnlightenAccount
from tests.plugins.simulator import FakeClock, StartSimulator, sim_session


def test_installer_password_matches_documented_vector() -> None:
    assert installer_password("122112123456") == "d525d2jh"


async def _status(sim: EnvoySimulator, path: str, user: str, password: str) -> int:
    digest = aiohttp.DigestAuthMiddleware(user, password)
    async with (
        sim_session(sim, middlewares=(digest,)) as session,
        session.get(f"{sim.url}{path}") as resp,
    ):
        return resp.status


async def test_legacy_digest_users(sim_legacy_envoy: EnvoySimulator) -> None:
    sim = sim_legacy_envoy
    assert sim.url.startswith("http://")
    installer = installer_password(sim.serial)
    assert await _status(sim, "/production.json", "envoy", sim.serial[-6:]) == 200
    assert await _status(sim, "/production.json", "installer", installer) == 200
    assert await _status(sim, "/production.json", "envoy", "wrong") == 401
    assert await _status(sim, "/production.json", "installer", "d525d2jh") == 401
    # Inverter data needs the installer on legacy firmware.
    assert await _status(sim, "/api/v1/production/inverters", "envoy", sim.serial[-6:]) == 401
    assert await _status(sim, "/api/v1/production/inverters", "installer", installer) == 200


async def test_legacy_open_paths_and_challenge(sim_legacy_envoy: EnvoySimulator) -> None:
    sim = sim_legacy_envoy
    async with sim_session(sim) as session:
        async with session.get(f"{sim.url}/info") as resp:
            assert resp.status == 200
        async with session.get(f"{sim.url}/ivp/meters") as resp:
            assert resp.status == 401
            challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ")
    assert 'realm="enphaseenergy.com"' in challenge
    assert 'qop="auth"' in challenge


async def _token_via_cloud(
    session: aiohttp.ClientSession, sim: EnvoySimulator, email: str, password: str
) -> str:
    form = {"user[email]": email, "user[password]": password}
    async with session.post(f"{sim.url}/login/login.json", data=form) as resp:
        assert resp.status == 200
        session_id = (await resp.json())["session_id"]
    body = {"session_id": session_id, "serial_num": sim.serial, "username": email}
    async with session.post(f"{sim.url}/tokens", json=body) as resp:
        assert resp.status == 200
        return await resp.text()


async def test_token_flow_end_to_end(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    async with sim_session(sim) as session:
        token = await _token_via_cloud(session, sim, "owner@example.com", "owner-password")
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["aud"] == sim.serial
        assert claims["enphaseUser"] == "owner"
        assert claims["username"] == "owner@example.com"
        assert claims["exp"] > claims["iat"]
        async with session.get(f"{sim.url}/production.json") as resp:
            assert resp.status == 401
        bearer = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{sim.url}/auth/check_jwt", headers=bearer) as resp:
            assert resp.status == 200
            cookie = resp.cookies["sessionId"].value
        async with session.get(f"{sim.url}/production.json", headers=bearer) as resp:
            assert resp.status == 200
        cookies = {"Cookie": f"sessionId={cookie}"}
        async with session.get(f"{sim.url}/ivp/meters", headers=cookies) as resp:
            assert resp.status == 200
    assert sim.enlighten.login_calls == 1
    assert sim.enlighten.token_calls == 1
    assert sim.cloud_calls == 2
    logged_login = sim.requests.entries(path="/login/login.json")[0]
    assert logged_login.body["user[password]"] == "***"


async def test_installer_account_gets_installer_token(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    async with sim_session(sim) as session:
        token = await _token_via_cloud(session, sim, "installer@example.com", "installer-password")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["enphaseUser"] == "installer"
    assert claims["exp"] - claims["iat"] == 12 * 3600


async def test_cloud_rejections(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    async with sim_session(sim) as session:
        bad = {"user[email]": "owner@example.com", "user[password]": "nope"}
        async with session.post(f"{sim.url}/login/login.json", data=bad) as resp:
            assert resp.status == 401
        mfa = {"user[email]": "mfa@example.com", "user[password]": "mfa-password"}
        async with session.post(f"{sim.url}/login/login.json", data=mfa) as resp:
            assert resp.status == 200
            assert "session_id" not in await resp.json()
        stale = {"session_id": "x", "serial_num": sim.serial, "username": "owner@example.com"}
        async with session.post(f"{sim.url}/tokens", json=stale) as resp:
            assert resp.status == 401
        async with session.post(f"{sim.url}/tokens", data=b"not json") as resp:
            assert resp.status == 400
        fake = jwt.encode(
            {"aud": sim.serial, "exp": 4_000_000_000}, "another-secret-that-is-long-enough-32b"
        )
        headers = {"Authorization": f"Bearer {fake}"}
        async with session.get(f"{sim.url}/auth/check_jwt", headers=headers) as resp:
            assert resp.status == 401
    assert sim.tokens.active_tokens == 0


async def test_wrong_serial_gets_no_token(envoy_simulator: StartSimulator) -> None:
    sim = await envoy_simulator(accounts=[EnlightenAccount("a@b.c", "pw")])
    async with sim_session(sim) as session:
        form = {"user[email]": "a@b.c", "user[password]": "pw"}
        async with session.post(f"{sim.url}/login/login.json", data=form) as resp:
            session_id = (await resp.json())["session_id"]
        body = {"session_id": session_id, "serial_num": "999999999999", "username": "a@b.c"}
        async with session.post(f"{sim.url}/tokens", json=body) as resp:
            assert resp.status == 403


async def test_token_expiry_and_revocation(envoy_simulator: StartSimulator) -> None:
    clock = FakeClock()
    sim = await envoy_simulator(token_lifetime=60, clock=clock)
    token = sim.issue_token()
    assert sim.cloud_calls == 0
    bearer = {"Authorization": f"Bearer {token}"}
    async with sim_session(sim) as session:
        async with session.get(f"{sim.url}/ivp/meters", headers=bearer) as resp:
            assert resp.status == 200
        clock.now += 61
        async with session.get(f"{sim.url}/ivp/meters", headers=bearer) as resp:
            assert resp.status == 401
        fresh = {"Authorization": f"Bearer {sim.issue_token()}"}
        async with session.get(f"{sim.url}/ivp/meters", headers=fresh) as resp:
            assert resp.status == 200
        sim.revoke_tokens()
        async with session.get(f"{sim.url}/ivp/meters", headers=fresh) as resp:
            assert resp.status == 401
        # /info stays open whatever happens to tokens.
        async with session.get(f"{sim.url}/info") as resp:
            assert resp.status == 200


async def test_request_log_names_the_digest_user(sim_legacy_envoy: EnvoySimulator) -> None:
    sim = sim_legacy_envoy
    installer = installer_password(sim.serial)
    assert await _status(sim, "/production.json", "envoy", sim.serial[-6:]) == 200
    assert await _status(sim, "/production.json", "installer", installer) == 200
    assert await _status(sim, "/production.json", "envoy", "wrong") == 401
    assert await _status(sim, "/info", "envoy", sim.serial[-6:]) == 200
    production = sim.requests.entries(path="/production.json")
    # Each client sends once without credentials (the challenge), then with its answer.
    assert [(e.status, e.user) for e in production] == [
        (401, None),
        (200, "envoy"),
        (401, None),
        (200, "installer"),
        (401, None),
        (401, None),
    ]
    assert production[1].to_json()["user"] == "envoy"
    assert [e.user for e in sim.requests.entries(path="/info")] == [None]


async def test_digest_password_changed_at_runtime(sim_legacy_envoy: EnvoySimulator) -> None:
    sim = sim_legacy_envoy
    installer = installer_password(sim.serial)
    assert await _status(sim, "/production.json", "installer", installer) == 200
    sim.digest.set_password("installer", "changed!")
    assert await _status(sim, "/production.json", "installer", installer) == 401
    assert await _status(sim, "/production.json", "installer", "changed!") == 200
    assert await _status(sim, "/production.json", "envoy", sim.serial[-6:]) == 200


async def test_ended_sessions_keep_tokens_valid_until_check_jwt(
    sim_token_envoy: EnvoySimulator,
) -> None:
    sim = sim_token_envoy
    token = sim.issue_token()
    bearer = {"Authorization": f"Bearer {token}"}
    async with sim_session(sim) as session:
        async with session.get(f"{sim.url}/auth/check_jwt", headers=bearer) as resp:
            old_cookie = {"Cookie": f"sessionId={resp.cookies['sessionId'].value}"}
        sim.end_sessions()
        later = {"Authorization": f"Bearer {sim.issue_token()}"}
        async with session.get(f"{sim.url}/ivp/meters", headers=bearer) as resp:
            assert resp.status == 401
        async with session.get(f"{sim.url}/ivp/meters", headers=old_cookie) as resp:
            assert resp.status == 401
        async with session.get(f"{sim.url}/ivp/meters", headers=later) as resp:
            assert resp.status == 200  # issued after the sessions ended: never needed a check
        async with session.get(f"{sim.url}/auth/check_jwt", headers=bearer) as resp:
            assert resp.status == 200  # the token itself is still good
            new_cookie = {"Cookie": f"sessionId={resp.cookies['sessionId'].value}"}
        async with session.get(f"{sim.url}/ivp/meters", headers=bearer) as resp:
            assert resp.status == 200
        async with session.get(f"{sim.url}/ivp/meters", headers=new_cookie) as resp:
            assert resp.status == 200
    assert sim.tokens.active_tokens == 2
    assert sim.enlighten.cloud_calls == 0
