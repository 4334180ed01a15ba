"""Solar production from ``/api/v1/production`` (all firmware; no consumption)."""

from __future__ import annotations

import logging

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, SystemEnergy
from envoy2mqtt.envoy.models.raw_production import PRODUCTION_V1_DECODER
from envoy2mqtt.envoy.updaters.base import GENERIC_DECODER, Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)


class ProductionV1Updater(Updater):
    """Used when no production document claimed production."""

    group = "production"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim PRODUCTION unless the endpoint is known to report broken values here."""
        if SupportedFeatures.PRODUCTION in found:
            return None
        # A 401 here is real: it is not swallowed, so the caller re-authenticates.
        doc = await probe_fetch(
            reader, endpoints.PRODUCTION_V1, GENERIC_DECODER, swallow_auth=False
        )
        if not isinstance(doc, dict):
            return None
        # Metered Envoys without CTs report zeros for every wattHours* value.
        if all(value == 0 for key, value in doc.items() if key.startswith("wattHours")):
            _LOGGER.debug("probe path=%s result=all-zero", endpoints.PRODUCTION_V1)
            return None
        state = self.state
        # ... and from FW 8.2.4264 stalled values: the production document is used instead.
        stalled = state.imeter and state.version >= endpoints.METERED_NOCT_V1_STALLED
        if stalled and not state.ct_meter_count:
            _LOGGER.debug("probe path=%s result=stalled-metered-noct", endpoints.PRODUCTION_V1)
            return None
        self.features |= SupportedFeatures.PRODUCTION
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``system_production``."""
        doc = await reader.decode(endpoints.PRODUCTION_V1, PRODUCTION_V1_DECODER)
        out.system_production = SystemEnergy(
            watt_hours_lifetime=doc.watt_hours_lifetime,
            watt_hours_last_7_days=doc.watt_hours_seven_days,
            watt_hours_today=doc.watt_hours_today,
            watts_now=doc.watts_now,
        )
