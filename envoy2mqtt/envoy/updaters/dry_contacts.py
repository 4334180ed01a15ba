"""Dry-contact relays of the IQ System Controller (Enpower): state and settings."""

from __future__ import annotations

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import DryContactSettings, EnvoyData
from envoy2mqtt.envoy.models.raw_dry_contacts import (
    SETTINGS_DECODER,
    STATUS_DECODER,
    RelaySettings,
    SettingsDoc,
    keep_wire_source,
)
from envoy2mqtt.envoy.models.wire import adopt
from envoy2mqtt.envoy.updaters.base import Reader, Updater


def _flag(value: str | bool) -> bool:
    # The Envoy sends booleans as the strings "true"/"false".
    return value if isinstance(value, bool) else value == "true"


def _settings(relay: RelaySettings) -> DryContactSettings:
    """Normalise a decoded relay in place and make it the data model's object."""
    relay.override = _flag(relay.override)
    manual = relay.manual_override
    relay.manual_override = _flag(manual) if manual else None
    return adopt(relay, DryContactSettings)


def _keyed_settings(doc: SettingsDoc, document: bytes) -> dict[str, DryContactSettings]:
    # Writes must send the whole relay back, keys this model does not hold included.
    by_id: dict[str, DryContactSettings] = {}
    for relay in doc.dry_contacts:
        model = by_id[relay.id] = _settings(relay)
        keep_wire_source(model, document)
    return by_id


def settings_from_body(body: bytes) -> dict[str, DryContactSettings]:
    """Decode a ``/ivp/ss/dry_contact_settings`` body as an update does, keyed by relay id.

    Raises:
        msgspec.DecodeError: the body is not JSON.
        msgspec.ValidationError: the body does not have the expected shape.
    """
    return _keyed_settings(SETTINGS_DECODER.decode(body), body)


class DryContactsUpdater(Updater):
    """Present with a System Controller; claims no feature of its own."""

    group = "dry_contacts"

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Active when the ensemble updater found an Enpower."""
        if SupportedFeatures.ENPOWER not in found:
            return None
        return SupportedFeatures(0)

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill ``dry_contact_status`` and ``dry_contact_settings`` keyed by relay id."""
        status = await reader.decode(endpoints.DRY_CONTACTS, STATUS_DECODER)
        settings = await reader.decode(endpoints.DRY_CONTACT_SETTINGS, SETTINGS_DECODER)
        document = await reader.body(endpoints.DRY_CONTACT_SETTINGS)
        # The status objects are decoded straight into the data model.
        out.dry_contact_status = {relay.id: relay for relay in status.dry_contacts}
        out.dry_contact_settings = _keyed_settings(settings, document)
