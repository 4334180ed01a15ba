"""HttpTransport against real sockets on 127.0.0.1: statuses, errors, retries, TLS, limits.

The simulator is the Envoy; its faults make the 5xx, the hang, the dropped connection and
the oversized body. The few replies no Envoy sends on purpose (a redirect, a 403, a chunked
body without a length) and the connection check come from a bare ``raw_http`` handler.
"""

from __future__ import annotations

import logging

import aiohttp
import msgspec
import pytest
from aiohttp import web

from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationRequired,
    EnvoyCommunicationError,
    EnvoyMalformedResponse,
    EnvoyTimeoutError,
)
from envoy2mqtt.envoy.transport import HttpTransport, RetryBudget, parse_host
from envoy2mqtt.simulator.faults import Fault, FaultKind
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.plugins.mosquitto import free_port
from tests.plugins.raw_http import StartRaw
from tests.plugins.simulator import StartSimulator
from tests.transport_helpers import BearerAuth, timed_out_attempts

FAST = RetryBudget(attempts=3, seconds=10.0, max_wait=0.01, multiplier=0.001)
DETAILS = "/production.json?details=1"


async def _plain_sim(envoy_simulator: StartSimulator) -> EnvoySimulator:
    """A token-firmware simulator over plain HTTP."""
    return await envoy_simulator(tls=False)


def _authorized(sim: EnvoySimulator, **kwargs: object) -> HttpTransport:
    transport = HttpTransport(sim.url, budget=FAST, **kwargs)  # type: ignore[arg-type]
    transport.auth = BearerAuth(sim.issue_token())
    return transport


def _count(sim: EnvoySimulator, path: str) -> int:
    return len(sim.requests.entries(path=path))


async def test_get_returns_status_body_and_logs_one_line(envoy_simulator, caplog) -> None:
    sim = await _plain_sim(envoy_simulator)
    transport = _authorized(sim)
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    response = await transport.request("GET", DETAILS)
    await transport.close()
    assert response.status == 200
    assert msgspec.json.decode(response.body) == sim.document(DETAILS)
    assert response.content_type.startswith("application/json")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("http method")]
    assert len(lines) == 1
    assert f"method=GET path={DETAILS} status=200 ms=" in lines[0]


async def test_5xx_is_returned_not_retried(envoy_simulator) -> None:
    sim = await _plain_sim(envoy_simulator)
    await sim.inject(Fault(FaultKind.ERROR, path="/production.json*", count=1))
    transport = _authorized(sim)
    response = await transport.request("GET", DETAILS)
    await transport.close()
    assert response.status == 503
    assert _count(sim, "/production.json") == 1


async def test_401_raises_auth_required_without_retry(envoy_simulator) -> None:
    sim = await _plain_sim(envoy_simulator)
    transport = HttpTransport(sim.url, budget=FAST)  # no token: the Envoy answers 401
    with pytest.raises(EnvoyAuthenticationRequired) as info:
        await transport.request("GET", DETAILS)
    await transport.close()
    assert info.value.status == 401
    assert _count(sim, "/production.json") == 1


def _status(code: int, seen: list[str], **headers: str):
    async def handler(request: web.BaseRequest) -> web.Response:
        seen.append(request.path)
        return web.Response(status=code, headers=headers, text="x")

    return handler


async def test_403_raises_auth_required_without_retry(raw_http: StartRaw) -> None:
    seen: list[str] = []
    transport = HttpTransport(await raw_http(_status(403, seen)), budget=FAST)
    with pytest.raises(EnvoyAuthenticationRequired) as info:
        await transport.request("GET", "/secret")
    await transport.close()
    assert info.value.status == 403
    assert seen == ["/secret"]


async def test_redirect_is_not_followed(raw_http: StartRaw) -> None:
    seen: list[str] = []
    transport = HttpTransport(await raw_http(_status(302, seen, Location="/info")), budget=FAST)
    response = await transport.request("GET", "/old")
    await transport.close()
    assert response.status == 302
    assert seen == ["/old"]  # /info never asked for


async def test_timeout_raises_timeout_error_after_budget(envoy_simulator, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    sim = await _plain_sim(envoy_simulator)
    await sim.inject(Fault(FaultKind.TIMEOUT, path="/slow"))  # hangs until the test ends
    transport = HttpTransport(f"127.0.0.1:{sim.port}", budget=FAST, timeout=0.2)
    transport.scheme = "http"
    with pytest.raises(EnvoyTimeoutError) as info:
        await transport.request("GET", "/slow")
    await transport.close()
    assert timed_out_attempts(caplog, "GET", "/slow") == FAST.attempts
    assert _count(sim, "/slow") <= FAST.attempts  # never more requests than attempts
    assert "timeout" in str(info.value)


async def test_post_is_not_retried_after_a_timeout(envoy_simulator, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    sim = await _plain_sim(envoy_simulator)
    await sim.inject(Fault(FaultKind.TIMEOUT, path="/write"))
    transport = HttpTransport(sim.url, budget=FAST, timeout=0.2)
    with pytest.raises(EnvoyTimeoutError):
        await transport.request("POST", "/write", body=b"{}")
    await transport.close()
    assert timed_out_attempts(caplog, "POST", "/write") == 1
    assert _count(sim, "/write") <= 1


async def test_connection_refused_is_a_communication_error() -> None:
    transport = HttpTransport(f"http://127.0.0.1:{free_port()}", budget=FAST)
    with pytest.raises(EnvoyCommunicationError) as info:
        await transport.request("GET", "/info")
    await transport.close()
    assert not isinstance(info.value, EnvoyTimeoutError)
    assert "127.0.0.1" in str(info.value)


async def test_transient_failure_is_retried_then_succeeds(envoy_simulator) -> None:
    sim = await _plain_sim(envoy_simulator)
    await sim.inject(Fault(FaultKind.OUTAGE, path="/info", count=1))  # dropped, no answer
    transport = HttpTransport(sim.url, budget=FAST)
    response = await transport.request("GET", "/info")
    await transport.close()
    assert sim.serial.encode() in response.body
    assert [e.status for e in sim.requests.entries(path="/info")] == [0, 200]


async def test_oversized_body_is_refused(raw_http: StartRaw) -> None:
    seen: list[str] = []

    async def big(request: web.BaseRequest) -> web.StreamResponse:
        seen.append(request.path)
        response = web.StreamResponse()  # chunked: no Content-Length to check up front
        await response.prepare(request)
        for _ in range(8):
            await response.write(b"x" * 1024)
        await response.write_eof()
        return response

    transport = HttpTransport(await raw_http(big), budget=FAST, max_body=4096)
    with pytest.raises(EnvoyMalformedResponse) as info:
        await transport.request("GET", "/big")
    await transport.close()
    assert "body exceeds the 4096 byte limit" in str(info.value)  # found while reading
    assert seen == ["/big"]


async def test_oversized_content_length_refused_before_reading(envoy_simulator) -> None:
    sim = await _plain_sim(envoy_simulator)
    await sim.inject(Fault(FaultKind.HUGE, path="/production.json*", size=10_000))
    transport = _authorized(sim, max_body=100)
    with pytest.raises(EnvoyMalformedResponse) as info:
        await transport.request("GET", DETAILS)
    await transport.close()
    assert "body of 10000 bytes exceeds the 100 limit" in str(info.value)
    assert _count(sim, "/production.json") == 1


async def test_self_signed_https_is_accepted(sim_token_envoy: EnvoySimulator) -> None:
    sim = sim_token_envoy  # HTTPS with its own self-signed certificate
    transport = HttpTransport(f"127.0.0.1:{sim.port}", budget=FAST)  # https by default
    response = await transport.request("GET", "/info")
    await transport.close()
    assert response.status == 200
    assert b"<envoy_info>" in response.body


async def test_keep_alive_reuses_the_connection(raw_http: StartRaw) -> None:
    peers: list[int] = []

    async def answer(request: web.BaseRequest) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.Response(text="ok")

    transport = HttpTransport(await raw_http(answer), budget=FAST)
    for _ in range(3):
        await transport.request("GET", "/info")
    await transport.close()
    assert len(peers) == 3
    assert len(set(peers)) == 1


async def test_injected_session_is_used_and_left_open(envoy_simulator) -> None:
    sim = await _plain_sim(envoy_simulator)
    async with aiohttp.ClientSession() as session:
        transport = HttpTransport(sim.url, session=session, budget=FAST)
        response = await transport.request("GET", "/info")
        await transport.close()
        assert response.status == 200
        assert not session.closed
    assert _count(sim, "/info") == 1


async def test_cookies_are_handed_to_auth_and_secret_headers_not_logged(
    envoy_simulator, caplog
) -> None:
    sim = await _plain_sim(envoy_simulator)
    token = sim.issue_token()
    transport = HttpTransport(sim.url, budget=FAST)
    auth = BearerAuth(token)
    transport.auth = auth
    caplog.set_level(logging.DEBUG)
    response = await transport.request("GET", "/auth/check_jwt")
    await transport.close()
    assert response.status == 200  # the simulator accepted the bearer token it was sent
    assert set(auth.cookies) == {"sessionId"}
    assert token not in caplog.text
    assert auth.cookies["sessionId"] not in caplog.text


@pytest.mark.parametrize(
    ("host", "scheme", "authority"),
    [
        ("envoy.local", None, "envoy.local"),
        ("127.0.0.1:8443", None, "127.0.0.1:8443"),
        ("https://10.0.0.5/", "https", "10.0.0.5"),
        ("HTTP://10.0.0.5:80", "http", "10.0.0.5:80"),
        (" [::1]:443 ", None, "[::1]:443"),
    ],
)
def test_parse_host_accepts(host, scheme, authority) -> None:
    parsed = parse_host(host)
    assert (parsed.scheme, parsed.authority) == (scheme, authority)


@pytest.mark.parametrize(
    "host", ["", "   ", "ftp://x", "envoy.local/path", "user:pw@envoy", "x?y=1", "http://"]
)
def test_parse_host_rejects(host) -> None:
    with pytest.raises(ValueError, match="invalid envoy host"):
        parse_host(host)
