"""EnvoyClient recovery rules: concurrent 401s, writes after a token loss, secrets in logs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.command_types import SetGridRelay
from envoy2mqtt.envoy.errors import EnvoyTimeoutError
from envoy2mqtt.envoy.transport import RetryBudget
from envoy2mqtt.simulator.faults import Fault, FaultKind
from tests.transport_helpers import (
    OWNER_PASSWORD,
    owner_client,
    sim_enlighten,
    timed_out_attempts,
)

PRODUCTION_PATH = "/production.json"  # where 8.3.5169 serves the production group
PRODUCTION_REQUEST = f"{PRODUCTION_PATH}?details=1"  # as the transport logs it


async def test_concurrent_polls_share_one_reauthentication(envoy_simulator) -> None:
    sim = await envoy_simulator(tls=False)
    client = owner_client(
        sim.url, login_url=f"{sim.url}/login/login.json", token_url=f"{sim.url}/tokens"
    )
    await client.setup()
    sim.revoke_tokens()
    results = await asyncio.gather(*(client.update(groups=["production"]) for _ in range(4)))
    await client.close()
    assert all(r.ok == {"production"} for r in results)
    assert sim.enlighten.token_calls == 2  # setup + one renewal, not one per poll


async def test_update_before_setup_is_a_programming_error() -> None:
    client = EnvoyClient("127.0.0.1:1")
    with pytest.raises(RuntimeError, match="setup"):
        await client.update()
    await client.close()


async def test_write_after_token_loss_is_sent_once_after_reauth(envoy_simulator) -> None:
    sim = await envoy_simulator("7.3.517", mode="golden")
    cloud = sim_enlighten(sim)
    client = owner_client(f"127.0.0.1:{sim.port}", enlighten=cloud)
    await client.setup()
    await client.update()
    sim.revoke_tokens()
    groups = (await client.execute(SetGridRelay(on_grid=False))).groups
    await client.close()
    await cloud.close()
    relay = sim.requests.entries(method="POST", path="/ivp/ensemble/relay")
    assert [w.status for w in relay] == [401, 200]  # refused, then applied exactly once
    assert groups


async def test_full_flow_never_logs_secrets(envoy_simulator, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    sim = await envoy_simulator("8.3.5169_with_generator", mode="golden")
    cloud = sim_enlighten(sim)
    client = owner_client(f"127.0.0.1:{sim.port}", token_cache_dir=tmp_path, enlighten=cloud)
    await client.setup()
    await client.update()
    sim.revoke_tokens()
    await client.update()
    await client.close()
    await cloud.close()
    tokens = [p.read_text() for p in tmp_path.iterdir()]
    assert tokens
    assert sim.cloud_calls >= 4  # two logins + two token requests really happened
    for secret in [*tokens, OWNER_PASSWORD]:
        assert secret not in caplog.text


async def test_per_poll_budget_overrides_the_default(envoy_simulator, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    sim = await envoy_simulator(tls=False)
    slow = RetryBudget(attempts=50, seconds=60.0, max_wait=0.01, multiplier=0.001)
    client = EnvoyClient(sim.url, token=sim.issue_token(), budget=slow, timeout=0.3)
    await client.setup()
    await sim.inject(Fault(FaultKind.TIMEOUT, path=PRODUCTION_PATH))  # hangs until the end
    before = len(sim.requests.entries(path=PRODUCTION_PATH))
    one_try = RetryBudget(attempts=1, seconds=1.0)
    result = await asyncio.wait_for(client.update(groups=["production"], budget=one_try), 10)
    await client.close()
    assert isinstance(result.failed["production"], EnvoyTimeoutError)
    assert timed_out_attempts(caplog, "GET", PRODUCTION_REQUEST) == 1  # not the default's 50
    assert len(sim.requests.entries(path=PRODUCTION_PATH)) <= before + 1


async def test_refresh_info_honours_its_budget(envoy_simulator, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    sim = await envoy_simulator(tls=False)
    client = EnvoyClient(
        sim.url,
        token=sim.issue_token(),
        info_budget=RetryBudget(attempts=50, seconds=60.0, max_wait=0.01, multiplier=0.001),
        timeout=0.3,
    )
    await client.setup()
    await sim.inject(Fault(FaultKind.TIMEOUT, path="/info"))  # hangs until the end
    before = len(sim.requests.entries(path="/info"))
    with pytest.raises(EnvoyTimeoutError):
        await asyncio.wait_for(client.refresh_info(budget=RetryBudget(2, 5.0, 0.01, 0.001)), 10)
    await client.close()
    assert timed_out_attempts(caplog, "GET", "/info") == 2  # the call's budget, not 50
    assert len(sim.requests.entries(path="/info")) <= before + 2
