"""Raw bodies of ``/ivp/ensemble/dry_contacts`` and ``/ivp/ss/dry_contact_settings``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from envoy2mqtt.envoy.models.data import DryContactSettings, DryContactStatus
from envoy2mqtt.envoy.models.wire import wire_form

if TYPE_CHECKING:  # the twin has exactly DryContactSettings' attributes (see models.wire)
    RelaySettings = DryContactSettings
else:
    RelaySettings = wire_form(
        DryContactSettings,
        names={"black_start": "black_s_start", "generator_action": "gen_action"},
        defaults=dict.fromkeys(
            (
                "black_start",
                "essential_end_time",
                "essential_start_time",
                "manual_override",
                "priority",
            )
        ),
        # The Envoy sends these booleans as "true"/"false": normalised before adopt().
        types={"override": str | bool, "manual_override": str | bool | None},
    )
"""Configuration of one relay, decoded into :class:`DryContactSettings`."""


class StatusDoc(msgspec.Struct, kw_only=True, gc=False):
    """The ``/ivp/ensemble/dry_contacts`` document."""

    dry_contacts: list[DryContactStatus]  # same keys as the data model: decoded into it


class SettingsDoc(msgspec.Struct, kw_only=True, gc=False):
    """The ``/ivp/ss/dry_contact_settings`` document."""

    dry_contacts: list[RelaySettings]


STATUS_DECODER = msgspec.json.Decoder(StatusDoc, strict=False)
SETTINGS_DECODER = msgspec.json.Decoder(SettingsDoc, strict=False)


_WIRE_SOURCE = "_wire_source"
_GENERIC = msgspec.json.Decoder()


def keep_wire_source(settings: DryContactSettings, document: bytes) -> None:
    """Remember the settings document ``settings`` was decoded from (private, not encoded)."""
    settings.__dict__[_WIRE_SOURCE] = document


def carry_wire_source(source: DryContactSettings, target: DryContactSettings) -> None:
    """Give ``target`` (a changed copy of ``source``) the same settings document."""
    document = source.__dict__.get(_WIRE_SOURCE)
    if document is not None:
        target.__dict__[_WIRE_SOURCE] = document


def wire_relay(settings: DryContactSettings) -> dict[str, Any] | None:
    """Return the Envoy's own object of this relay (every key, in its order), if known.

    Only parsed when a write needs it, so updates pay nothing for it. None when the settings
    were not read from an Envoy (built by hand or from an export).
    """
    document = settings.__dict__.get(_WIRE_SOURCE)
    if document is None:
        return None
    doc = _GENERIC.decode(document)  # the typed decode of the same bytes succeeded
    relays = doc.get("dry_contacts") if isinstance(doc, dict) else None
    found: dict[str, Any] | None = None
    # The last relay with this id wins, as in the keyed model.
    for relay in relays if isinstance(relays, list) else []:
        if isinstance(relay, dict) and relay.get("id") == settings.id:
            found = relay
    return found
