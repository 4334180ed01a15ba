"""What the simulator sends back, and the ways a fault can spoil it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import msgspec
from aiohttp import web

from envoy2mqtt.simulator.faults import Fault, FaultKind

JSON = "application/json"
_HUGE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Reply:
    """A response before it is written: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    huge: int = 0

    @classmethod
    def json(cls, status: int, doc: Any, headers: dict[str, str] | None = None) -> Reply:
        """Build a JSON reply."""
        return cls(status, msgspec.json.encode(doc), JSON, headers or {})

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain") -> Reply:
        """Build a plain-text reply."""
        return cls(status, text.encode(), content_type)


def spoil(reply: Reply, fault: Fault) -> Reply:
    """Return ``reply`` with its body damaged the way ``fault`` says."""
    if fault.kind is FaultKind.GARBAGE:
        return replace(reply, body=b"\x00\xffgarbage<html><body>not json{{{")
    if fault.kind is FaultKind.TRUNCATED:
        return replace(reply, body=reply.body[: max(1, len(reply.body) // 2)])
    if fault.kind is FaultKind.WRONG_TYPE:
        looks_like_list = reply.body.lstrip()[:1] == b"["
        wrong = {"unexpected": "object"} if looks_like_list else ["unexpected", "list"]
        return replace(reply, body=msgspec.json.encode(wrong), content_type=JSON)
    if fault.kind is FaultKind.HUGE:
        return replace(reply, body=b"", huge=fault.size)
    return reply


async def send(request: web.BaseRequest, reply: Reply) -> web.StreamResponse:
    """Write ``reply``; a huge body is streamed so it never sits in memory."""
    headers = {"Content-Type": reply.content_type, **reply.headers}
    if not reply.huge:
        return web.Response(status=reply.status, body=reply.body, headers=headers)
    response = web.StreamResponse(status=reply.status, headers=headers)
    response.content_length = reply.huge
    await response.prepare(request)
    chunk = b" " * _HUGE_CHUNK
    remaining = reply.huge
    while remaining > 0:
        size = min(remaining, _HUGE_CHUNK)
        await response.write(chunk[:size])
        remaining -= size
    await response.write_eof()
    return response
