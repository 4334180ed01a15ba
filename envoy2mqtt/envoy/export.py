"""Export one Envoy's state in the structure of ``fixtures/*/expected.json``."""

from __future__ import annotations

from typing import Any

import msgspec

from envoy2mqtt.envoy.firmware import EnvoyInfo
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.probe import ProbeResult


def export_state(info: EnvoyInfo, probe: ProbeResult, data: EnvoyData) -> dict[str, Any]:
    """Return identification, probe findings and data as plain JSON-able values.

    ``data.livedata`` is left out: it is our addition, not part of pyenphase's structure.
    """
    exported = msgspec.to_builtins(data)
    exported.pop("livedata", None)
    return {
        "firmware": info.firmware,
        "serial_number": info.serial,
        "part_number": info.part_number,
        "is_metered": info.imeter,
        "envoy_model": probe.envoy_model,
        "supported_features": probe.features.names(),
        "phase_count": probe.phase_count,
        "phase_mode": probe.phase_mode,
        "active_phase_count": probe.active_phase_count,
        "ct_meter_count": probe.ct_meter_count,
        "consumption_meter_type": probe.consumption_meter_type,
        "production_meter_type": probe.production_meter_type,
        "storage_meter_type": probe.storage_meter_type,
        "acb_count": probe.acb_count,
        "data": exported,
    }
