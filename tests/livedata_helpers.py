"""A sample ``/ivp/livedata/status`` body (shape from public sources; no fixture has one)."""

from __future__ import annotations

from typing import Any


def flow(total_mw: int, phases: tuple[int, ...] = ()) -> dict[str, int]:
    """One power flow object in milli-units, with per-phase keys for ``phases``."""
    body = {"agg_p_mw": total_mw, "agg_s_mva": abs(total_mw) + 1000}
    for letter, value in zip("abc", phases, strict=False):
        body[f"agg_p_ph_{letter}_mw"] = value
        body[f"agg_s_ph_{letter}_mva"] = abs(value)
    return body


def status_body(*, stream: str = "enabled", phase_count: int = 2) -> dict[str, Any]:
    """A full status document of a split-phase system with batteries and a generator."""
    return {
        "connection": {
            "mqtt_state": "connected",
            "prov_state": "configured",
            "auth_state": "ok",
            "sc_stream": stream,
            "sc_debug": "disabled",
        },
        "meters": {
            "last_update": 1_700_000_000,
            "soc": 87,
            "main_relay_state": 1,
            "gen_relay_state": 5,
            "backup_bat_mode": 1,
            "backup_soc": 20,
            "is_split_phase": 1,
            "phase_count": phase_count,
            "enc_agg_soc": 87,
            "enc_agg_energy": 8700,
            "acb_agg_soc": 0,
            "acb_agg_energy": 0,
            "pv": flow(4_200_400, (2_100_000, 2_100_400, 0)),
            "storage": flow(-1_000_000, (-500_000, -500_000, 0)),
            "grid": flow(-700_600, (-350_000, -350_600, 0)),
            "load": flow(2_499_800, (1_250_000, 1_249_800, 0)),
            "generator": flow(0, (0, 0, 0)),
        },
        "tasks": {"task_id": 1, "timestamp": 1_700_000_000},
        "counters": {"main_CfgLoad": 1},
        "dry_contacts": {"": {"dry_contact_id": "", "dry_contact_type": ""}},
    }
