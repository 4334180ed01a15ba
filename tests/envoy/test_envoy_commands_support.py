"""Helpers for the envoy command tests: a recording HTTP server and fixture loading.

The recording server is a real aiohttp server on 127.0.0.1 that stores every request it
receives (method, path with query, raw body) and answers with a configurable status.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import ClientMiddlewareType, web

from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.fetch import Response
from envoy2mqtt.envoy.models.data import EnvoyData

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SENTINEL_PATH = "/sentinel"


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass
class RecordingServer:
    """State of a running recording server."""

    base_url: str
    requests: list[Recorded] = field(default_factory=list)
    status: int = 200
    reply: bytes = b"{}"


class Probe(msgspec.Struct, frozen=True):
    """Minimal stand-in for the probe result (only ``features`` is used by commands)."""

    features: SupportedFeatures


@asynccontextmanager
async def recording_server() -> AsyncIterator[RecordingServer]:
    """Run a recording server on 127.0.0.1 (random port) for the duration of the block."""
    state = RecordingServer(base_url="")

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        state.requests.append(Recorded(request.method, request.path_qs, body))
        return web.Response(status=state.status, body=state.reply, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base_url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


class ClientFetcher:
    """Minimal :class:`Fetcher` over aiohttp (the real transport is tested elsewhere)."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.session = session

    async def request(self, method: str, path: str, *, body: bytes | None = None) -> Response:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        async with self.session.request(
            method, self.base_url + path, data=body, headers=headers
        ) as resp:
            return Response(
                status=resp.status, body=await resp.read(), content_type=resp.content_type
            )


@asynccontextmanager
async def recorder_and_fetcher() -> AsyncIterator[tuple[RecordingServer, ClientFetcher]]:
    """A recording server plus a fetcher pointed at it."""
    async with recording_server() as server, aiohttp.ClientSession() as session:
        yield server, ClientFetcher(server.base_url, session)


async def assert_nothing_sent(server: RecordingServer, fetcher: ClientFetcher) -> None:
    """Prove the server got no request so far: a sentinel GET must be the only one recorded."""
    response = await fetcher.request("GET", SENTINEL_PATH)
    assert response.status == server.status
    assert [(r.method, r.path) for r in server.requests] == [("GET", SENTINEL_PATH)]


def expected(fixture: str) -> dict[str, Any]:
    """The golden ``expected.json`` of one fixture directory."""
    return json.loads((FIXTURES / fixture / "expected.json").read_text())


def load_data(fixture: str) -> EnvoyData:
    """The real normalised data of one fixture."""
    return msgspec.convert(expected(fixture)["data"], EnvoyData)


def load_probe(fixture: str) -> Probe:
    """A probe stand-in carrying the fixture's golden feature flags."""
    flags = SupportedFeatures(0)
    for name in expected(fixture)["supported_features"]:
        flags |= SupportedFeatures[name]
    return Probe(features=flags)


def raw(fixture: str, slug: str) -> Any:
    """A captured endpoint body of one fixture, decoded as JSON."""
    return json.loads((FIXTURES / fixture / slug).read_text())


def fixtures_with(slug: str, predicate: Any = None) -> list[str]:
    """Fixture directories whose ``slug`` capture is JSON (and satisfies ``predicate``)."""
    found = []
    for directory in sorted(FIXTURES.iterdir()):
        path = directory / slug
        if not path.is_file() or not (directory / "expected.json").is_file():
            continue
        try:
            body = json.loads(path.read_text())
        except ValueError:
            continue
        if predicate is None or predicate(body):
            found.append(directory.name)
    return found


class BearerAuth:
    """Token auth as a client configured with a token would send it."""

    def __init__(self, token: str) -> None:
        self.token = token

    def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        return ()

    def remember_cookies(self, cookies: Mapping[str, str]) -> None:
        return None
