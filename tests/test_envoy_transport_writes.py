"""Writes are sent exactly once: a dropped connection fails the write instead of repeating it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from envoy2mqtt.envoy.errors import EnvoyCommunicationError
from envoy2mqtt.envoy.transport import HttpTransport, RetryBudget
from tests.plugins.fake_envoy_http import FakeEnvoy

# Generous attempts and no real backoff: any retry would show up as a second request.
FAST = RetryBudget(attempts=4, seconds=10.0, max_wait=0.01, multiplier=0.001)
PATH = "/ivp/ss/dry_contact_settings"
StartFake = Callable[..., Awaitable[FakeEnvoy]]


def _drop_first(fake: FakeEnvoy) -> None:
    """Serve ``PATH``: the first connection is closed without an answer, later ones get 200."""
    calls = {"n": 0}

    async def flaky(request: web.Request) -> web.StreamResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        return web.json_response({"ok": True})

    fake.handlers[PATH] = flaky


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_write_is_sent_once_when_the_connection_drops(
    fake_envoy: StartFake, method: str
) -> None:
    fake = await fake_envoy()
    _drop_first(fake)
    transport = HttpTransport(f"http://{fake.base}", budget=FAST)
    with pytest.raises(EnvoyCommunicationError) as caught:
        await transport.request(method, PATH, body=b'{"dry_contacts": {}}')
    await transport.close()
    assert [(seen.method, seen.path) for seen in fake.requests] == [(method, PATH)]
    assert str(caught.value) == (
        f"{method} http://{fake.base}{PATH} failed: connection lost during {method}: "
        "the server closed the connection without answering"
    )


async def test_read_on_the_same_server_is_retried(fake_envoy: StartFake) -> None:
    # Control case: the same dropped connection on a GET is retried and succeeds.
    fake = await fake_envoy()
    _drop_first(fake)
    transport = HttpTransport(f"http://{fake.base}", budget=FAST)
    response = await transport.request("GET", PATH)
    await transport.close()
    assert response.status == 200
    assert [seen.method for seen in fake.requests] == ["GET", "GET"]
