"""IQ Batteries, System Controller, Collar and C6 combiner from ``/ivp/ensemble/*``."""

from __future__ import annotations

import logging
from typing import TypeVar

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyMalformedResponse
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import (
    C6CC,
    BatteryAggregate,
    Collar,
    Encharge,
    EnchargeAggregate,
    EnchargePower,
    Enpower,
    EnvoyData,
)
from envoy2mqtt.envoy.models.raw_ensemble import (
    C6_DECODER,
    COLLAR_DECODER,
    ENCHARGE_DECODER,
    ENPOWER_DECODER,
    INVENTORY_DECODER,
    POWER_DECODER,
    SECCTRL_DECODER,
    InventoryGroup,
    SecCtrl,
)
from envoy2mqtt.envoy.models.wire import adopt
from envoy2mqtt.envoy.updaters.base import Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)

M = TypeVar("M", bound=msgspec.Struct)

_ENCHARGE = int(SupportedFeatures.ENCHARGE)
_ENPOWER = int(SupportedFeatures.ENPOWER)
_COLLAR = int(SupportedFeatures.COLLAR)
_C6CC = int(SupportedFeatures.C6CC)
_TYPE_FEATURES = {
    "ENPOWER": SupportedFeatures.ENPOWER,
    "ENCHARGE": SupportedFeatures.ENCHARGE,
    "COLLAR": SupportedFeatures.COLLAR,
    "C6 COMBINER CONTROLLER": SupportedFeatures.C6CC,
}


def _decode_device(
    raw: msgspec.Raw, decoder: msgspec.json.Decoder[M], model: type[M], what: str
) -> M:
    """Decode one device straight into ``model``."""
    try:
        return adopt(decoder.decode(raw), model)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise EnvoyMalformedResponse(endpoints.ENSEMBLE_INVENTORY, f"{what}: {err}") from err


def _single(
    groups: list[InventoryGroup], kind: str, decoder: msgspec.json.Decoder[M], model: type[M]
) -> M | None:
    """Return the first device of the last non-empty group of ``kind`` (None if incomplete)."""
    result: M | None = None
    for group in groups:
        if group.type == kind and group.devices:
            try:
                result = adopt(decoder.decode(group.devices[0]), model)
            except (msgspec.DecodeError, msgspec.ValidationError):
                result = None
    return result


def _last_group(groups: list[InventoryGroup], kind: str) -> InventoryGroup | None:
    for group in reversed(groups):
        if group.type == kind:
            return group
    return None


def _need(value: int | None, name: str) -> int:
    if value is None:
        raise EnvoyMalformedResponse(endpoints.ENSEMBLE_SECCTRL, f"{name} is missing")
    return value


def _encharge_aggregate(sec: SecCtrl) -> EnchargeAggregate:
    return EnchargeAggregate(
        available_energy=_need(sec.enc_avail_energy, "ENC_agg_avail_energy"),
        backup_reserve=_need(sec.enc_backup_energy, "ENC_agg_backup_energy"),
        state_of_charge=_need(sec.enc_soc, "ENC_agg_soc"),
        reserve_state_of_charge=_need(sec.adjusted_backup_soc, "adjusted_backup_soc"),
        configured_reserve_state_of_charge=_need(
            sec.configured_backup_soc, "configured_backup_soc"
        ),
        max_available_capacity=_need(sec.enc_max_capacity, "Enc_max_available_capacity"),
    )


def _battery_aggregate(sec: SecCtrl) -> BatteryAggregate:
    return BatteryAggregate(
        available_energy=_need(sec.enc_avail_energy, "ENC_agg_avail_energy")
        + _need(sec.acb_energy, "ACB_agg_energy"),
        state_of_charge=_need(sec.agg_soc, "agg_soc"),
        max_available_capacity=_need(sec.max_energy, "Max_energy"),
    )


class EnsembleUpdater(Updater):
    """Ensemble devices (FW >= 5.0.0), found through ``/ivp/ensemble/inventory``."""

    group = "ensemble"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim ENCHARGE, ENPOWER, COLLAR and C6CC by the device families present."""
        if self.state.version < endpoints.ENSEMBLE_MIN_VERSION:
            return None
        # Early 7.x firmware answers a spurious 401 here.
        groups = await probe_fetch(
            reader, endpoints.ENSEMBLE_INVENTORY, INVENTORY_DECODER, swallow_auth=True
        )
        for group in groups or []:
            self.features |= _TYPE_FEATURES.get(group.type, SupportedFeatures(0))
        return self.features or None

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill battery, system controller, collar and combiner data, as claimed."""
        groups = await reader.decode(endpoints.ENSEMBLE_INVENTORY, INVENTORY_DECODER)
        mask, acb_count = self.mask, self.state.acb_count
        secctrl: SecCtrl | None = None
        if mask & _ENCHARGE or acb_count:
            secctrl = await reader.decode(endpoints.ENSEMBLE_SECCTRL, SECCTRL_DECODER)
        inventory: dict[str, Encharge] | None = None
        power: dict[str, EnchargePower] | None = None
        aggregate: EnchargeAggregate | None = None
        if mask & _ENCHARGE:
            assert secctrl is not None
            power = await self._encharge_power(reader)
            inventory = _encharge_inventory(groups)
            aggregate = _encharge_aggregate(secctrl)
        enpower: Enpower | None = None
        if mask & _ENPOWER:
            group = _last_group(groups, "ENPOWER")
            if group is not None and group.devices:
                enpower = _decode_device(group.devices[0], ENPOWER_DECODER, Enpower, "enpower")
        battery: BatteryAggregate | None = None
        # ACBs reported by the production document: add them to the combined battery view.
        if acb_count:
            assert secctrl is not None
            battery = _battery_aggregate(secctrl)
        collar = _single(groups, "COLLAR", COLLAR_DECODER, Collar) if mask & _COLLAR else None
        c6cc = _single(groups, "C6 COMBINER CONTROLLER", C6_DECODER, C6CC) if mask & _C6CC else None
        out.encharge_inventory = inventory
        out.encharge_power = power
        out.encharge_aggregate = aggregate
        out.enpower = enpower
        out.battery_aggregate = battery
        out.collar = collar
        out.c6cc = c6cc

    @staticmethod
    async def _encharge_power(reader: Reader) -> dict[str, EnchargePower]:
        power = await reader.decode(endpoints.ENSEMBLE_POWER, POWER_DECODER)
        return {
            device.serial_num: EnchargePower(
                apparent_power_mva=device.apparent_power_mva,
                real_power_mw=device.real_power_mw,
                soc=device.soc,
            )
            for device in power.devices
        }


def _encharge_inventory(groups: list[InventoryGroup]) -> dict[str, Encharge]:
    group = _last_group(groups, "ENCHARGE")
    inventory: dict[str, Encharge] = {}
    for raw in group.devices if group else ():
        device = _decode_device(raw, ENCHARGE_DECODER, Encharge, "encharge")
        inventory[device.serial_number] = device
    return inventory
