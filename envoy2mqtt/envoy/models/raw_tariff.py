"""Raw body of ``/admin/lib/tariff``, decoded into :class:`Tariff` (same keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from envoy2mqtt.envoy.models.data import Tariff
from envoy2mqtt.envoy.models.wire import wire_form

if TYPE_CHECKING:  # the twin has exactly Tariff's attributes (see models.wire)
    TariffBody = Tariff
else:
    TariffBody = wire_form(
        Tariff,
        defaults=dict.fromkeys(("logger", "date", "storage_settings", "seasons_sell")),
        # Generic first because the Envoy may send {}: converted before adopt().
        types={"storage_settings": dict[str, Any] | None},
    )
"""``tariff``; everything but the storage settings is the data model's already."""


class TariffDoc(msgspec.Struct, kw_only=True, gc=False):
    """The ``/admin/lib/tariff`` document (the read-only ``schedule`` block is ignored)."""

    tariff: TariffBody


TARIFF_DECODER = msgspec.json.Decoder(TariffDoc, strict=False)
