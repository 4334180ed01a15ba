"""Live power flows from ``/ivp/livedata/status`` (not part of pyenphase's data)."""

from __future__ import annotations

import msgspec

from envoy2mqtt.envoy.models.base import Model


class LivePhase(Model, gc=False):
    """One phase of the live power flows (W; grid + import / - export, storage + discharge)."""

    pv_power: int | None = None
    grid_power: int | None = None
    load_power: int | None = None
    storage_power: int | None = None
    generator_power: int | None = None


class LiveData(Model):
    """Live readings from ``/ivp/livedata/status`` (token firmware), powers in W.

    Not part of pyenphase's data: :func:`envoy2mqtt.envoy.export.export_state` leaves it out.

    Attributes:
        last_update: epoch seconds of the Envoy's last live refresh.
        stream_enabled: whether the Envoy was streaming (values refresh only while it does).
        pv_power: solar production.
        grid_power: grid exchange, + import / - export.
        load_power: house consumption.
        storage_power: battery power, + discharge / - charge.
        generator_power: generator output.
        soc: aggregate battery level (%).
        backup_soc: battery reserve kept for outages (%).
        phases: per-phase powers keyed ``L1``..``L3`` (only on multi-phase systems).
    """

    last_update: int | None = None
    stream_enabled: bool | None = None
    pv_power: int | None = None
    grid_power: int | None = None
    load_power: int | None = None
    storage_power: int | None = None
    generator_power: int | None = None
    soc: int | float | None = None
    backup_soc: int | float | None = None
    enc_agg_soc: int | float | None = None
    enc_agg_energy: int | float | None = None
    acb_agg_soc: int | float | None = None
    acb_agg_energy: int | float | None = None
    main_relay_state: int | None = None
    gen_relay_state: int | None = None
    backup_bat_mode: int | None = None
    phase_count: int | None = None
    is_split_phase: bool | None = None
    phases: dict[str, LivePhase] = msgspec.field(default_factory=dict)
