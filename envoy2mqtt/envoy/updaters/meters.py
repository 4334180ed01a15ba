"""CT meters: setup from ``/ivp/meters`` at probe, readings from ``/ivp/meters/readings``."""

from __future__ import annotations

import logging

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.features import PHASE_NAMES, CtType, SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, MeterData, PhaseMeters
from envoy2mqtt.envoy.models.raw_meters import (
    METERS_DECODER,
    READINGS_DECODER,
    MeterChannel,
    MeterConfig,
    MeterReading,
)
from envoy2mqtt.envoy.updaters.base import Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)

_ENABLED = "enabled"
# Each CT type's alias field family; both consumption types share the consumption fields.
_ALIASES: dict[str, str] = {
    CtType.PRODUCTION: CtType.PRODUCTION,
    CtType.NET_CONSUMPTION: CtType.NET_CONSUMPTION,
    CtType.TOTAL_CONSUMPTION: CtType.NET_CONSUMPTION,
    CtType.STORAGE: CtType.STORAGE,
}


def _meter_data(channel: MeterChannel, config: MeterConfig) -> MeterData:
    return MeterData(
        eid=channel.eid,
        timestamp=channel.timestamp,
        energy_delivered=round(channel.act_energy_dlvd),
        energy_received=round(channel.act_energy_rcvd),
        active_power=round(channel.active_power),
        power_factor=channel.pwr_factor,
        voltage=channel.voltage,
        current=channel.current,
        frequency=channel.freq,
        state=config.state,
        measurement_type=config.measurement_type,
        metering_status=config.metering_status,
        status_flags=config.status_flags,
    )


def _phases(reading: MeterReading, config: MeterConfig, phase_count: int) -> PhaseMeters:
    phases: PhaseMeters = {}
    channels = reading.channels
    if phase_count > 1 and channels:
        # A plain loop: a comprehension costs a function call per reading on Python 3.11.
        for i in range(min(phase_count, len(channels))):
            phases[PHASE_NAMES[i]] = _meter_data(channels[i], config)
    return phases


def _storage_zero_phase(aggregate: MeterData | None, phases: PhaseMeters) -> str | None:
    """Return the phase that reads all zeros while the aggregate equals the other phase."""
    l1, l2 = phases.get("L1"), phases.get("L2")
    if aggregate is None or l1 is None or l2 is None:
        return None

    def impacted(zero: MeterData, other: MeterData) -> bool:
        return all(
            getattr(zero, name) == 0
            and getattr(other, name) != 0
            and getattr(other, name) == getattr(aggregate, name)
            for name in ("energy_delivered", "energy_received")
        )

    l1_bad, l2_bad = impacted(l1, l2), impacted(l2, l1)
    if l1_bad == l2_bad:
        return None
    return "L1" if l1_bad else "L2"


class MetersUpdater(Updater):
    """Per-CT readings (aggregate and per phase) of every enabled CT."""

    group = "meters"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Learn the CT setup (phase count/mode, CT types) and claim CTMETERS and phase flags."""
        if SupportedFeatures.CTMETERS in found:
            return None
        # D3.18.10 answers 401 here even for users who may read it.
        meters = await probe_fetch(reader, endpoints.METERS, METERS_DECODER, swallow_auth=True)
        if not meters:
            return None
        state = self.state
        for meter in meters:
            if meter.state != _ENABLED or meter.measurement_type is None:
                continue
            state.meter_types.append(meter.measurement_type)
            state.meter_eids[meter.eid] = meter.measurement_type
            state.ct_meter_count += 1
            state.phase_mode = meter.phase_mode
            state.phase_count = max(state.phase_count, meter.phase_count)
        if state.phase_count > 2:
            self.features |= SupportedFeatures.THREEPHASE
        elif state.phase_count > 1:
            self.features |= SupportedFeatures.DUALPHASE
        if state.ct_meter_count:
            self.features |= SupportedFeatures.CTMETERS
        return self.features or None

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Join readings to the CT configuration by ``eid`` (never by position)."""
        configs = await reader.decode(endpoints.METERS, METERS_DECODER)
        readings = await reader.decode(endpoints.METERS_READINGS, READINGS_DECODER)
        state = self.state
        by_eid = {config.eid: config for config in configs}
        meter_eids, phase_count = state.meter_eids, state.phase_count
        meters: dict[str, MeterData | None] = {}
        meters_phases: dict[str, PhaseMeters] = {}
        aliases: dict[str, MeterData | None] = {}
        alias_phases: dict[str, PhaseMeters] = {}
        for reading in readings:
            config = by_eid.get(reading.eid)
            meter_type = meter_eids.get(reading.eid)
            # FW 8.3.5025+ adds an all-zero storage reading absent from /ivp/meters.
            if config is None or meter_type is None:
                continue
            meter: MeterData | None = _meter_data(reading, config)
            phases = _phases(reading, config, phase_count)
            if phases:
                meters_phases[meter_type] = phases
            if meter_type == CtType.STORAGE and self._storage_anomaly(meter, phases):
                meter = None
            meters[meter_type] = meter
            alias = _ALIASES.get(meter_type)
            if alias is not None:
                aliases[alias] = meter
                if phases:
                    alias_phases[alias] = phases
        out.ctmeters = meters
        out.ctmeters_phases = meters_phases
        out.ctmeter_production = aliases.get(CtType.PRODUCTION)
        out.ctmeter_consumption = aliases.get(CtType.NET_CONSUMPTION)
        out.ctmeter_storage = aliases.get(CtType.STORAGE)
        out.ctmeter_production_phases = alias_phases.get(CtType.PRODUCTION)
        out.ctmeter_consumption_phases = alias_phases.get(CtType.NET_CONSUMPTION)
        out.ctmeter_storage_phases = alias_phases.get(CtType.STORAGE)

    def _storage_anomaly(self, aggregate: MeterData | None, phases: PhaseMeters) -> bool:
        """Blank the zero phase and return True when the storage CT shows the FW 8.3.6 bug."""
        # FW 8.3.6xxx: on split phase one storage channel may read all zeros and the aggregate
        # then equals the other channel; report those two as unknown instead of wrong.
        state = self.state
        if not (state.storage_zero_fw and state.phase_mode == "split" and state.phase_count == 2):
            return False
        zero = _storage_zero_phase(aggregate, phases)
        if zero is None:
            return False
        _LOGGER.debug("meters storage_ct_anomaly phase=%s", zero)
        phases[zero] = None
        return True
