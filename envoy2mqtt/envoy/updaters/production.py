"""Production and consumption from ``/production.json?details=1`` or ``/production``."""

from __future__ import annotations

import logging
from typing import Any

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.features import CtType, SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.models.raw_production import PRODUCTION_DECODER, ProductionDoc
from envoy2mqtt.envoy.updaters import production_model as pm
from envoy2mqtt.envoy.updaters.base import GENERIC_DECODER, Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)

_CONSUMPTION_FEATURES = {
    "total-consumption": SupportedFeatures.TOTAL_CONSUMPTION,
    "net-consumption": SupportedFeatures.NET_CONSUMPTION,
}
_PRODUCTION = int(SupportedFeatures.PRODUCTION)
_METERING = int(SupportedFeatures.METERING)
_ACB = int(SupportedFeatures.ACB)
_CONSUMPTION = int(SupportedFeatures.NET_CONSUMPTION | SupportedFeatures.TOTAL_CONSUMPTION)
_ALL_PRODUCTION = (
    SupportedFeatures.PRODUCTION
    | SupportedFeatures.TOTAL_CONSUMPTION
    | SupportedFeatures.NET_CONSUMPTION
)


def _active_lines(lines: Any) -> int:
    """Count phases with any non-zero value (recent firmware always lists three)."""
    if not isinstance(lines, list):
        return 0
    return sum(1 for line in lines if isinstance(line, dict) and any(line.values()))


def _as_dicts(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


class ProductionUpdater(Updater):
    """Reads one production document; subclasses choose the path and fallback rule."""

    group = "production"
    path: str = endpoints.PRODUCTION
    inverters_fallback = False
    _has_production_ct = False  # set by freeze()

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim production (eim CT or, as fallback, inverters), consumption and ACB."""
        if _ALL_PRODUCTION in found:
            return None
        working = self.state.production_endpoints
        if self.inverters_fallback and working:
            self.path = working[0]
        # Some 3.x/early 7.x firmware answers 401 here although the user may read it.
        doc = await probe_fetch(reader, self.path, GENERIC_DECODER, swallow_auth=True)
        if not isinstance(doc, dict):
            return None
        if self.path not in working and not self.inverters_fallback:
            working.append(self.path)
        phases = 0
        if SupportedFeatures.PRODUCTION not in found:
            phases = self._probe_production(_as_dicts(doc.get("production")))
        phases = max(phases, self._probe_consumption(_as_dicts(doc.get("consumption")), found))
        self._probe_acb(_as_dicts(doc.get("storage")), found)
        self.state.active_phase_count = phases
        return self.features or None

    def _probe_production(self, entries: list[dict[str, Any]]) -> int:
        has_production_ct = CtType.PRODUCTION in self.state.meter_types
        for entry in entries:
            # With a production CT, an inactive eim entry still owns production (FW 5.3.5528).
            if entry.get("type") == "eim" and (entry.get("activeCount") or has_production_ct):
                self.features |= SupportedFeatures.METERING | SupportedFeatures.PRODUCTION
                return _active_lines(entry.get("lines"))
            if (
                self.inverters_fallback
                and entry.get("type") == "inverters"
                and entry.get("activeCount")
            ):
                self.features |= SupportedFeatures.PRODUCTION
                return 0
        return 0

    def _probe_consumption(self, entries: list[dict[str, Any]], found: SupportedFeatures) -> int:
        phases = 0
        for entry in entries:
            # Some v4 firmware omits measurementType on inactive entries: check activeCount first.
            if not entry.get("activeCount"):
                continue
            feature = _CONSUMPTION_FEATURES.get(str(entry.get("measurementType")))
            if feature is not None and feature not in found:
                self.features |= feature
            phases = max(phases, _active_lines(entry.get("lines")))
        return phases

    def _probe_acb(self, storage: list[dict[str, Any]], found: SupportedFeatures) -> None:
        if not storage or SupportedFeatures.ACB in found:
            return
        count = storage[0].get("activeCount")
        # activeCount without percentFull is a mis-configured system: ignore its ACB.
        if count and "percentFull" in storage[0]:
            self.features |= SupportedFeatures.ACB
            self.state.acb_count = count

    def freeze(self) -> None:
        """Also snapshot whether a production CT exists (checked on every update)."""
        super().freeze()
        self._has_production_ct = CtType.PRODUCTION in self.state.meter_types

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill production, consumption (+ phases) and ACB power, as claimed at probe."""
        doc = await reader.decode(self.path, PRODUCTION_DECODER)
        mask = self.mask
        if mask & _PRODUCTION:
            self._update_production(doc, out)
        if mask & _CONSUMPTION:
            self._update_consumption(doc, out)
        if mask & _ACB:
            out.acb_power = pm.acb_power(doc, self.path)
        if self.state.total_is_net_fw and mask & _METERING:
            self._repair_total_consumption(out)

    def _update_production(self, doc: ProductionDoc, out: EnvoyData) -> None:
        production, phases = pm.system_production(
            doc, self.path, self._has_production_ct, self.state.phase_count
        )
        out.system_production = production
        if phases:
            out.system_production_phases = phases

    def _update_consumption(self, doc: ProductionDoc, out: EnvoyData) -> None:
        total, net, total_phases, net_phases = pm.consumption(
            doc, self.path, self.state.phase_count
        )
        out.system_consumption = total
        out.system_net_consumption = net
        if total_phases:
            out.system_consumption_phases = total_phases
        if net_phases:
            out.system_net_consumption_phases = net_phases

    def _repair_total_consumption(self, out: EnvoyData) -> None:
        # FW 8.3.5433+ overwrites total-consumption lifetime/power with the net values.
        total, net = out.system_consumption, out.system_net_consumption
        if total is None or net is None or not pm.copied_from_net(total, net):
            return
        production = out.system_production
        if production is None:
            # Without reliable production the total cannot be rebuilt; report nothing.
            _LOGGER.debug("production total_consumption=unrepairable reason=no-production")
            out.system_consumption = None
            out.system_consumption_phases = None
            return
        pm.add_production(total, production)
        self._repair_phases(out)

    def _repair_phases(self, out: EnvoyData) -> None:
        prod_phases = out.system_production_phases
        cons_phases = out.system_consumption_phases
        net_phases = out.system_net_consumption_phases
        if self.state.phase_count <= 1 or not (prod_phases and cons_phases and net_phases):
            return
        for name in set(prod_phases) & set(cons_phases) & set(net_phases):
            cons, net, prod = cons_phases[name], net_phases[name], prod_phases[name]
            if cons and net and prod and pm.copied_from_net(cons, net):
                pm.add_production(cons, prod)


class ProductionJsonUpdater(ProductionUpdater):
    """``/production.json?details=1``: the primary source (with per-phase ``lines``)."""

    path = endpoints.PRODUCTION_JSON


class ProductionFallbackUpdater(ProductionUpdater):
    """Re-reads the first working production document, accepting its inverters entry.

    This is how metered Envoys without CTs on new firmware report production.
    """

    path = endpoints.PRODUCTION_JSON
    inverters_fallback = True
