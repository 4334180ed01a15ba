"""Tariff and battery storage settings from ``/admin/lib/tariff``."""

from __future__ import annotations

from typing import Any

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyMalformedResponse
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, StorageSettings, Tariff
from envoy2mqtt.envoy.models.raw_tariff import TARIFF_DECODER, RawStorageSettings
from envoy2mqtt.envoy.updaters.base import (
    GENERIC_DECODER,
    Reader,
    Updater,
    is_error_document,
    probe_fetch,
)

_LEGACY_SAVINGS = "savings-mode"
_SAVINGS = "economy"


def storage_settings(raw: dict[str, Any]) -> StorageSettings:
    """Convert ``tariff.storage_settings``; the legacy ``savings-mode`` is named ``economy``."""
    try:
        settings = msgspec.convert(raw, RawStorageSettings, strict=False)
    except msgspec.ValidationError as err:
        raise EnvoyMalformedResponse(endpoints.TARIFF, f"storage_settings: {err}") from err
    mode = _SAVINGS if settings.mode == _LEGACY_SAVINGS else (settings.mode or None)
    return StorageSettings(
        mode=mode,
        operation_mode_sub_type=settings.operation_mode_sub_type,
        reserved_soc=settings.reserved_soc,
        very_low_soc=settings.very_low_soc,
        charge_from_grid=settings.charge_from_grid,
        date=settings.date,
        opt_schedules=settings.opt_schedules,
    )


class TariffUpdater(Updater):
    """The tariff document (any firmware that has it)."""

    group = "tariff"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim TARIFF unless the endpoint is absent, empty or an error document."""
        # FW 3.9.36 answers 401 here even for authenticated users.
        doc = await probe_fetch(reader, endpoints.TARIFF, GENERIC_DECODER, swallow_auth=True)
        if is_error_document(doc):
            return None
        self.features |= SupportedFeatures.TARIFF
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``tariff``; everything but the storage settings is passed through."""
        body = (await reader.decode(endpoints.TARIFF, TARIFF_DECODER)).tariff
        out.tariff = Tariff(
            currency=body.currency,
            logger=body.logger,
            date=body.date,
            storage_settings=storage_settings(body.storage_settings)
            if body.storage_settings
            else None,
            single_rate=body.single_rate,
            seasons=body.seasons,
            seasons_sell=body.seasons_sell,
        )
