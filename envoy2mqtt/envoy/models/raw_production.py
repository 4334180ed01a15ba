"""Raw bodies of ``/production.json``, ``/production`` and ``/api/v1/production``."""

from __future__ import annotations

import msgspec


class ProductionLine(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """One phase (``lines[i]``) of a production or consumption entry; missing values read 0."""

    w_now: float | None = None
    wh_lifetime: float | None = None
    wh_today: float | None = None
    wh_last_seven_days: float | None = None


class ProductionEntry(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """One element of the ``production`` or ``consumption`` list."""

    type: str | None = None
    active_count: int | None = None
    measurement_type: str | None = None
    w_now: float | None = None
    wh_lifetime: float | None = None
    wh_today: float | None = None
    wh_last_seven_days: float | None = None
    lines: list[ProductionLine] | None = None


class StorageEntry(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """One element of the ``storage`` list (legacy AC Batteries)."""

    active_count: int | None = None
    w_now: float | None = None
    wh_now: float | None = None
    percent_full: int | None = None
    state: str | None = None


class ProductionDoc(msgspec.Struct, kw_only=True, gc=False):
    """The whole ``/production(.json)`` document."""

    production: list[ProductionEntry] | None = None
    consumption: list[ProductionEntry] | None = None
    storage: list[StorageEntry] | None = None


class ProductionV1(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """``/api/v1/production``: solar totals only."""

    watt_hours_today: int
    watt_hours_seven_days: int
    watt_hours_lifetime: int
    watts_now: int


PRODUCTION_DECODER = msgspec.json.Decoder(ProductionDoc, strict=False)
PRODUCTION_V1_DECODER = msgspec.json.Decoder(ProductionV1, strict=False)
