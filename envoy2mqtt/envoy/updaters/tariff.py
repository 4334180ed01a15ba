"""Tariff and battery storage settings from ``/admin/lib/tariff``."""

from __future__ import annotations

from typing import Any

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.errors import EnvoyMalformedResponse
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData, StorageSettings, Tariff
from envoy2mqtt.envoy.models.raw_tariff import TARIFF_DECODER
from envoy2mqtt.envoy.models.wire import adopt, wire_form
from envoy2mqtt.envoy.updaters.base import (
    GENERIC_DECODER,
    Reader,
    Updater,
    is_error_document,
    probe_fetch,
)

StorageSettingsWire = wire_form(StorageSettings, defaults={"mode": None})
_LEGACY_SAVINGS = "savings-mode"
_SAVINGS = "economy"


def storage_settings(raw: dict[str, Any]) -> StorageSettings:
    """Convert ``tariff.storage_settings``; the legacy ``savings-mode`` is named ``economy``."""
    try:
        # Same keys as the data model: converted straight into it.
        settings = msgspec.convert(raw, StorageSettingsWire, strict=False)
    except msgspec.ValidationError as err:
        raise EnvoyMalformedResponse(endpoints.TARIFF, f"storage_settings: {err}") from err
    mode = settings.mode
    settings.mode = _SAVINGS if mode == _LEGACY_SAVINGS else (mode or None)
    return adopt(settings, StorageSettings)


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
        raw: Any = body.storage_settings  # still the Envoy's generic object here
        body.storage_settings = storage_settings(raw) if raw else None
        out.tariff = adopt(body, Tariff)
