"""HTTP control API under ``/__sim__/`` so a simulator in another process can be driven.

Routes (JSON in, JSON out):

* ``GET /__sim__/status``: serial, firmware, URL, auth, counters.
* ``GET|POST|DELETE /__sim__/faults`` and ``DELETE /__sim__/faults/<id>``: list, add
  (:class:`~envoy2mqtt.simulator.faults.Fault` fields), clear all, remove one. A
  ``{"kind": "cloud_revert", "seconds": 60}`` rule makes the gateway undo tariff writes.
* ``GET|DELETE /__sim__/requests``: the request log, or clear it.
* ``POST /__sim__/reboot``: ``{"firmware": "8.3.1", "downtime": 5}`` (both optional).
* ``POST|DELETE /__sim__/tokens``: issue a token (``{"username", "user_type"}``) or revoke all.
* ``POST /__sim__/live``: ``{"seed": 1}`` enables live values, ``{"seed": null}`` stops them.
* ``POST /__sim__/clock``: ``{"time": 1785650460}`` sets the gateway clock ``/info`` reports.
* ``GET /__sim__/document?path=/ivp/ensemble/inventory``: the current JSON of an endpoint.

Control requests are not logged and are never affected by faults.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from envoy2mqtt.simulator.faults import Fault, FaultKind

if TYPE_CHECKING:
    from envoy2mqtt.simulator.server import EnvoySimulator

PREFIX = "/__sim__/"
_LOG = logging.getLogger(__name__)

Route = Callable[["EnvoySimulator", Any, web.BaseRequest], Awaitable[tuple[int, Any]]]


class ControlError(ValueError):
    """A control request that cannot be carried out (HTTP 400)."""


async def _status(sim: EnvoySimulator, _body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    return 200, sim.status()


async def _faults(sim: EnvoySimulator, _body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    return 200, [f.to_json() for f in sim.faults.active(sim.clock())]


async def _add_fault(sim: EnvoySimulator, body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    fault = Fault.from_json(body)
    if fault.kind is FaultKind.REFUSED and fault.seconds <= 0:
        raise ControlError("refused over HTTP needs seconds > 0 (nobody could resume it)")
    return 201, (await sim.inject(fault)).to_json()


async def _clear_faults(sim: EnvoySimulator, _body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    sim.clear_faults()
    return 200, {"cleared": True}


async def _requests(sim: EnvoySimulator, _body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    return 200, [e.to_json() for e in sim.requests.entries()]


async def _clear_requests(
    sim: EnvoySimulator, _body: Any, _req: web.BaseRequest
) -> tuple[int, Any]:
    sim.requests.clear()
    return 200, {"cleared": True}


async def _reboot(sim: EnvoySimulator, body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    body = body or {}
    firmware, downtime = body.get("firmware"), body.get("downtime", 0)
    if not isinstance(firmware, str | None) or not isinstance(downtime, int | float):
        raise ControlError("firmware must be a string, downtime a number")
    await sim.reboot(firmware=firmware, downtime=float(downtime))
    return 200, sim.status()


async def _issue_token(sim: EnvoySimulator, body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    body = body or {}
    username = body.get("username", "owner@example.com")
    user_type = body.get("user_type", "owner")
    if not isinstance(username, str) or user_type not in ("owner", "installer"):
        raise ControlError("username must be a string, user_type owner or installer")
    return 201, {"token": sim.issue_token(username, user_type)}


async def _revoke(sim: EnvoySimulator, _body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    sim.revoke_tokens()
    return 200, {"revoked": True}


async def _live(sim: EnvoySimulator, body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    seed = body.get("seed") if isinstance(body, dict) else None
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ControlError("seed must be an integer or null")
    sim.set_live(seed)
    return 200, {"live": seed is not None}


async def _clock(sim: EnvoySimulator, body: Any, _req: web.BaseRequest) -> tuple[int, Any]:
    epoch = body.get("time") if isinstance(body, dict) else None
    if isinstance(epoch, bool) or not isinstance(epoch, int):
        raise ControlError("time must be epoch seconds (an integer)")
    sim.set_clock(epoch)
    return 200, {"time": epoch}


async def _document(sim: EnvoySimulator, _body: Any, req: web.BaseRequest) -> tuple[int, Any]:
    path = req.query.get("path", "")
    doc = sim.document(path) if path.startswith("/") else None
    return (404, {"error": "no JSON document at that path"}) if doc is None else (200, doc)


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "status"): _status,
    ("GET", "faults"): _faults,
    ("POST", "faults"): _add_fault,
    ("DELETE", "faults"): _clear_faults,
    ("GET", "requests"): _requests,
    ("DELETE", "requests"): _clear_requests,
    ("POST", "reboot"): _reboot,
    ("POST", "tokens"): _issue_token,
    ("DELETE", "tokens"): _revoke,
    ("POST", "live"): _live,
    ("POST", "clock"): _clock,
    ("GET", "document"): _document,
}


async def handle(sim: EnvoySimulator, request: web.BaseRequest) -> web.Response:
    """Answer one control request."""
    name = request.path.removeprefix(PREFIX).strip("/")
    try:
        raw = await request.read()
        body = msgspec.json.decode(raw) if raw else None
        if request.method == "DELETE" and name.startswith("faults/"):
            fault_id = name.removeprefix("faults/")
            found = fault_id.isdigit() and sim.faults.remove(int(fault_id))
            status, doc = (200, {"removed": True}) if found else (404, {"error": "no such fault"})
        else:
            route = ROUTES.get((request.method, name))
            if route is None:
                return web.json_response({"error": "unknown control route"}, status=404)
            status, doc = await route(sim, body, request)
    except (msgspec.DecodeError, ValueError) as err:
        message = "body is not valid JSON" if isinstance(err, msgspec.DecodeError) else str(err)
        _LOG.info("sim control rejected route=%s reason=%s", name, message)
        return web.json_response({"error": message}, status=400)
    return web.Response(
        status=status, body=msgspec.json.encode(doc), content_type="application/json"
    )
