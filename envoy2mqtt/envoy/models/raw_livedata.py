"""Raw body of ``/ivp/livedata/status`` (token firmware; every key optional).

No fixture captured this endpoint, so nothing is required: a key the firmware leaves out
decodes to None. A key of the wrong type still makes the body malformed (the group fails).
"""

from __future__ import annotations

import msgspec

Number = int | float


class RawLivePower(msgspec.Struct, kw_only=True, gc=False):
    """One power flow (``pv``, ``storage``, ``grid``, ``load``, ``generator``), milli-units."""

    agg_p_mw: Number | None = None
    agg_s_mva: Number | None = None
    agg_p_ph_a_mw: Number | None = None
    agg_p_ph_b_mw: Number | None = None
    agg_p_ph_c_mw: Number | None = None


class RawLiveMeters(msgspec.Struct, kw_only=True, gc=False):
    """``meters``: the live readings and the battery summary."""

    last_update: Number | None = None
    soc: Number | None = None
    backup_soc: Number | None = None
    main_relay_state: int | None = None
    gen_relay_state: int | None = None
    backup_bat_mode: int | None = None
    is_split_phase: int | None = None
    phase_count: int | None = None
    enc_agg_soc: Number | None = None
    enc_agg_energy: Number | None = None
    acb_agg_soc: Number | None = None
    acb_agg_energy: Number | None = None
    pv: RawLivePower | None = None
    storage: RawLivePower | None = None
    grid: RawLivePower | None = None
    load: RawLivePower | None = None
    generator: RawLivePower | None = None


class RawLiveConnection(msgspec.Struct, kw_only=True, gc=False):
    """``connection``; only the stream state is used (``enabled``/``disabled``)."""

    sc_stream: str | None = None


class LiveStatusDoc(msgspec.Struct, kw_only=True, gc=False):
    """The ``/ivp/livedata/status`` document (``tasks``, ``counters``… are ignored)."""

    connection: RawLiveConnection | None = None
    meters: RawLiveMeters | None = None


LIVE_STATUS_DECODER = msgspec.json.Decoder(LiveStatusDoc)
