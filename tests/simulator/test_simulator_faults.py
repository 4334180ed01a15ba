"""Every fault kind, reboot, live values and the HTTP control API, seen by a plain client."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import aiohttp
import pytest

from envoy2mqtt.simulator.faults import Fault, FaultKind
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.simulator import FIXTURES_DIR, FakeClock, StartSimulator, sim_session


def _bearer(sim: EnvoySimulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.issue_token()}"}


async def _get(sim: EnvoySimulator, path: str, **kwargs: Any) -> tuple[int, bytes]:
    headers = kwargs.pop("headers", None) or _bearer(sim)
    async with (
        sim_session(sim) as session,
        session.get(f"{sim.url}{path}", headers=headers, **kwargs) as resp,
    ):
        return resp.status, await resp.read()


def _counters(doc: Any) -> list[float]:
    return [e["whLifetime"] for e in doc["production"] + doc["consumption"]]


async def test_error_fault_with_count_and_glob(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    await sim.inject(Fault(FaultKind.ERROR, path="/production.json*", count=2, status=502))
    assert (await _get(sim, "/ivp/meters"))[0] == 200  # other paths unaffected
    assert (await _get(sim, "/production.json?details=1"))[0] == 502
    assert (await _get(sim, "/production.json"))[0] == 502
    assert (await _get(sim, "/production.json"))[0] == 200


async def test_latency_holds_the_answer_until_cleared(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    await sim.inject(Fault(FaultKind.LATENCY, path="/ivp/meters", seconds=60))
    request = asyncio.create_task(_get(sim, "/ivp/meters"))
    entry = await sim.requests.wait_for(lambda e: e.path == "/ivp/meters")
    assert entry.status is None
    assert not request.done()
    sim.clear_faults()
    assert (await asyncio.wait_for(request, 5))[0] == 200


async def test_timeout_hangs_until_client_gives_up(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    await sim.inject(Fault(FaultKind.TIMEOUT, path="/production.json"))
    with pytest.raises(TimeoutError):
        await _get(sim, "/production.json", timeout=aiohttp.ClientTimeout(total=0.3))
    # The hung handler ends because the client went away, not because anything was cleared.
    await sim.requests.wait_for(lambda e: e.path == "/production.json" and e.status == 0)
    assert [f.kind for f in sim.faults.active(sim.clock())] == [FaultKind.TIMEOUT]
    sim.clear_faults()
    assert (await _get(sim, "/production.json"))[0] == 200


async def test_unauthorized_fault_revokes_tokens(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    headers = _bearer(sim)
    assert (await _get(sim, "/ivp/meters", headers=headers))[0] == 200
    await sim.inject(Fault(FaultKind.UNAUTHORIZED, path="/ivp/meters", count=1))
    assert (await _get(sim, "/ivp/meters"))[0] == 401  # even a fresh token, once
    assert (await _get(sim, "/ivp/meters", headers=headers))[0] == 401  # old token revoked
    assert (await _get(sim, "/ivp/meters"))[0] == 200


@pytest.mark.parametrize("kind", [FaultKind.GARBAGE, FaultKind.TRUNCATED, FaultKind.WRONG_TYPE])
async def test_malformed_bodies(sim_token_envoy: EnvoySimulator, kind: FaultKind) -> None:
    sim = sim_token_envoy
    _, good = await _get(sim, "/ivp/meters")
    await sim.inject(Fault(kind, path="/ivp/meters", count=1))
    status, body = await _get(sim, "/ivp/meters")
    assert status == 200
    assert body != good
    if kind is FaultKind.WRONG_TYPE:
        assert type(json.loads(body)) is not type(json.loads(good))
    else:
        with pytest.raises(ValueError):
            json.loads(body)
    if kind is FaultKind.TRUNCATED:
        assert good.startswith(body)


async def test_huge_body(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    await sim.inject(Fault(FaultKind.HUGE, path="/ivp/meters", count=1, size=3_000_000))
    status, body = await _get(sim, "/ivp/meters")
    assert status == 200
    assert len(body) == 3_000_000


async def test_outage_drops_device_requests_until_it_ends(envoy_simulator: StartSimulator) -> None:
    clock = FakeClock()
    sim = await envoy_simulator(clock=clock)
    await sim.inject(Fault(FaultKind.OUTAGE, seconds=600))
    with pytest.raises(aiohttp.ClientError):
        await _get(sim, "/info")
    form = {"user[email]": "owner@example.com", "user[password]": "owner-password"}
    async with sim_session(sim) as session:
        async with session.post(f"{sim.url}/login/login.json", data=form) as resp:
            assert resp.status == 200  # the cloud is not the Envoy
        async with session.get(f"{sim.url}/__sim__/status") as resp:
            assert resp.status == 200
    clock.now += 601
    assert (await _get(sim, "/info"))[0] == 200


async def test_refused_then_resume_on_same_port(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    port = sim.port
    async with sim_session(sim) as session:
        await sim.inject(Fault(FaultKind.REFUSED))
        assert not sim.listening
        with pytest.raises(aiohttp.ClientConnectorError):
            await session.get(f"{sim.url}/info")
        await sim.resume_listening()
        assert sim.port == port
        async with session.get(f"{sim.url}/info") as resp:
            assert resp.status == 200


async def test_reboot_resets_counters_revokes_tokens_new_firmware(
    sim_token_envoy: EnvoySimulator,
) -> None:
    sim = sim_token_envoy
    headers = _bearer(sim)
    _, before = await _get(sim, "/production.json", headers=headers)
    assert any(_counters(json.loads(before)))
    await sim.inject(Fault(FaultKind.REBOOT, firmware="8.3.9999"))
    assert (await _get(sim, "/production.json", headers=headers))[0] == 401
    _, after = await _get(sim, "/production.json")
    assert _counters(json.loads(after)) == [0] * len(_counters(json.loads(before)))
    _, info = await _get(sim, "/info")
    assert b"<software>D8.3.9999</software>" in info


async def test_reboot_into_token_firmware_switches_to_https(
    envoy_simulator: StartSimulator,
) -> None:
    sim = await envoy_simulator("5.0.62")
    port = sim.port
    assert sim.url.startswith("http://")
    await sim.reboot(firmware="7.6.175")
    assert sim.url == f"https://127.0.0.1:{port}"
    assert (await _get(sim, "/ivp/meters"))[0] == 200  # with a bearer token now


async def test_live_values_move_deterministically_counters_grow(
    envoy_simulator: StartSimulator,
) -> None:
    one = await envoy_simulator(live_seed=7)
    two = await envoy_simulator(live_seed=7)
    docs: list[list[Any]] = [[], []]
    for index, sim in enumerate((one, two)):
        for _ in range(4):
            docs[index].append(json.loads((await _get(sim, "/production.json"))[1]))
    assert docs[0] == docs[1]
    watts = [d["production"][0]["wNow"] for d in docs[0]]
    assert len(set(watts)) > 1
    lifetimes = [_counters(d) for d in docs[0]]
    for earlier, later in itertools.pairwise(lifetimes):
        assert all(b >= a for a, b in zip(earlier, later, strict=True))
    assert lifetimes[-1] != lifetimes[0]


async def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="status"):
        Fault(FaultKind.ERROR, status=200)
    with pytest.raises(ValueError, match="kind"):
        Fault.from_json({"kind": "meteor"})
    with pytest.raises(ValueError, match="unknown fault fields"):
        Fault.from_json({"kind": "error", "colour": "red"})
    with pytest.raises(ValueError, match="count"):
        Fault.from_json({"kind": "error", "count": 0})


async def test_http_control_api(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    base = f"{sim.url}/__sim__"
    async with sim_session(sim) as session:
        fault = {"kind": "error", "path": "/production.json*", "status": 500}
        async with session.post(f"{base}/faults", json=fault) as resp:
            assert resp.status == 201
            fault_id = (await resp.json())["id"]
        async with session.get(f"{base}/faults") as resp:
            assert [f["id"] for f in await resp.json()] == [fault_id]
        async with session.post(f"{base}/tokens", json={}) as resp:
            token = (await resp.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{sim.url}/production.json", headers=headers) as resp:
            assert resp.status == 500
        async with session.delete(f"{base}/faults") as resp:
            assert resp.status == 200
        async with session.get(f"{sim.url}/production.json", headers=headers) as resp:
            assert resp.status == 200
        async with session.get(f"{base}/requests") as resp:
            log = await resp.json()
        assert [(e["path"], e["status"]) for e in log] == [
            ("/production.json", 500),
            ("/production.json", 200),
        ]
        for bad in ({"kind": "meteor"}, {"kind": "refused"}, [1]):
            async with session.post(f"{base}/faults", json=bad) as resp:
                assert resp.status == 400
        async with session.post(f"{base}/faults", data=b"{oops") as resp:
            assert resp.status == 400
        async with session.post(f"{base}/reboot", json={"firmware": "8.9.1"}) as resp:
            assert (await resp.json())["firmware"] == "8.9.1"
        async with session.get(f"{sim.url}/production.json", headers=headers) as resp:
            assert resp.status == 401
        async with session.get(f"{base}/document", params={"path": "/ivp/ss/gen_mode"}) as resp:
            assert await resp.json() == json.loads(
                (FIXTURES_DIR / "8.3.5169_with_generator" / "ivp_ss_gen_mode").read_bytes()
            )
        async with session.post(f"{base}/live", json={"seed": 3}) as resp:
            assert (await resp.json())["live"] is True
        async with session.delete(f"{base}/requests") as resp:
            assert resp.status == 200
        async with session.get(f"{base}/status") as resp:
            status = await resp.json()
    assert status["live"] is True
    assert status["requests"] == 0
    assert status["serial"] == sim.serial


async def test_refused_over_http_resumes_by_itself(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy
    async with sim_session(sim) as session:
        fault = {"kind": "refused", "seconds": 0.2}
        async with session.post(f"{sim.url}/__sim__/faults", json=fault) as resp:
            assert resp.status == 201
    assert not sim.listening
    with pytest.raises(aiohttp.ClientConnectorError):
        await _get(sim, "/info")
    await asyncio.wait_for(sim.wait_scheduled(), 5)
    assert sim.listening
    assert (await _get(sim, "/info"))[0] == 200
