"""Token expiry warnings: a week and a day before ``exp``, once per threshold per token.

The lifetime is read from the token, never assumed: the simulator mints ~6-month owner
tokens (as Enlighten has been seen to), 12 h installer tokens and others with a chosen
``exp``; the client polls over real HTTPS with a clock the test moves.
"""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from envoy2mqtt.envoy.auth.expiry import DAY, ExpiryWarnings
from envoy2mqtt.envoy.auth.jwt_info import decode_token
from envoy2mqtt.envoy.client import EnvoyClient
from tests.plugins.simulator import FakeClock, StartSimulator
from tests.transport_helpers import FAST, owner_client, sim_enlighten

FIXTURE = "8.3.5169_with_generator"
SIX_MONTHS = 182 * DAY
LOGGER = "envoy2mqtt.envoy.auth.expiry"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


async def _polls(client: EnvoyClient, count: int = 3) -> None:
    for _ in range(count):
        result = await client.update(groups=["production"])
        assert "production" in result.ok


async def test_six_month_token_warns_a_week_and_a_day_before_its_exp(
    envoy_simulator: StartSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(time.time())
    sim = await envoy_simulator(FIXTURE, clock=clock, token_lifetime=SIX_MONTHS)
    token = sim.issue_token()
    expires = decode_token(token).expires_at
    assert expires is not None
    client = EnvoyClient(sim.url, token=token, clock=clock, budget=FAST, info_budget=FAST)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    try:
        await client.setup()
        await _polls(client)
        # Half a year before "one year" would be due: a year-assuming rule stays silent here.
        clock.now = expires - 8 * DAY
        await _polls(client)
        assert _warnings(caplog) == []
        clock.now = expires - 7 * DAY + 60
        await _polls(client)
        assert len(_warnings(caplog)) == 1
        assert "threshold=7d" in _warnings(caplog)[0]
        assert "remaining=6d23h" in _warnings(caplog)[0]
        clock.now = expires - DAY + 60
        await _polls(client)
    finally:
        await client.close()
    messages = _warnings(caplog)
    assert len(messages) == 2
    assert "threshold=1d" in messages[1]
    assert f"serial={sim.serial}" in messages[1]
    assert token not in caplog.text


async def test_token_first_seen_within_a_day_gets_one_warning(
    envoy_simulator: StartSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await envoy_simulator(FIXTURE)
    token = sim.issue_token(user_type="installer")  # lives 12 h
    client = EnvoyClient(sim.url, token=token, budget=FAST, info_budget=FAST)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    try:
        await client.setup()
        await _polls(client)
    finally:
        await client.close()
    [message] = _warnings(caplog)
    assert "threshold=1d" in message
    assert "remaining=11h59m" in message or "remaining=12h0m" in message


async def test_renewable_token_is_not_announced(
    envoy_simulator: StartSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    # With Enlighten credentials the bridge renews the token itself (3 days ahead); a
    # failing renewal has its own warning.
    clock = FakeClock(time.time())
    sim = await envoy_simulator(FIXTURE, clock=clock, token_lifetime=10 * DAY)
    cloud = sim_enlighten(sim)
    client = owner_client(sim.url, enlighten=cloud, clock=clock)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    try:
        await client.setup()
        clock.now += 5 * DAY
        await _polls(client)
    finally:
        await client.close()
        await cloud.close()
    assert _warnings(caplog) == []


def _minted(expires_in: float, issued: float = 1_800_000_000.0) -> str:
    claims = {"aud": "122334455667", "iat": int(issued), "exp": int(issued + expires_in)}
    return jwt.encode(claims, "not-the-envoy-key-" * 2, algorithm="HS256")


def test_each_token_gets_its_own_warnings(caplog: pytest.LogCaptureFixture) -> None:
    warnings = ExpiryWarnings("122334455667")
    first = decode_token(_minted(30 * DAY))
    renewed = decode_token(_minted(60 * DAY))
    assert first.expires_at is not None
    assert renewed.expires_at is not None
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert warnings.check(first, first.expires_at - 6 * DAY)
    assert not warnings.check(first, first.expires_at - 5 * DAY)
    assert not warnings.check(first, first.expires_at + 1)  # expired: auth errors say so
    assert warnings.check(renewed, renewed.expires_at - 7 * DAY)
    assert warnings.check(renewed, renewed.expires_at - 3600)
    assert not warnings.check(decode_token(_minted(-DAY)), 1_800_000_000.0)
    assert len(_warnings(caplog)) == 3


def test_token_without_exp_is_never_announced() -> None:
    token = jwt.encode({"aud": "122334455667"}, "k" * 32, algorithm="HS256")
    assert not ExpiryWarnings("122334455667").check(decode_token(token), time.time())
