"""Writes outside the MQTT contract: legacy AC Battery sleep/wake and generator mode.

They follow the same rules as :mod:`envoy2mqtt.envoy.commands` (validated before any I/O,
sent once, the caller re-reads the returned groups) and are dispatched by it.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from envoy2mqtt.envoy.commands_base import (
    ProbeLike,
    WriteRequest,
    require_features,
    require_known,
)
from envoy2mqtt.envoy.errors import EnvoyCommandRejected
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.json_terms import json_term
from envoy2mqtt.envoy.models.data import EnvoyData

PATH_ACB_CONFIG: Final = "/admin/lib/acb_config"
PATH_GEN_MODE: Final = "/ivp/ss/gen_mode"
GENERATOR_MODES: Final = frozenset({"on", "off", "auto"})

GeneratorModeName = Literal["on", "off", "auto"]


class SetAcbSleep(msgspec.Struct, frozen=True, tag="acb_sleep"):
    """Let one AC Battery sleep between ``min_soc`` and ``max_soc`` percent."""

    serial: str
    min_soc: int
    max_soc: int


class WakeAcb(msgspec.Struct, frozen=True, tag="acb_wake"):
    """Cancel sleep mode of one AC Battery."""

    serial: str


class SetGeneratorMode(msgspec.Struct, frozen=True, tag="generator_mode"):
    """Switch the standby generator on, off or to automatic."""

    mode: GeneratorModeName


ExtraCommand = SetAcbSleep | WakeAcb | SetGeneratorMode


def _percent(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        msg = f"{what} must be an integer 0-100, got {json_term(value)}"
        raise EnvoyCommandRejected(msg)
    return value


def _acb_serial(serial: object, probe: ProbeLike, data: EnvoyData, action: str) -> str:
    require_features(probe, SupportedFeatures.ACB, action)
    return require_known(serial, data.acb_inventory or {}, "AC Battery serial")


def acb_sleep(command: SetAcbSleep, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    """``PUT /admin/lib/acb_config`` with one sleep window; re-read the ACB inventory."""
    serial = _acb_serial(command.serial, probe, data, "AC Battery sleep")
    low = _percent(command.min_soc, "sleep min_soc")
    high = _percent(command.max_soc, "sleep max_soc")
    if low > high:
        msg = f"sleep min_soc ({low}) must not exceed max_soc ({high})"
        raise EnvoyCommandRejected(msg)
    entry = {"serial_num": serial, "sleep_min_soc": low, "sleep_max_soc": high}
    return WriteRequest(
        "PUT", PATH_ACB_CONFIG, {"acb_sleep": [entry]}, frozenset({"acb_inventory"})
    )


def acb_wake(command: WakeAcb, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    """``DELETE /admin/lib/acb_config`` for one battery; re-read the ACB inventory."""
    serial = _acb_serial(command.serial, probe, data, "AC Battery wake")
    body = {"acb_sleep": [{"serial_num": serial}]}
    return WriteRequest("DELETE", PATH_ACB_CONFIG, body, frozenset({"acb_inventory"}))


def generator_mode(command: SetGeneratorMode, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    """``POST /ivp/ss/gen_mode``; re-read the generator group."""
    require_features(probe, SupportedFeatures.GENERATOR, "generator mode")
    if not isinstance(command.mode, str) or command.mode not in GENERATOR_MODES:
        allowed = "|".join(sorted(GENERATOR_MODES))
        msg = f"generator mode must be one of {allowed}, got {json_term(command.mode)}"
        raise EnvoyCommandRejected(msg)
    return WriteRequest("POST", PATH_GEN_MODE, {"gen_cmd": command.mode}, frozenset({"generator"}))
