"""HttpTransport against real sockets on 127.0.0.1: statuses, errors, retries, TLS, limits."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web

from envoy2mqtt.envoy.errors import (
    EnvoyAuthenticationRequired,
    EnvoyCommunicationError,
    EnvoyMalformedResponse,
    EnvoyTimeoutError,
)
from envoy2mqtt.envoy.transport import HttpTransport, RetryBudget, parse_host
from tests.plugins.fake_envoy_http import FakeEnvoy, free_port, timed_out_attempts

FAST = RetryBudget(attempts=3, seconds=10.0, max_wait=0.01, multiplier=0.001)


async def _transport(fake: FakeEnvoy, **kwargs: object) -> HttpTransport:
    return HttpTransport(f"http://{fake.base}", budget=FAST, **kwargs)  # type: ignore[arg-type]


async def test_get_returns_status_body_and_logs_one_line(fake_envoy, caplog) -> None:
    fake = await fake_envoy()
    fake.pages["/x?a=1"] = (200, b'{"ok": 1}', "application/json")
    transport = await _transport(fake)
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    fake.valid_tokens.add("tok")
    transport.auth = _Bearer("tok")
    response = await transport.request("GET", "/x?a=1")
    await transport.close()
    assert response.status == 200
    assert response.body == b'{"ok": 1}'
    assert response.content_type.startswith("application/json")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("http method")]
    assert len(lines) == 1
    assert "method=GET path=/x?a=1 status=200 ms=" in lines[0]


class _Bearer:
    def __init__(self, token: str) -> None:
        self.token = token
        self.cookies: dict[str, str] = {}

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def middlewares(self) -> tuple[()]:
        return ()

    def remember_cookies(self, cookies: dict[str, str]) -> None:
        self.cookies.update(cookies)


async def test_5xx_is_returned_not_retried(fake_envoy) -> None:
    fake = await fake_envoy()
    fake.handlers["/busy"] = _status(503)
    transport = await _transport(fake)
    response = await transport.request("GET", "/busy")
    await transport.close()
    assert response.status == 503
    assert fake.paths().count("/busy") == 1


def _status(code: int, **headers: str):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=code, headers=headers, text="x")

    return handler


@pytest.mark.parametrize("code", [401, 403])
async def test_401_403_raise_auth_required_without_retry(fake_envoy, code) -> None:
    fake = await fake_envoy()
    fake.handlers["/secret"] = _status(code)
    transport = await _transport(fake)
    with pytest.raises(EnvoyAuthenticationRequired) as info:
        await transport.request("GET", "/secret")
    await transport.close()
    assert info.value.status == code
    assert fake.paths().count("/secret") == 1


async def test_redirect_is_not_followed(fake_envoy) -> None:
    fake = await fake_envoy()
    fake.handlers["/old"] = _status(302, Location="/info")
    transport = await _transport(fake)
    response = await transport.request("GET", "/old")
    await transport.close()
    assert response.status == 302
    assert "/info" not in fake.paths()


async def test_timeout_raises_timeout_error_after_budget(fake_envoy, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    fake = await fake_envoy()
    fake.handlers["/slow"] = fake.hang
    transport = HttpTransport(fake.base, budget=FAST, timeout=0.2)
    transport.scheme = "http"
    with pytest.raises(EnvoyTimeoutError) as info:
        await transport.request("GET", "/slow")
    await transport.close()
    assert timed_out_attempts(caplog, "GET", "/slow") == FAST.attempts
    assert fake.paths().count("/slow") <= FAST.attempts  # never more requests than attempts
    assert "timeout" in str(info.value)


async def test_post_is_not_retried_after_a_timeout(fake_envoy, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="envoy2mqtt.envoy.transport")
    fake = await fake_envoy()
    fake.handlers["/write"] = fake.hang
    transport = HttpTransport(f"http://{fake.base}", budget=FAST, timeout=0.2)
    with pytest.raises(EnvoyTimeoutError):
        await transport.request("POST", "/write", body=b"{}")
    await transport.close()
    assert timed_out_attempts(caplog, "POST", "/write") == 1
    assert fake.paths().count("/write") <= 1


async def test_connection_refused_is_a_communication_error() -> None:
    transport = HttpTransport(f"http://127.0.0.1:{free_port()}", budget=FAST)
    with pytest.raises(EnvoyCommunicationError) as info:
        await transport.request("GET", "/info")
    await transport.close()
    assert not isinstance(info.value, EnvoyTimeoutError)
    assert "127.0.0.1" in str(info.value)


async def test_transient_failure_is_retried_then_succeeds(fake_envoy) -> None:
    fake = await fake_envoy()
    calls = {"n": 0}

    async def flaky(request: web.Request) -> web.StreamResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            assert request.transport is not None
            request.transport.close()  # drop the connection without an answer
            return web.Response(status=500)
        return web.Response(text="fine")

    fake.handlers["/flaky"] = flaky
    transport = await _transport(fake)
    response = await transport.request("GET", "/flaky")
    await transport.close()
    assert response.body == b"fine"
    assert calls["n"] == 2


async def test_oversized_body_is_refused(fake_envoy) -> None:
    fake = await fake_envoy()

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to check up front
        await response.prepare(request)
        for _ in range(8):
            await response.write(b"x" * 1024)
        await response.write_eof()
        return response

    fake.handlers["/big"] = big
    transport = HttpTransport(f"http://{fake.base}", budget=FAST, max_body=4096)
    with pytest.raises(EnvoyMalformedResponse) as info:
        await transport.request("GET", "/big")
    await transport.close()
    assert "4096" in str(info.value)
    assert fake.paths().count("/big") == 1


async def test_oversized_content_length_refused_before_reading(fake_envoy) -> None:
    fake = await fake_envoy()
    fake.handlers["/big"] = lambda _r: _async(web.Response(body=b"y" * 10_000))
    transport = HttpTransport(f"http://{fake.base}", budget=FAST, max_body=100)
    with pytest.raises(EnvoyMalformedResponse):
        await transport.request("GET", "/big")
    await transport.close()


async def _async(value: web.Response) -> web.Response:
    return value


async def test_self_signed_https_is_accepted(fake_envoy) -> None:
    fake = await fake_envoy(tls=True)
    transport = HttpTransport(fake.base, budget=FAST)  # https is the default scheme
    response = await transport.request("GET", "/info")
    await transport.close()
    assert response.status == 200
    assert b"<envoy_info>" in response.body


async def test_keep_alive_reuses_the_connection(fake_envoy) -> None:
    fake = await fake_envoy()
    transport = await _transport(fake)
    for _ in range(3):
        await transport.request("GET", "/info")
    await transport.close()
    assert len({seen.peer_port for seen in fake.requests}) == 1


async def test_injected_session_is_used_and_left_open(fake_envoy) -> None:
    fake = await fake_envoy()
    async with aiohttp.ClientSession() as session:
        transport = HttpTransport(f"http://{fake.base}", session=session, budget=FAST)
        response = await transport.request("GET", "/info")
        await transport.close()
        assert response.status == 200
        assert not session.closed


async def test_cookies_are_handed_to_auth_and_secret_headers_not_logged(fake_envoy, caplog) -> None:
    fake = await fake_envoy()
    token = fake.issue()
    transport = await _transport(fake)
    auth = _Bearer(token)
    transport.auth = auth
    caplog.set_level(logging.DEBUG)
    response = await transport.request("GET", "/auth/check_jwt")
    await transport.close()
    assert response.status == 200
    assert set(auth.cookies) == {"sessionId"}
    assert fake.requests[-1].headers["Authorization"] == f"Bearer {token}"
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
