"""Writes outside the MQTT contract: legacy AC Battery sleep/wake and generator mode.

They follow the same rules as :mod:`envoy2mqtt.envoy.commands` (validated before any I/O,
sent once, the caller re-reads the returned groups) and are dispatched by it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from envoy2mqtt.envoy import endpoints, groups
from envoy2mqtt.envoy.commands_base import (
    Percent,
    ProbeLike,
    WriteRequest,
    require_features,
    require_known,
)
from envoy2mqtt.envoy.errors import EnvoyCommandRejected
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData

GeneratorModeName = Literal["on", "off", "auto"]


class SetAcbSleep(msgspec.Struct, frozen=True, tag="acb_sleep"):
    """Let one AC Battery sleep between ``min_soc`` and ``max_soc`` percent."""

    serial: str
    min_soc: Annotated[Percent, Meta(title="sleep min_soc")]
    max_soc: Annotated[Percent, Meta(title="sleep max_soc")]


class WakeAcb(msgspec.Struct, frozen=True, tag="acb_wake"):
    """Cancel sleep mode of one AC Battery."""

    serial: str


class SetGeneratorMode(msgspec.Struct, frozen=True, tag="generator_mode"):
    """Switch the standby generator on, off or to automatic."""

    mode: Annotated[GeneratorModeName, Meta(title="generator mode")]


ExtraCommand = SetAcbSleep | WakeAcb | SetGeneratorMode


def _acb_serial(serial: object, probe: ProbeLike, data: EnvoyData, action: str) -> str:
    require_features(probe, SupportedFeatures.ACB, action)
    return require_known(serial, data.acb_inventory or {}, "AC Battery serial")


def acb_sleep(command: SetAcbSleep, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    """``PUT /admin/lib/acb_config`` with one sleep window; re-read the ACB inventory."""
    serial = _acb_serial(command.serial, probe, data, "AC Battery sleep")
    low, high = command.min_soc, command.max_soc
    if low > high:
        msg = f"sleep min_soc ({low}) must not exceed max_soc ({high})"
        raise EnvoyCommandRejected(msg)
    entry = {"serial_num": serial, "sleep_min_soc": low, "sleep_max_soc": high}
    return WriteRequest("PUT", endpoints.ACB_CONFIG, {"acb_sleep": [entry]}, groups.ACB_INVENTORY)


def acb_wake(command: WakeAcb, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    """``DELETE /admin/lib/acb_config`` for one battery; re-read the ACB inventory."""
    serial = _acb_serial(command.serial, probe, data, "AC Battery wake")
    body = {"acb_sleep": [{"serial_num": serial}]}
    return WriteRequest("DELETE", endpoints.ACB_CONFIG, body, groups.ACB_INVENTORY)


def generator_mode(command: SetGeneratorMode, probe: ProbeLike, data: EnvoyData) -> WriteRequest:
    """``POST /ivp/ss/gen_mode``; re-read the generator group."""
    require_features(probe, SupportedFeatures.GENERATOR, "generator mode")
    return WriteRequest("POST", endpoints.GEN_MODE, {"gen_cmd": command.mode}, groups.GENERATOR)


EXTRA_BUILDERS: Final[dict[type, Callable[[Any, ProbeLike, EnvoyData], WriteRequest]]] = {
    SetAcbSleep: acb_sleep,
    WakeAcb: acb_wake,
    SetGeneratorMode: generator_mode,
}
"""Each command type here and the function that turns it into its request."""
