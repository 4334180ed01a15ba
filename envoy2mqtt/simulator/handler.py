"""The request pipeline of a simulated Envoy: log, faults, auth, then the device or the cloud."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from envoy2mqtt.simulator import control
from envoy2mqtt.simulator.faults import BODY_KINDS, FaultKind
from envoy2mqtt.simulator.livedata import STATUS_PATH, STREAM_PATH, BadStreamRequest
from envoy2mqtt.simulator.replies import Reply, send, spoil
from envoy2mqtt.simulator.requestlog import LoggedRequest
from envoy2mqtt.simulator.writes import BadWrite, NoSuchEndpoint, apply_write

if TYPE_CHECKING:
    from envoy2mqtt.simulator.server import EnvoySimulator

_LOG = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/info", "/info.xml", "/home"})
INSTALLER_PATHS = frozenset({"/api/v1/production/inverters"})
LOGIN_PATH = "/login/login.json"
TOKENS_PATH = "/tokens"
CLOUD_PATHS = frozenset({LOGIN_PATH, TOKENS_PATH})
CHECK_JWT = "/auth/check_jwt"
TARIFF_PATH = "/admin/lib/tariff"
_SECRET_FIELDS = frozenset({"user[password]", "session_id"})


class _Dropped(Exception):
    """The connection is closed without an answer (outage, hang released)."""


def _loggable_body(path: str, raw: bytes) -> Any:
    if not raw:
        return None
    if path == LOGIN_PATH:
        fields = dict(parse_qsl(raw.decode(errors="replace")))
        return {k: "***" if k in _SECRET_FIELDS else v for k, v in fields.items()}
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw.decode(errors="replace")
    if isinstance(body, dict) and "session_id" in body:
        body = {**body, "session_id": "***"}
    return body


async def handle(sim: EnvoySimulator, request: web.BaseRequest) -> web.StreamResponse:
    """Answer one request (aiohttp low-level handler)."""
    if request.path.startswith(control.PREFIX):
        return await control.handle(sim, request)
    raw = await request.read()
    entry = sim.requests.add(
        LoggedRequest(
            request.method, request.path, request.query_string, _loggable_body(request.path, raw)
        )
    )
    try:
        reply = await _answer(sim, request, raw, entry)
    except asyncio.CancelledError:
        entry.status = 0  # the client gave up (or we are shutting down)
        raise
    except _Dropped:
        entry.status = 0
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)
    finally:
        sim.requests.notify()
    entry.status = reply.status
    _LOG.debug(
        "sim request method=%s path=%s status=%d", request.method, request.path, reply.status
    )
    return await send(request, reply)


async def _answer(
    sim: EnvoySimulator, request: web.BaseRequest, raw: bytes, entry: LoggedRequest
) -> Reply:
    device = request.path not in CLOUD_PATHS
    matched = sim.faults.take(request.path, request.path_qs, sim.clock(), device)
    if matched.latency:
        await sim.pause(matched.latency)
    fault = matched.outcome
    kind = fault.kind if fault is not None else None
    if kind is FaultKind.OUTAGE:
        raise _Dropped
    if kind is FaultKind.TIMEOUT:
        await sim.pause(fault.seconds if fault is not None and fault.seconds else None)
        raise _Dropped
    if kind is FaultKind.ERROR and fault is not None:
        return Reply.text(fault.status, "Service Unavailable")
    if kind is FaultKind.UNAUTHORIZED:
        return _unauthorized(sim)
    reply = _cloud(sim, request, raw) if not device else _device(sim, request, raw, entry)
    if fault is not None and kind in BODY_KINDS and 200 <= reply.status < 300:
        return spoil(reply, fault)
    return reply


def _unauthorized(sim: EnvoySimulator) -> Reply:
    if sim.state.uses_tokens:
        return Reply.json(401, {"status": 401, "error": "Unauthorized"})
    headers = {"WWW-Authenticate": sim.digest.challenge()}
    return Reply(401, b"Unauthorized", "text/plain", headers)


def _authorized(sim: EnvoySimulator, request: web.BaseRequest, entry: LoggedRequest) -> bool:
    header = request.headers.get("Authorization", "")
    if sim.state.uses_tokens:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and sim.tokens.authorizes(token.strip()):
            return True
        session = request.cookies.get("sessionId")
        return session is not None and sim.tokens.session_valid(session)
    entry.user = sim.digest.verify(request.method, request.raw_path, header)
    return entry.user is not None and (
        request.path not in INSTALLER_PATHS or entry.user == "installer"
    )


def _device(
    sim: EnvoySimulator, request: web.BaseRequest, raw: bytes, entry: LoggedRequest
) -> Reply:
    if request.path == CHECK_JWT and sim.state.uses_tokens:
        return _check_jwt(sim, request)
    if request.path not in OPEN_PATHS and not _authorized(sim, request, entry):
        return _unauthorized(sim)
    if request.method == "GET":
        if request.path == STATUS_PATH and sim.livedata is not None:
            return Reply.json(200, sim.livedata.status())
        stored = sim.state.response(sim.state.store.resolve(request.path_qs))
        if stored is None:
            return Reply.text(404, "Not Found")
        return Reply(stored.status, stored.body, stored.content_type)
    return _write(sim, request, raw)


def _write(sim: EnvoySimulator, request: web.BaseRequest, raw: bytes) -> Reply:
    tariff_write = (request.method, request.path) == ("PUT", TARIFF_PATH)
    before = sim.cloud.storage_now() if tariff_write else None
    try:
        body = msgspec.json.decode(raw) if raw else None
        if (request.method, request.path) == ("POST", STREAM_PATH) and sim.livedata is not None:
            reply = sim.livedata.set_stream(body)
        else:
            reply = apply_write(sim.state, request.method, request.path, body)
    except (msgspec.DecodeError, BadWrite, BadStreamRequest) as err:
        message = str(err) if not isinstance(err, msgspec.DecodeError) else "body is not valid JSON"
        _LOG.info("sim write rejected path=%s reason=%s", request.path, message)
        return Reply.json(400, {"error": message})
    except NoSuchEndpoint:
        exists = sim.state.exists(sim.state.store.resolve(request.path))
        return Reply.text(405, "Method Not Allowed") if exists else Reply.text(404, "Not Found")
    _LOG.info("sim write applied method=%s path=%s", request.method, request.path)
    if tariff_write:
        sim.tariff_written(before)
    return Reply.json(200, reply)


def _check_jwt(sim: EnvoySimulator, request: web.BaseRequest) -> Reply:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not sim.tokens.validate(token.strip()):
        return Reply.text(401, "<!DOCTYPE html><h2>Invalid token.</h2>", "text/html")
    session = sim.tokens.open_session(token.strip())
    cookie = f"sessionId={session}; Path=/; HttpOnly; Secure; SameSite=Lax"
    return Reply(200, b"<!DOCTYPE html><h2>Valid token.</h2>", "text/html", {"Set-Cookie": cookie})


def _cloud(sim: EnvoySimulator, request: web.BaseRequest, raw: bytes) -> Reply:
    if request.method != "POST":
        return Reply.text(405, "Method Not Allowed")
    if request.path == LOGIN_PATH:
        form = dict(parse_qsl(raw.decode(errors="replace")))
        status, doc = sim.enlighten.login(
            form.get("user[email]", ""), form.get("user[password]", "")
        )
        return Reply.json(status, doc)
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        body = None
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), str) for k in ("session_id", "serial_num", "username")
    ):
        return Reply.text(400, "session_id, serial_num and username are required")
    status, text = sim.enlighten.token(body["session_id"], body["serial_num"], body["username"])
    return Reply.text(status, text)
