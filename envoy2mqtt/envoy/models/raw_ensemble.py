"""Raw bodies of ``/ivp/ensemble/inventory``, ``/ivp/ensemble/power`` and ``.../secctrl``."""

from __future__ import annotations

import msgspec

from envoy2mqtt.envoy.models.data import C6CC, Collar, Encharge, Enpower
from envoy2mqtt.envoy.models.wire import wire_form


class InventoryGroup(msgspec.Struct, kw_only=True, gc=False):
    """One device family; devices are decoded later with the decoder of their type."""

    type: str
    devices: list[msgspec.Raw] = msgspec.field(default_factory=list)


# Keys every ensemble device spells its own way (the rest keep the data model's names).
_DEVICE_KEYS = {
    "firmware_loaded_date": "img_load_date",
    "firmware_version": "img_pnum_running",
    "installed_date": "installed",
    "last_report_date": "last_rpt_date",
    "part_number": "part_num",
    "serial_number": "serial_num",
}
# Keys newer firmware added: older devices leave them out.
_OPTIONAL = {"operating": None, "zigbee_dongle_fw_version": None}

EnchargeDevice = wire_form(
    Encharge,
    names={
        **_DEVICE_KEYS,
        "bmu_firmware_version": "bmu_fw_version",
        "encharge_revision": "encharge_rev",
        "max_cell_temp": "maxCellTemp",
        "percent_full": "percentFull",
    },
    defaults={**_OPTIONAL, "temperature_unit": "C"},
)
"""An IQ Battery, decoded into :class:`Encharge`."""

EnpowerDevice = wire_form(
    Enpower,
    names={**_DEVICE_KEYS, "grid_mode": "Enpwr_grid_mode"},
    # The System Controller reports Fahrenheit, unlike every other device.
    defaults={**_OPTIONAL, "temperature_unit": "F"},
)
"""An IQ System Controller, decoded into :class:`Enpower`."""

CollarDevice = wire_form(
    Collar,
    names=_DEVICE_KEYS,
    # The collar's real grid connection shows in admin_state_str (see
    # catalog.collar.grid_status); a collar without it keeps its device.
    defaults={"admin_state_str": None, "temperature_unit": "C"},
)
"""An IQ Meter Collar, decoded into :class:`Collar`."""

C6Device = wire_form(C6CC, names={**_DEVICE_KEYS, "firmware_version": "fw_version"})
"""A C6 Combiner Controller, decoded into :class:`C6CC`."""


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
