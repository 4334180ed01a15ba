"""Raw bodies of the generator endpoints (``/ivp/ss/gen_*``, ``/ivp/ensemble/generator``)."""

from __future__ import annotations

from typing import Any

import msgspec

from envoy2mqtt.envoy.models.data import GeneratorConfig, GeneratorMode


class RawGenerator(msgspec.Struct, kw_only=True, gc=False):
    """``/ivp/ensemble/generator``."""

    admin_state: str
    oper_state: str
    admin_mode: int
    schedule: int
    start_soc: int
    stop_soc: int
    exc_on: int
    present: int | bool
    type: int


class ExerciseConfig(msgspec.Struct, kw_only=True, gc=False):
    """``exercise_config`` of the schedule (only present once configured in the app)."""

    freq_in_weeks: int
    start: int
    duration: int
    day: str


class DefaultSoc(msgspec.Struct, kw_only=True, gc=False):
    """``default_soc`` of the schedule."""

    start_soc: int
    stop_soc: int


class RawGenSchedule(msgspec.Struct, kw_only=True, gc=False):
    """``/ivp/ss/gen_schedule``."""

    exercise_config: ExerciseConfig
    default_soc: DefaultSoc
    last_updated_by: str
    schedule: dict[str, Any]


# Config and mode have exactly the data model's keys: decoded straight into it.
GEN_CONFIG_DECODER = msgspec.json.Decoder(GeneratorConfig, strict=False)
GENERATOR_DECODER = msgspec.json.Decoder(RawGenerator, strict=False)
GEN_SCHEDULE_DECODER = msgspec.json.Decoder(RawGenSchedule, strict=False)
GEN_MODE_DECODER = msgspec.json.Decoder(GeneratorMode, strict=False)
