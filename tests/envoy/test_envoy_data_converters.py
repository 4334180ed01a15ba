"""Devices decoded straight into the data model put every Envoy key into the right field.

Every raw field gets a distinct value, so a swapped key cannot go unnoticed (the goldens
alone might not see two fields swapped that happen to hold equal values). The decoded
objects are real model instances: they encode with the model's names.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from envoy2mqtt.envoy.models.data import DryContactSettings, Encharge, Enpower
from envoy2mqtt.envoy.models.raw_ensemble import ENCHARGE_DECODER, ENPOWER_DECODER
from envoy2mqtt.envoy.models.wire import adopt
from envoy2mqtt.envoy.updaters.dry_contacts import settings_from_body

COMMON = {
    "admin_state": 1,
    "admin_state_str": "ENCHG_STATE_READY",
    "communicating": True,
    "img_load_date": 12,
    "installed": 13,
    "last_rpt_date": 14,
    "part_num": "830-01760-r46",
    "serial_num": "122327081322",
    "comm_level_2_4_ghz": 5,
    "comm_level_sub_ghz": 6,
    "img_pnum_running": "2.6.5973_rel/22.11",
    "temperature": 7,
    "zigbee_dongle_fw_version": "100F",
}

# The model field each key of COMMON lands in, line for line, on every device model.
COMMON_DECODED = {
    "admin_state": 1,
    "admin_state_str": "ENCHG_STATE_READY",
    "communicating": True,
    "firmware_loaded_date": 12,
    "installed_date": 13,
    "last_report_date": 14,
    "part_number": "830-01760-r46",
    "serial_number": "122327081322",
    "comm_level_2_4_ghz": 5,
    "comm_level_sub_ghz": 6,
    "firmware_version": "2.6.5973_rel/22.11",
    "temperature": 7,
    "zigbee_dongle_fw_version": "100F",
}


def _decoded(values: dict[str, Any], decoder: msgspec.json.Decoder[Any], model: type[Any]) -> Any:
    decoded = adopt(decoder.decode(msgspec.json.encode(values)), model)
    assert type(decoded) is model
    assert set(msgspec.to_builtins(decoded)) == set(msgspec.structs.asdict(decoded))
    return decoded


@pytest.mark.parametrize(
    ("decoder", "model", "raw", "fields"),
    [
        pytest.param(
            ENCHARGE_DECODER,
            Encharge,
            {
                "bmu_fw_version": "2.1.34",
                "dc_switch_off": False,
                "encharge_capacity": 3360,
                "encharge_rev": 2,
                "led_status": 17,
                "maxCellTemp": 30,
                "percentFull": 81,
                "operating": None,
            },
            {
                "bmu_firmware_version": "2.1.34",
                "dc_switch_off": False,
                "encharge_capacity": 3360,
                "encharge_revision": 2,
                "led_status": 17,
                "max_cell_temp": 30,
                "percent_full": 81,
                "operating": None,
                "temperature_unit": "C",
            },
            id="encharge",
        ),
        pytest.param(
            ENPOWER_DECODER,
            Enpower,
            {
                "Enpwr_grid_mode": "multimode-ongrid",
                "mains_admin_state": "closed",
                "mains_oper_state": "open",
                "operating": False,
            },
            {
                "grid_mode": "multimode-ongrid",
                "mains_admin_state": "closed",
                "mains_oper_state": "open",
                "operating": False,
                "temperature_unit": "F",
            },
            id="enpower",
        ),
    ],
)
def test_device_fields(
    decoder: msgspec.json.Decoder[Any],
    model: type[Any],
    raw: dict[str, Any],
    fields: dict[str, Any],
) -> None:
    """The keys of COMMON and the device's own ``raw`` keys, each in its model field."""
    assert _decoded({**COMMON, **raw}, decoder, model) == model(**COMMON_DECODED, **fields)


def test_dry_contact_settings_fields() -> None:
    values = {
        "id": "NC1",
        "type": "LOAD",
        "grid_action": "apply",
        "micro_grid_action": "shed",
        "gen_action": "schedule",
        "override": "true",
        "load_name": "pump",
        "mode": "soc",
        "soc_low": 20.0,
        "soc_high": 70.0,
        "pv_serial_nb": ["x"],
        "manual_override": "false",
        "black_s_start": 1.0,
        "essential_start_time": 2.0,
        "essential_end_time": 3.0,
        "priority": 4.0,
    }
    (decoded,) = settings_from_body(msgspec.json.encode({"dry_contacts": [values]})).values()
    assert type(decoded) is DryContactSettings
    assert decoded == DryContactSettings(
        id="NC1",
        black_start=1.0,
        essential_end_time=3.0,
        essential_start_time=2.0,
        generator_action="schedule",
        grid_action="apply",
        load_name="pump",
        manual_override=False,
        micro_grid_action="shed",
        mode="soc",
        override=True,
        priority=4.0,
        pv_serial_nb=["x"],
        soc_high=70.0,
        soc_low=20.0,
        type="LOAD",
    )
