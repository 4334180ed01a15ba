"""IQ Batteries, System Controller, Collar and C6 combiner from ``/ivp/ensemble/*``."""

from __future__ import annotations

import logging
from collections.abc import Callable
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
    C6Device,
    CollarDevice,
    EnchargeDevice,
    EnpowerDevice,
    InventoryGroup,
    SecCtrl,
)
from envoy2mqtt.envoy.updaters.base import Reader, Updater, probe_fetch

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M")

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


def _decode_device(raw: msgspec.Raw, decoder: msgspec.json.Decoder[T], what: str) -> T:
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise EnvoyMalformedResponse(endpoints.ENSEMBLE_INVENTORY, f"{what}: {err}") from err


def _optional_device(raw: msgspec.Raw, decoder: msgspec.json.Decoder[T]) -> T | None:
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _single(
    groups: list[InventoryGroup],
    kind: str,
    decoder: msgspec.json.Decoder[T],
    convert: Callable[[T], M],
) -> M | None:
    """Return the first device of the last non-empty group of ``kind`` (None if incomplete)."""
    result: M | None = None
    for group in groups:
        if group.type == kind and group.devices:
            device = _optional_device(group.devices[0], decoder)
            result = None if device is None else convert(device)
    return result


def _last_group(groups: list[InventoryGroup], kind: str) -> InventoryGroup | None:
    for group in reversed(groups):
        if group.type == kind:
            return group
    return None


def _encharge(device: EnchargeDevice) -> Encharge:
    # Positional, in Encharge's field order: 16+ keyword arguments take CPython's slow path.
    return Encharge(
        device.admin_state,  # admin_state
        device.admin_state_str,  # admin_state_str
        device.bmu_fw_version,  # bmu_firmware_version
        device.comm_level_2_4_ghz,  # comm_level_2_4_ghz
        device.comm_level_sub_ghz,  # comm_level_sub_ghz
        device.communicating,  # communicating
        device.dc_switch_off,  # dc_switch_off
        device.encharge_capacity,  # encharge_capacity
        device.encharge_rev,  # encharge_revision
        device.img_load_date,  # firmware_loaded_date
        device.img_pnum_running,  # firmware_version
        device.installed,  # installed_date
        device.last_rpt_date,  # last_report_date
        device.led_status,  # led_status
        device.max_cell_temp,  # max_cell_temp
        device.operating,  # operating
        device.part_num,  # part_number
        device.percent_full,  # percent_full
        device.serial_num,  # serial_number
        device.temperature,  # temperature
        "C",  # temperature_unit
        device.zigbee_dongle_fw_version,  # zigbee_dongle_fw_version
    )


def _enpower(device: EnpowerDevice) -> Enpower:
    # Positional, in Enpower's field order (see _encharge).
    return Enpower(
        device.grid_mode,  # grid_mode
        device.admin_state,  # admin_state
        device.admin_state_str,  # admin_state_str
        device.comm_level_2_4_ghz,  # comm_level_2_4_ghz
        device.comm_level_sub_ghz,  # comm_level_sub_ghz
        device.communicating,  # communicating
        device.img_load_date,  # firmware_loaded_date
        device.img_pnum_running,  # firmware_version
        device.installed,  # installed_date
        device.last_rpt_date,  # last_report_date
        device.mains_admin_state,  # mains_admin_state
        device.mains_oper_state,  # mains_oper_state
        device.operating,  # operating
        device.part_num,  # part_number
        device.serial_num,  # serial_number
        device.temperature,  # temperature
        # The System Controller reports Fahrenheit, unlike every other device.
        "F",  # temperature_unit
        device.zigbee_dongle_fw_version,  # zigbee_dongle_fw_version
    )


def _collar(device: CollarDevice) -> Collar:
    return Collar(
        admin_state=device.admin_state,
        admin_state_str=device.admin_state_str,
        firmware_loaded_date=device.img_load_date,
        firmware_version=device.img_pnum_running,
        installed_date=device.installed,
        last_report_date=device.last_rpt_date,
        communicating=device.communicating,
        mid_state=device.mid_state,
        grid_state=device.grid_state,
        part_number=device.part_num,
        serial_number=device.serial_num,
        temperature=device.temperature,
        temperature_unit="C",
        control_error=device.control_error,
        collar_state=device.collar_state,
    )


def _c6cc(device: C6Device) -> C6CC:
    return C6CC(
        admin_state=device.admin_state,
        admin_state_str=device.admin_state_str,
        firmware_loaded_date=device.img_load_date,
        firmware_version=device.fw_version,
        installed_date=device.installed,
        last_report_date=device.last_rpt_date,
        communicating=device.communicating,
        part_number=device.part_num,
        serial_number=device.serial_num,
        dmir_version=device.dmir_version,
    )


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
                enpower = _enpower(_decode_device(group.devices[0], ENPOWER_DECODER, "enpower"))
        battery: BatteryAggregate | None = None
        # ACBs reported by the production document: add them to the combined battery view.
        if acb_count:
            assert secctrl is not None
            battery = _battery_aggregate(secctrl)
        collar = _single(groups, "COLLAR", COLLAR_DECODER, _collar) if mask & _COLLAR else None
        c6cc = (
            _single(groups, "C6 COMBINER CONTROLLER", C6_DECODER, _c6cc) if mask & _C6CC else None
        )
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
        device = _decode_device(raw, ENCHARGE_DECODER, "encharge")
        inventory[device.serial_num] = _encharge(device)
    return inventory
