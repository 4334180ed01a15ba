"""``raw_http``: a bare HTTP server on 127.0.0.1 answering with a test's own handler.

For the few transport edge cases no Envoy ever produces on purpose and the simulator
therefore does not model (a redirect, a 403, a chunked body without a length, which
connection a request came on). Everything Envoy-shaped goes to the simulator instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import RawTestServer

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
StartRaw = Callable[[Handler], Awaitable[str]]


@pytest.fixture
async def raw_http() -> AsyncIterator[StartRaw]:
    """Factory: ``url = await raw_http(handler)`` (``http://127.0.0.1:<port>``)."""
    servers: list[RawTestServer] = []

    async def start(handler: Handler) -> str:
        server = RawTestServer(handler, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.close()
