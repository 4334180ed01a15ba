"""Live power flows from ``/ivp/livedata/status`` (token firmware), with stream keep-alive.

The Envoy refreshes these values only while its live stream is enabled, and switches the
stream off by itself after about 15 minutes. Each update therefore looks at
``connection.sc_stream`` and, when it reads ``disabled``, asks once for the stream again
(``POST /ivp/livedata/stream``). A failing request is logged and retried no sooner than
:data:`STREAM_RETRY_SECONDS` later; it never fails the group.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyError, EnvoyMalformedResponse
from envoy2mqtt.envoy.features import PHASE_NAMES, SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, LiveData, LivePhase
from envoy2mqtt.envoy.models.raw_livedata import (
    LIVE_STATUS_DECODER,
    LiveStatusDoc,
    RawLiveConnection,
    RawLiveMeters,
    RawLivePower,
)
from envoy2mqtt.envoy.updaters.base import ProbeState, Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)

STREAM_ENABLE_BODY: Final = b'{"enable":1}'
STREAM_RETRY_SECONDS: Final = 60.0
"""Least time between two enable requests while the Envoy keeps reporting ``disabled``."""
STREAM_LIFETIME_SECONDS: Final = 14 * 60.0
"""When the firmware does not report the stream state: re-enable after this long."""

_FLOWS: Final = ("pv", "grid", "load", "storage", "generator")
_PHASE_KEYS: Final = ("agg_p_ph_a_mw", "agg_p_ph_b_mw", "agg_p_ph_c_mw")


def _watts(milli: float | None) -> int | None:
    return None if milli is None else round(milli / 1000)


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


def _flows(meters: RawLiveMeters) -> dict[str, RawLivePower]:
    found = {name: getattr(meters, name) for name in _FLOWS}
    return {name: power for name, power in found.items() if power is not None}


def _aggregate(flows: dict[str, RawLivePower], name: str) -> int | None:
    power = flows.get(name)
    return None if power is None else _watts(power.agg_p_mw)


def _phases(meters: RawLiveMeters, flows: dict[str, RawLivePower]) -> dict[str, LivePhase]:
    """Per-phase powers, only where reported and only on multi-phase systems."""
    limit = meters.phase_count if meters.phase_count is not None else len(_PHASE_KEYS)
    phases: dict[str, LivePhase] = {}
    for index, key in enumerate(_PHASE_KEYS[: max(limit, 0)]):
        values = {f"{name}_power": _watts(getattr(p, key)) for name, p in flows.items()}
        if any(v is not None for v in values.values()):
            phases[PHASE_NAMES[index]] = LivePhase(**values)
    return phases if len(phases) > 1 else {}


def live_data(doc: LiveStatusDoc, path: str = endpoints.LIVEDATA_STATUS) -> LiveData:
    """Normalise a decoded status document (milliwatts to W, flags to booleans).

    Raises:
        EnvoyMalformedResponse: the document has no ``meters`` object.
    """
    meters = doc.meters
    if meters is None:
        raise EnvoyMalformedResponse(path, "no meters object")
    flows = _flows(meters)
    stream = doc.connection.sc_stream if doc.connection is not None else None
    split = meters.is_split_phase
    return LiveData(
        last_update=_int(meters.last_update),
        stream_enabled=None if stream is None else stream == "enabled",
        pv_power=_aggregate(flows, "pv"),
        grid_power=_aggregate(flows, "grid"),
        load_power=_aggregate(flows, "load"),
        storage_power=_aggregate(flows, "storage"),
        generator_power=_aggregate(flows, "generator"),
        soc=meters.soc,
        backup_soc=meters.backup_soc,
        enc_agg_soc=meters.enc_agg_soc,
        enc_agg_energy=meters.enc_agg_energy,
        acb_agg_soc=meters.acb_agg_soc,
        acb_agg_energy=meters.acb_agg_energy,
        main_relay_state=meters.main_relay_state,
        gen_relay_state=meters.gen_relay_state,
        backup_bat_mode=meters.backup_bat_mode,
        phase_count=meters.phase_count,
        is_split_phase=None if split is None else bool(split),
        phases=_phases(meters, flows),
    )


class LiveDataUpdater(Updater):
    """``/ivp/livedata/status`` on firmware >= 7; claims no feature flag (not in pyenphase).

    Attributes:
        stream_enabled_at: clock reading of the last successful enable request (None: never).
        stream_requests: enable requests sent so far.
        clock: monotonic seconds (replaceable in tests).
    """

    group = "livedata"

    def __init__(self, state: ProbeState) -> None:
        """Create the updater; the stream has not been enabled by us yet."""
        super().__init__(state)
        self.clock: Callable[[], float] = time.monotonic
        self.stream_enabled_at: float | None = None
        self.stream_requests = 0
        self._last_attempt: float | None = None
        self._failing = False

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Use the endpoint when it answers 200 with a ``meters`` object."""
        if self.state.version < endpoints.LIVEDATA_MIN_VERSION:
            return None
        doc = await probe_fetch(
            reader, endpoints.LIVEDATA_STATUS, LIVE_STATUS_DECODER, swallow_auth=True
        )
        if doc is None or doc.meters is None:
            return None
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``livedata``, then re-enable the stream if the Envoy stopped it."""
        doc = await reader.decode(endpoints.LIVEDATA_STATUS, LIVE_STATUS_DECODER)
        out.livedata = live_data(doc)
        await self._keep_streaming(reader, doc.connection)

    def _stream_wanted(self, connection: RawLiveConnection | None, now: float) -> bool:
        stream = connection.sc_stream if connection is not None else None
        if stream == "enabled":
            return False
        last = self._last_attempt
        if last is not None and now - last < STREAM_RETRY_SECONDS:
            return False  # asked a moment ago: the Envoy may not have caught up (or refused)
        if stream is None:
            # No stream state reported: renew shortly before the Envoy would stop it.
            enabled_at = self.stream_enabled_at
            return enabled_at is None or now - enabled_at >= STREAM_LIFETIME_SECONDS
        return True

    async def _keep_streaming(self, reader: Reader, connection: RawLiveConnection | None) -> None:
        now = self.clock()
        if not self._stream_wanted(connection, now):
            return
        self._last_attempt = now
        self.stream_requests += 1
        path = endpoints.LIVEDATA_STREAM
        try:
            response = await reader.send("POST", path, STREAM_ENABLE_BODY)
        except EnvoyError as err:
            self._failed(f"error={type(err).__name__}")
            return
        if not 200 <= response.status < 300:
            self._failed(f"status={response.status}")
            return
        self._failing = False
        self.stream_enabled_at = now
        _LOGGER.info("livedata stream enabled path=%s", path)

    def _failed(self, reason: str) -> None:
        # Warn when enabling starts failing; repeats (every retry interval) stay at debug.
        level = logging.DEBUG if self._failing else logging.WARNING
        self._failing = True
        _LOGGER.log(level, "livedata stream enable failed %s", reason)
