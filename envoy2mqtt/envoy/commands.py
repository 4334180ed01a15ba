"""Write commands: check a :mod:`command_types` value, then send the one request it means.

Everything is decided before any I/O: :func:`build_request` validates the command against
the probed features and the last-read data and returns the exact request, so a rejected
command never reaches the Envoy. Writes are sent once and never retried (a relay or tariff
write must not be applied twice by accident). The caller's ``data`` is never modified:
the device is the source of truth and the caller re-reads the returned groups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

import msgspec

from envoy2mqtt.envoy import endpoints, groups
from envoy2mqtt.envoy.command_types import (
    Command,
    SetDryContact,
    SetGridRelay,
    UpdateDryContactSettings,
)
from envoy2mqtt.envoy.commands_base import (
    ProbeLike,
    WriteRequest,
    check_fields,
    require_features,
    require_known,
)
from envoy2mqtt.envoy.commands_dry_contacts import encode_settings, merge_settings
from envoy2mqtt.envoy.commands_extra import EXTRA_BUILDERS, ExtraCommand
from envoy2mqtt.envoy.errors import (
    EnvoyCommandRejected,
    EnvoyFeatureNotAvailable,
    EnvoyHTTPStatusError,
)
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.fetch import Fetcher
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.updaters.tariff import STORAGE_SETTING_COMMANDS, storage_setting_request

__all__ = [
    "BUILDERS",
    "AnyCommand",
    "ProbeLike",
    "WriteRequest",
    "build_request",
    "execute",
    "validate",
]

_LOG = logging.getLogger(__name__)

_ERROR_DETAIL_CHARS: Final = 120

AnyCommand = Command | ExtraCommand
"""The MQTT-contract commands plus the optional ACB / generator writes."""


def _grid_relay(command: SetGridRelay, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    require_features(probe, SupportedFeatures.ENPOWER, "grid relay control")
    body = {"mains_admin_state": "closed" if command.on_grid else "open"}
    return WriteRequest("POST", endpoints.GRID_RELAY, body, groups.ENSEMBLE)


def _dry_contact(command: SetDryContact, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    require_features(probe, SupportedFeatures.ENPOWER, "dry contact control")
    relay_id = require_known(command.id, data.dry_contact_status, "dry contact id")
    body = {"dry_contacts": {"id": relay_id, "status": "closed" if command.closed else "open"}}
    return WriteRequest("POST", endpoints.DRY_CONTACTS, body, groups.DRY_CONTACTS)


def _dry_contact_settings(
    command: UpdateDryContactSettings, probe: ProbeLike, data: EnvoyData
) -> WriteRequest:
    require_features(probe, SupportedFeatures.ENPOWER, "dry contact settings")
    relay_id = require_known(command.id, data.dry_contact_settings, "dry contact id")
    merged = merge_settings(data.dry_contact_settings[relay_id], command.changes)
    body = {"dry_contacts": encode_settings(merged)}
    return WriteRequest("POST", endpoints.DRY_CONTACT_SETTINGS, body, groups.DRY_CONTACTS)


# Every builder takes (command, probe, data) even if it needs less, so dispatch is a lookup
# keyed by exact type (every command is a final msgspec Struct).
_Builder = Callable[[Any, ProbeLike, EnvoyData], WriteRequest]

BUILDERS: Final[dict[type, _Builder]] = {
    SetGridRelay: _grid_relay,
    SetDryContact: _dry_contact,
    UpdateDryContactSettings: _dry_contact_settings,
    **dict.fromkeys(STORAGE_SETTING_COMMANDS, storage_setting_request),
    **EXTRA_BUILDERS,
}
"""The write builder of every command type (storage settings: one for the whole union,
in :mod:`~envoy2mqtt.envoy.updaters.tariff`)."""


def build_request(command: AnyCommand, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    """Validate ``command`` and return the exact request it means; performs no I/O.

    Raises:
        EnvoyFeatureNotAvailable: the Envoy lacks a feature (or the data) the command needs.
        EnvoyCommandRejected: a value is invalid, or the command type is unknown.
    """
    builder = BUILDERS.get(type(command))
    if builder is None:
        # Callers outside the type checker (MQTT payload decoding) may pass anything.
        msg = f"unsupported command {type(command).__name__}"
        raise EnvoyCommandRejected(msg)
    check_fields(command)
    return builder(command, probe, data)


def validate(command: AnyCommand, probe: ProbeLike, data: EnvoyData) -> None:
    """Check that ``command`` can be sent to this Envoy; sends nothing, changes nothing.

    Raises:
        EnvoyFeatureNotAvailable: the Envoy lacks a feature (or the data) the command needs.
        EnvoyCommandRejected: a value is invalid.
    """
    build_request(command, probe, data)


def _command_name(command: object) -> str:
    config = getattr(type(command), "__struct_config__", None)
    tag = getattr(config, "tag", None)
    return str(tag) if tag is not None else type(command).__name__


def _error_detail(body: bytes) -> str:
    # A short, printable excerpt helps explain a 400; it never holds credentials
    # (the Envoy's reply to a write does not echo request headers).
    text = body[: _ERROR_DETAIL_CHARS * 4].decode("utf-8", errors="replace")
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())[:_ERROR_DETAIL_CHARS]


async def execute(
    fetcher: Fetcher, command: AnyCommand, probe: ProbeLike, data: EnvoyData
) -> set[str]:
    """Validate ``command``, send its request once and return the data groups to re-read.

    Raises:
        EnvoyFeatureNotAvailable: as :func:`validate`; nothing was sent.
        EnvoyCommandRejected: as :func:`validate`; nothing was sent.
        EnvoyHTTPStatusError: the Envoy answered with a non-2xx status.
        EnvoyCommunicationError: transport failure (from ``fetcher``); not retried here.
    """
    name = _command_name(command)
    try:
        request = build_request(command, probe, data)
    except (EnvoyCommandRejected, EnvoyFeatureNotAvailable) as err:
        _LOG.warning("envoy command rejected command=%s reason=%r", name, str(err))
        raise
    payload = msgspec.json.encode(request.body)
    response = await fetcher.request(request.method, request.path, body=payload)
    _LOG.info(
        "envoy command sent command=%s method=%s path=%s status=%d",
        name,
        request.method,
        request.path,
        response.status,
    )
    if not 200 <= response.status < 300:
        raise EnvoyHTTPStatusError(response.status, request.path, _error_detail(response.body))
    return {request.reread.name}
