"""Raw bodies of ``/ivp/ensemble/dry_contacts`` and ``/ivp/ss/dry_contact_settings``."""

from __future__ import annotations

from typing import Any

import msgspec


class RelayStatus(msgspec.Struct, kw_only=True, gc=False):
    """Open/closed state of one relay."""

    id: str
    status: str


class RelaySettings(msgspec.Struct, kw_only=True, gc=False):
    """Configuration of one relay; the Envoy sends booleans as ``"true"``/``"false"``."""

    id: str
    type: str
    grid_action: str
    micro_grid_action: str
    gen_action: str
    override: str | bool
    load_name: str
    mode: str
    soc_low: float
    soc_high: float
    pv_serial_nb: list[Any]
    manual_override: str | bool | None = None
    black_s_start: float | None = None
    essential_start_time: float | None = None
    essential_end_time: float | None = None
    priority: float | None = None


class StatusDoc(msgspec.Struct, kw_only=True, gc=False):
    """The ``/ivp/ensemble/dry_contacts`` document."""

    dry_contacts: list[RelayStatus]


class SettingsDoc(msgspec.Struct, kw_only=True, gc=False):
    """The ``/ivp/ss/dry_contact_settings`` document."""

    dry_contacts: list[RelaySettings]


STATUS_DECODER = msgspec.json.Decoder(StatusDoc, strict=False)
SETTINGS_DECODER = msgspec.json.Decoder(SettingsDoc, strict=False)
