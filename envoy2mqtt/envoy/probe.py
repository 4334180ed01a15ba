"""Probe an Envoy for its data sources, then run the matching updaters group by group."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Final

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyError, EnvoyPoorDataQuality, EnvoyProbeFailed
from envoy2mqtt.envoy.features import CtType, SupportedFeatures
from envoy2mqtt.envoy.fetch import Fetcher
from envoy2mqtt.envoy.firmware import EnvoyInfo
from envoy2mqtt.envoy.groups import ALL_GROUPS, DATA_GROUPS, PRODUCTION
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.updaters.acb_inventory import AcbInventoryUpdater
from envoy2mqtt.envoy.updaters.base import ProbeState, Reader, Updater
from envoy2mqtt.envoy.updaters.dry_contacts import DryContactsUpdater
from envoy2mqtt.envoy.updaters.ensemble import EnsembleUpdater
from envoy2mqtt.envoy.updaters.generator import GeneratorUpdater
from envoy2mqtt.envoy.updaters.inverters import DeviceDataUpdater, InvertersV1Updater
from envoy2mqtt.envoy.updaters.legacy_html import LegacyHtmlProductionUpdater
from envoy2mqtt.envoy.updaters.livedata import LiveDataUpdater
from envoy2mqtt.envoy.updaters.meters import MetersUpdater
from envoy2mqtt.envoy.updaters.production import (
    ProductionFallbackUpdater,
    ProductionJsonUpdater,
    ProductionUpdater,
)
from envoy2mqtt.envoy.updaters.production_v1 import ProductionV1Updater
from envoy2mqtt.envoy.updaters.tariff import TariffUpdater

_LOGGER = logging.getLogger(__name__)

UPDATERS: Final[tuple[type[Updater], ...]] = (
    MetersUpdater,
    ProductionJsonUpdater,
    ProductionUpdater,
    ProductionV1Updater,
    ProductionFallbackUpdater,
    LegacyHtmlProductionUpdater,
    DeviceDataUpdater,
    InvertersV1Updater,
    EnsembleUpdater,
    DryContactsUpdater,
    AcbInventoryUpdater,
    TariffUpdater,
    GeneratorUpdater,
    LiveDataUpdater,
)
"""Probe order matters: an updater never claims a feature an earlier one claimed."""


def _check_updater_groups() -> None:
    """Every updater fills a declared data group (checked at import)."""
    if stray := sorted({u.group for u in UPDATERS} - set(DATA_GROUPS)):
        raise TypeError(f"updaters fill undeclared data groups: {', '.join(stray)}")


_check_updater_groups()


class ProbeResult(msgspec.Struct, frozen=True, kw_only=True):
    """What probing found out about one Envoy.

    Attributes:
        features: the supported feature flags.
        phase_count: configured phases (1 unless CTs say otherwise).
        phase_mode: ``single``/``split``/``three`` from the CT setup, else None.
        active_phase_count: phases with data in the production document.
        ct_meter_count: enabled CTs.
        meter_types: measurement type of every enabled CT, in ``/ivp/meters`` order.
        consumption_meter_type: ``net-consumption`` or ``total-consumption`` CT, if any.
        production_meter_type: ``production`` if a production CT is enabled.
        storage_meter_type: ``storage`` if a storage CT is enabled.
        acb_count: AC Batteries reported by the production document.
        envoy_model: pyenphase-style description (``Envoy, phases: 2, ...``).
        groups: the active data groups, in update order.
    """

    features: SupportedFeatures
    phase_count: int
    phase_mode: str | None
    active_phase_count: int
    ct_meter_count: int
    meter_types: tuple[str, ...]
    consumption_meter_type: str | None
    production_meter_type: str | None
    storage_meter_type: str | None
    acb_count: int
    envoy_model: str
    groups: tuple[str, ...]

    @property
    def ct_meter_list(self) -> tuple[str, ...]:
        """Alias of ``meter_types`` (pyenphase's name)."""
        return self.meter_types


def _first_of(types: list[str], *wanted: str) -> str | None:
    return next((kind for kind in wanted if kind in types), None)


def _envoy_model(state: ProbeState) -> str:
    model = "Envoy"
    if state.phase_count > 1 or state.ct_meter_count > 0:
        model += f", phases: {state.phase_count}, phase mode: {state.phase_mode}"
    return model + "".join(f", {kind} CT" for kind in state.meter_types)


def _result(state: ProbeState, features: SupportedFeatures, groups: list[str]) -> ProbeResult:
    types = state.meter_types
    return ProbeResult(
        features=features,
        phase_count=state.phase_count,
        phase_mode=state.phase_mode,
        active_phase_count=state.active_phase_count,
        ct_meter_count=state.ct_meter_count,
        meter_types=tuple(types),
        consumption_meter_type=_first_of(types, CtType.NET_CONSUMPTION, CtType.TOTAL_CONSUMPTION),
        production_meter_type=_first_of(types, CtType.PRODUCTION),
        storage_meter_type=_first_of(types, CtType.STORAGE),
        acb_count=state.acb_count,
        envoy_model=_envoy_model(state),
        groups=tuple(groups),
    )


class DataCollector:
    """Owns the updaters of one Envoy: ``probe`` once, then ``update`` repeatedly."""

    def __init__(self, info: EnvoyInfo) -> None:
        """Create a collector for the Envoy described by ``info``."""
        self.info = info
        # FW 3.x answers with all zeros right after boot (newer firmware answers 503).
        self._check_zero_production = info.version.major == "3"
        self._by_group: dict[str, list[Updater]] = {}
        self._failing: set[str] = set()
        self.result: ProbeResult | None = None

    async def probe(self, fetcher: Fetcher) -> ProbeResult:
        """Find the data sources of this Envoy.

        Raises:
            EnvoyProbeFailed: no source of solar production was found.
            EnvoyAuthenticationRequired: 401/403 on an endpoint where that is not a quirk.
            EnvoyCommunicationError: transport failure.
        """
        state = ProbeState(version=self.info.version, imeter=self.info.imeter)
        reader = Reader(fetcher)
        features = SupportedFeatures(0)
        by_group: dict[str, list[Updater]] = {}
        for updater_type in UPDATERS:
            updater = updater_type(state)
            claimed = await updater.probe(reader, features)
            if claimed is None:
                continue
            features |= claimed
            by_group.setdefault(updater.group, []).append(updater)
        if SupportedFeatures.PRODUCTION not in features:
            raise EnvoyProbeFailed("Unable to determine production endpoint")
        for updaters in by_group.values():
            for updater in updaters:
                updater.freeze()  # the shared probe state is final only now
        self._by_group = by_group
        self.result = _result(state, features, [g for g in ALL_GROUPS if g in by_group])
        _LOGGER.info(
            "probe firmware=%s features=%s groups=%s",
            self.info.firmware,
            ",".join(features.names()),
            ",".join(self.result.groups),
        )
        return self.result

    async def update(
        self, fetcher: Fetcher, data: EnvoyData, groups: Collection[str] | None = None
    ) -> dict[str, EnvoyError]:
        """Read the requested groups (None: all active ones) into ``data``.

        A group that fails leaves its fields in ``data`` untouched and is reported in the
        result; the other groups are still read.

        Raises:
            ValueError: ``groups`` names an unknown group.
            RuntimeError: ``probe`` has not succeeded yet.
        """
        result, by_group = self.result, self._by_group  # a concurrent re-probe swaps both
        if result is None:
            raise RuntimeError("probe() must succeed before update()")
        if groups is not None and (unknown := set(groups) - set(ALL_GROUPS)):
            raise ValueError(f"unknown data groups: {', '.join(sorted(unknown))}")
        reader = Reader(fetcher)
        errors: dict[str, EnvoyError] = {}
        failing = self._failing
        for group in result.groups:
            if groups is not None and group not in groups:
                continue
            updaters = by_group[group]
            try:
                if len(updaters) == 1 and group != PRODUCTION.name:
                    # Alone in its group: the updater assigns every field at once, or none.
                    await updaters[0].update(reader, data)
                else:
                    await self._update_staged(reader, data, group, updaters)
            except EnvoyError as err:
                self._note_failure(group, err)
                errors[group] = err
                continue
            if failing and group in failing:
                failing.discard(group)
                _LOGGER.info("update group=%s recovered=true", group)
        return errors

    async def _update_staged(
        self, reader: Reader, data: EnvoyData, group: str, updaters: list[Updater]
    ) -> None:
        """Run several updaters (or checks) on a scratch copy; copy the group over on success."""
        scratch = EnvoyData()
        for updater in updaters:
            await updater.update(reader, scratch)
        self._check_quality(group, scratch)
        for name in DATA_GROUPS[group].fields:
            setattr(data, name, getattr(scratch, name))

    def _note_failure(self, group: str, err: EnvoyError) -> None:
        # Warn once when a group starts failing; repeats of a persistent failure stay at debug.
        level = logging.DEBUG if group in self._failing else logging.WARNING
        self._failing.add(group)
        _LOGGER.log(level, "update group=%s error=%s detail=%s", group, type(err).__name__, err)

    def _check_quality(self, group: str, scratch: EnvoyData) -> None:
        production = scratch.system_production
        if group != PRODUCTION.name or production is None or not self._check_zero_production:
            return
        total = (
            production.watts_now
            + production.watt_hours_today
            + production.watt_hours_last_7_days
            + production.watt_hours_lifetime
        )
        if total == 0:
            raise EnvoyPoorDataQuality(
                f"production all zero on firmware {self.info.firmware} (still starting up)"
            )


__all__ = ["ALL_GROUPS", "DataCollector", "ProbeResult", "endpoints"]
