"""Raw bodies of ``/ivp/ensemble/inventory``, ``/ivp/ensemble/power`` and ``.../secctrl``."""

from __future__ import annotations

import msgspec


class InventoryGroup(msgspec.Struct, kw_only=True, gc=False):
    """One device family; devices are decoded later with the decoder of their type."""

    type: str
    devices: list[msgspec.Raw] = msgspec.field(default_factory=list)


class _EnsembleCore(msgspec.Struct, kw_only=True, gc=False):
    """Keys every ensemble device (Encharge, Enpower, Collar, C6) shares."""

    admin_state: int
    communicating: bool
    img_load_date: int
    installed: int
    last_rpt_date: int
    part_num: str
    serial_num: str


class EnsembleDevice(_EnsembleCore, kw_only=True, gc=False):
    """Encharge, Enpower and C6: the admin state code is always there."""

    admin_state_str: str


class EnchargeDevice(EnsembleDevice, kw_only=True, gc=False):
    """An IQ Battery."""

    bmu_fw_version: str
    comm_level_2_4_ghz: int
    comm_level_sub_ghz: int
    dc_switch_off: bool
    encharge_capacity: int
    encharge_rev: int
    img_pnum_running: str
    led_status: int
    max_cell_temp: int = msgspec.field(name="maxCellTemp")
    percent_full: int = msgspec.field(name="percentFull")
    temperature: int
    operating: bool | None = None
    zigbee_dongle_fw_version: str | None = None


class EnpowerDevice(EnsembleDevice, kw_only=True, gc=False):
    """An IQ System Controller."""

    grid_mode: str = msgspec.field(name="Enpwr_grid_mode")
    comm_level_2_4_ghz: int
    comm_level_sub_ghz: int
    img_pnum_running: str
    mains_admin_state: str
    mains_oper_state: str
    temperature: int
    operating: bool | None = None
    zigbee_dongle_fw_version: str | None = None


class CollarDevice(_EnsembleCore, kw_only=True, gc=False):
    """An IQ Meter Collar."""

    # The collar's real grid connection shows here (see catalog.collar.grid_status); a
    # collar without it keeps its device, with the grid status taken from grid_state.
    admin_state_str: str | None = None
    img_pnum_running: str
    temperature: int
    mid_state: str
    grid_state: str
    control_error: int
    collar_state: str


class C6Device(EnsembleDevice, kw_only=True, gc=False):
    """A C6 Combiner Controller."""

    fw_version: str
    dmir_version: str


class PowerDevice(msgspec.Struct, kw_only=True, gc=False):
    """One battery in ``/ivp/ensemble/power``."""

    serial_num: str
    real_power_mw: int
    apparent_power_mva: int
    soc: int


class EnsemblePower(msgspec.Struct, kw_only=True, gc=False):
    """``/ivp/ensemble/power``; the list key really is ``devices:`` (with a colon)."""

    devices: list[PowerDevice] = msgspec.field(name="devices:")


class SecCtrl(msgspec.Struct, kw_only=True, gc=False):
    """``/ivp/ensemble/secctrl``: aggregate battery state (fields optional; checked on use)."""

    enc_avail_energy: int | None = msgspec.field(default=None, name="ENC_agg_avail_energy")
    enc_backup_energy: int | None = msgspec.field(default=None, name="ENC_agg_backup_energy")
    enc_soc: int | None = msgspec.field(default=None, name="ENC_agg_soc")
    adjusted_backup_soc: int | None = None
    configured_backup_soc: int | None = None
    enc_max_capacity: int | None = msgspec.field(default=None, name="Enc_max_available_capacity")
    agg_soc: int | None = None
    max_energy: int | None = msgspec.field(default=None, name="Max_energy")
    acb_energy: int | None = msgspec.field(default=None, name="ACB_agg_energy")


INVENTORY_DECODER = msgspec.json.Decoder(list[InventoryGroup], strict=False)
ENCHARGE_DECODER = msgspec.json.Decoder(EnchargeDevice, strict=False)
ENPOWER_DECODER = msgspec.json.Decoder(EnpowerDevice, strict=False)
COLLAR_DECODER = msgspec.json.Decoder(CollarDevice, strict=False)
C6_DECODER = msgspec.json.Decoder(C6Device, strict=False)
POWER_DECODER = msgspec.json.Decoder(EnsemblePower, strict=False)
SECCTRL_DECODER = msgspec.json.Decoder(SecCtrl, strict=False)
