"""Legacy digest auth (FW < 7): default passwords and digest over a real socket."""

from __future__ import annotations

import pytest

from envoy2mqtt.envoy.auth.errors import DigestCredentialsRejected
from envoy2mqtt.envoy.auth.legacy import DigestAuth, installer_password, legacy_credentials
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.errors import EnvoyAuthenticationRequired
from envoy2mqtt.envoy.transport import HttpTransport, RetryBudget
from envoy2mqtt.simulator.passwords import installer_password as simulator_installer_password
from tests.plugins.fake_envoy_http import PRODUCTION_PATH, FakeCollector, production_page

SERIAL = "122112123456"
FAST = RetryBudget(attempts=2, seconds=5.0, max_wait=0.01, multiplier=0.001)


def test_installer_password_test_vector() -> None:
    assert installer_password(SERIAL) == "d525d2jh"


@pytest.mark.parametrize("serial", ["123456789012", "000000000001", "999999999999", "1"])
def test_installer_password_agrees_with_the_simulator(serial) -> None:
    password = installer_password(serial)
    assert len(password) == 8
    assert password == simulator_installer_password(serial)


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        (None, None, ("installer", "d525d2jh")),
        ("", "ignored", ("installer", "d525d2jh")),
        ("installer", "ignored", ("installer", "d525d2jh")),
        ("envoy", None, ("envoy", "123456")),
        ("envoy", "", ("envoy", "123456")),
        ("envoy", "custom", ("envoy", "custom")),
        ("someone", "pw", ("someone", "pw")),
        ("someone", None, ("someone", "")),
    ],
)
def test_legacy_credentials(username, password, expected) -> None:
    assert legacy_credentials(SERIAL, username, password) == expected


async def _legacy_fake(fake_envoy):
    fake = await fake_envoy(
        firmware="D5.0.62",
        serial=SERIAL,
        digest_users={"installer": "d525d2jh", "envoy": "123456"},
    )
    fake.pages[PRODUCTION_PATH] = production_page(321)
    return fake


@pytest.mark.parametrize(("user", "password"), [(None, None), ("envoy", None)])
async def test_digest_with_right_password(fake_envoy, user, password) -> None:
    fake = await _legacy_fake(fake_envoy)
    transport = HttpTransport(
        f"http://{fake.base}", budget=FAST, auth=DigestAuth(SERIAL, user, password)
    )
    first = await transport.request("GET", PRODUCTION_PATH)
    second = await transport.request("GET", PRODUCTION_PATH)
    await transport.close()
    assert (first.status, second.status) == (200, 200)
    authorised = [
        r for r in fake.requests if r.headers.get("Authorization", "").startswith("Digest")
    ]
    assert len(authorised) >= 2
    assert f'username="{user or "installer"}"' in authorised[-1].headers["Authorization"]


async def test_digest_with_wrong_password_is_refused(fake_envoy) -> None:
    fake = await _legacy_fake(fake_envoy)
    transport = HttpTransport(
        f"http://{fake.base}", budget=FAST, auth=DigestAuth(SERIAL, "envoy", "wrong")
    )
    with pytest.raises(EnvoyAuthenticationRequired):
        await transport.request("GET", PRODUCTION_PATH)
    await transport.close()


async def test_client_uses_digest_and_reads_data(fake_envoy) -> None:
    fake = await _legacy_fake(fake_envoy)
    client = EnvoyClient(fake.base, collector_factory=FakeCollector, budget=FAST, info_budget=FAST)
    await client.setup()
    result = await client.update()
    await client.close()
    assert client.auth_mode == "digest"
    assert client.token_expires_at is None
    assert client.transport.scheme == "http"  # no HTTPS on this fake: fell back
    assert result.ok == {"production"}
    assert result.data.system_production is not None
    assert result.data.system_production.watts_now == 321


async def test_client_with_wrong_password_gives_clear_error(fake_envoy, caplog) -> None:
    fake = await _legacy_fake(fake_envoy)
    client = EnvoyClient(
        f"http://{fake.base}",
        username="envoy",
        password="wrong-secret-pw",
        collector_factory=FakeCollector,
        budget=FAST,
        info_budget=FAST,
    )
    with pytest.raises(DigestCredentialsRejected, match="digest credentials of user envoy") as info:
        await client.setup()
    await client.close()
    assert "wrong-secret-pw" not in str(info.value)
    assert "wrong-secret-pw" not in caplog.text


async def test_password_change_mid_run_fails_the_poll_clearly(fake_envoy) -> None:
    fake = await _legacy_fake(fake_envoy)
    client = EnvoyClient(
        f"http://{fake.base}", collector_factory=FakeCollector, budget=FAST, info_budget=FAST
    )
    await client.setup()
    assert fake.digest_users is not None
    fake.digest_users["installer"] = "changed!"
    with pytest.raises(DigestCredentialsRejected):
        await client.update()
    await client.close()
