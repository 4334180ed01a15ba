"""Raw body of ``/inventory.json?deleted=1`` (device inventory; used for AC Batteries)."""

from __future__ import annotations

from typing import Any

import msgspec


class RawAcb(msgspec.Struct, kw_only=True, gc=False):
    """One device of the ``ACB`` group; everything but the serial may be missing."""

    serial_num: str | int | None = None
    admin_state: int | None = None
    part_num: str = ""
    sleep_enabled: bool = False
    charge_status: str | None = None
    device_status: list[Any] = msgspec.field(default_factory=list)
    percent_full: int = msgspec.field(default=0, name="percentFull")
    max_cell_temp: int | None = msgspec.field(default=None, name="maxCellTemp")
    communicating: bool = False
    operating: bool = False
    producing: bool = False
    sleep_min_soc: int | None = None
    sleep_max_soc: int | None = None


class DeviceGroup(msgspec.Struct, kw_only=True, gc=False):
    """One device family; only ``ACB`` devices are decoded further."""

    type: str | None = None
    devices: list[msgspec.Raw] = msgspec.field(default_factory=list)


INVENTORY_DECODER = msgspec.json.Decoder(list[DeviceGroup], strict=False)
ACB_DECODER = msgspec.json.Decoder(RawAcb, strict=False)
