"""``/ivp/livedata/status`` and ``/ivp/livedata/stream`` for simulated token-firmware Envoys.

No fixture captured the live status, so it is synthesised from the fixture's own documents:
solar and consumption from ``production.json``, battery power from ``/ivp/ensemble/power``
(and AC Batteries), battery levels from ``/ivp/ensemble/secctrl``, the reserve from the
tariff, phases from ``/ivp/meters``. Like the real Envoy, values refresh only while the stream
is enabled (``POST /ivp/livedata/stream {"enable": 1}``), which lapses after
``stream_seconds``; while disabled, the last values (and their ``last_update``) are served.

By default the endpoint exists on fixtures with firmware >= 7 that have an IQ System
Controller (Enpower) or enabled CTs (the systems whose real Envoys offer it), in ``device``
mode only: ``golden`` mode serves exactly what the goldens were produced from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Final

from envoy2mqtt.simulator.state import DeviceState

_LOG = logging.getLogger(__name__)

STATUS_PATH: Final = "/ivp/livedata/status"
STREAM_PATH: Final = "/ivp/livedata/stream"
DEFAULT_STREAM_SECONDS: Final = 15 * 60.0
_PHASES: Final = ("a", "b", "c")


class BadStreamRequest(ValueError):
    """The stream request body is not ``{"enable": 0|1}``."""


def _list(doc: Any, key: str) -> list[dict[str, Any]]:
    items = doc.get(key) if isinstance(doc, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _devices(inventory: Any, kind: str) -> Iterator[dict[str, Any]]:
    for group in inventory if isinstance(inventory, list) else []:
        if isinstance(group, dict) and group.get("type") == kind:
            yield from (d for d in group.get("devices", []) if isinstance(d, dict))


def _enabled_meters(state: DeviceState) -> list[dict[str, Any]]:
    meters = state.peek("ivp_meters")
    items = meters if isinstance(meters, list) else []
    return [m for m in items if isinstance(m, dict) and m.get("state") == "enabled"]


def offers_livedata(state: DeviceState) -> bool:
    """Whether the default is to serve live data: token firmware with an Enpower or CTs."""
    if not state.uses_tokens:
        return False
    has_enpower = any(True for _ in _devices(state.peek("ivp_ensemble_inventory"), "ENPOWER"))
    return has_enpower or bool(_enabled_meters(state))


def _dig(doc: Any, *keys: str) -> Any:
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _number(value: Any) -> float | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number else None


class LiveDataSource:
    """The live status of one simulated Envoy and its stream switch.

    Attributes:
        stream_seconds: how long one enable request keeps the stream on.
        stream_requests: stream requests received (enable and disable).
    """

    def __init__(
        self,
        state: DeviceState,
        clock: Callable[[], float],
        stream_seconds: float = DEFAULT_STREAM_SECONDS,
    ) -> None:
        """Serve live data computed from ``state``; ``clock`` gives epoch seconds."""
        if stream_seconds <= 0:
            raise ValueError("stream_seconds must be positive")
        self._state = state
        self._clock = clock
        self.stream_seconds = stream_seconds
        self.stream_requests = 0
        self._stream_until = 0.0
        self._last: dict[str, Any] | None = None

    @property
    def streaming(self) -> bool:
        """True while the stream is enabled (values refresh on every read)."""
        return self._clock() < self._stream_until

    def status(self) -> dict[str, Any]:
        """The ``/ivp/livedata/status`` document as of now."""
        streaming = self.streaming
        if streaming or self._last is None:
            self._last = self._meters()
        return {
            "connection": {
                "mqtt_state": "connected",
                "prov_state": "configured",
                "auth_state": "ok",
                "sc_stream": "enabled" if streaming else "disabled",
                "sc_debug": "disabled",
            },
            "meters": self._last,
            "tasks": {"task_id": 0, "timestamp": int(self._clock())},
            "counters": {},
            "dry_contacts": {},
        }

    def set_stream(self, body: Any) -> dict[str, Any]:
        """Apply ``POST /ivp/livedata/stream``; returns the reply.

        Raises:
            BadStreamRequest: the body is not ``{"enable": 0|1}`` (nothing changes).
        """
        enable = body.get("enable") if isinstance(body, dict) else None
        if isinstance(enable, bool) or enable not in (0, 1):
            raise BadStreamRequest('body must be {"enable": 0|1}')
        self.stream_requests += 1
        self._stream_until = self._clock() + self.stream_seconds if enable else 0.0
        _LOG.info("sim livedata stream=%s seconds=%s", "enabled" if enable else "disabled",
                  self.stream_seconds if enable else 0)  # fmt: skip
        return {"sc_stream": "enabled" if enable else "disabled"}

    # -- synthesis -----------------------------------------------------------------------

    def _production_doc(self) -> Any:
        slug = self._state.store.resolve("/production.json")
        return self._state.current(slug)

    def _powers(self) -> dict[str, float]:
        """Aggregate powers in W: pv, storage (+ discharge), load, grid (+ import)."""
        doc = self._production_doc()
        readings = {
            (item.get("type"), item.get("measurementType")): _number(item.get("wNow"))
            for key in ("production", "consumption", "storage")
            for item in _list(doc, key)
        }
        pv = readings.get(("eim", "production")) or readings.get(("inverters", None)) or 0.0
        ensemble = self._state.peek("ivp_ensemble_power")
        batteries = _list(ensemble, "devices:")  # sic: the Envoy's key has a colon
        battery_mw = sum(_number(d.get("real_power_mw")) or 0.0 for d in batteries)
        storage = battery_mw / 1000 + (readings.get(("acb", None)) or 0.0)
        total = readings.get(("eim", "total-consumption"))
        net = readings.get(("eim", "net-consumption"))
        if total is None:
            total = (net if net is not None else 0.0) + pv + storage
        grid = net if net is not None else total - pv - storage
        return {"pv": pv, "storage": storage, "load": total, "grid": grid, "generator": 0.0}

    def _phase_setup(self) -> tuple[int, bool]:
        meters = _enabled_meters(self._state)
        count = meters[0].get("phaseCount") if meters else None
        mode = meters[0].get("phaseMode") if meters else None
        phases = count if isinstance(count, int) and 1 <= count <= 3 else 1
        return phases, mode == "split"

    def _flow(self, watts: float, phase_count: int) -> dict[str, int]:
        milli = round(watts * 1000)
        share = round(milli / phase_count)
        flow = {"agg_p_mw": milli, "agg_s_mva": abs(milli)}
        for index, letter in enumerate(_PHASES):
            value = share if index < phase_count else 0
            flow[f"agg_p_ph_{letter}_mw"] = value
            flow[f"agg_s_ph_{letter}_mva"] = abs(value)
        return flow

    def _battery(self) -> dict[str, int]:
        secctrl = self._state.peek("ivp_ensemble_secctrl")
        values = secctrl if isinstance(secctrl, dict) else {}
        tariff = self._state.peek("admin_lib_tariff")
        reserve = _number(_dig(tariff, "tariff", "storage_settings", "reserved_soc"))
        fields = {
            "soc": _number(values.get("agg_soc")),
            "enc_agg_soc": _number(values.get("ENC_agg_soc")),
            "enc_agg_energy": _number(values.get("ENC_agg_avail_energy")),
            "acb_agg_soc": _number(values.get("ACB_agg_soc")),
            "acb_agg_energy": _number(values.get("ACB_agg_avail_energy")),
            "backup_soc": reserve,
        }
        return {key: round(value or 0.0) for key, value in fields.items()}

    def reset(self) -> None:
        """Forget the stream and the last values (the Envoy rebooted)."""
        self._stream_until = 0.0
        self._last = None

    def _meters(self) -> dict[str, Any]:
        phase_count, split = self._phase_setup()
        powers = self._powers()
        return {
            "last_update": int(self._clock()),
            "main_relay_state": 1,
            "gen_relay_state": 5,
            "backup_bat_mode": 1,
            "is_split_phase": int(split),
            "phase_count": phase_count,
            **self._battery(),
            **{name: self._flow(watts, phase_count) for name, watts in powers.items()},
        }
