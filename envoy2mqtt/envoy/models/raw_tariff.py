"""Raw body of ``/admin/lib/tariff``."""

from __future__ import annotations

from typing import Any

import msgspec


class RawStorageSettings(msgspec.Struct, kw_only=True, gc=False):
    """``tariff.storage_settings``."""

    operation_mode_sub_type: str
    reserved_soc: float
    very_low_soc: int
    charge_from_grid: bool
    mode: str | None = None
    date: str | None = None
    opt_schedules: bool | None = None


class TariffBody(msgspec.Struct, kw_only=True, gc=False):
    """``tariff``; storage settings stay generic because the Envoy may send ``{}``."""

    currency: dict[str, Any]
    single_rate: dict[str, Any]
    seasons: list[Any]
    logger: str | None = None
    date: str | None = None
    storage_settings: dict[str, Any] | None = None
    seasons_sell: list[Any] | None = None


class TariffDoc(msgspec.Struct, kw_only=True, gc=False):
    """The ``/admin/lib/tariff`` document (the read-only ``schedule`` block is ignored)."""

    tariff: TariffBody


TARIFF_DECODER = msgspec.json.Decoder(TariffDoc, strict=False)
