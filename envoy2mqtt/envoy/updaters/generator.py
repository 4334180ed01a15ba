"""Standby generator behind an IQ System Controller: config, status, schedule and mode."""

from __future__ import annotations

import logging
from typing import TypeVar

import msgspec

from envoy2mqtt.envoy import endpoints
from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import (
    EnvoyData,
    Generator,
    GeneratorMode,
    GeneratorSchedule,
)
from envoy2mqtt.envoy.models.raw_generator import (
    GEN_CONFIG_DECODER,
    GEN_MODE_DECODER,
    GEN_SCHEDULE_DECODER,
    GENERATOR_DECODER,
    RawGenerator,
    RawGenSchedule,
)
from envoy2mqtt.envoy.updaters.base import (
    GENERIC_DECODER,
    Reader,
    Updater,
    is_error_document,
    probe_fetch,
)

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


def _status(raw: RawGenerator) -> Generator:
    return Generator(
        admin_state=raw.admin_state,
        oper_state=raw.oper_state,
        admin_mode=raw.admin_mode,
        schedule=raw.schedule,
        start_soc=raw.start_soc,
        stop_soc=raw.stop_soc,
        exc_on=raw.exc_on,
        present=bool(raw.present),
        type=raw.type,
    )


def _schedule(raw: RawGenSchedule) -> GeneratorSchedule:
    return GeneratorSchedule(
        exercise_freq_in_weeks=raw.exercise_config.freq_in_weeks,
        exercise_start=raw.exercise_config.start,
        exercise_duration=raw.exercise_config.duration,
        exercise_day=raw.exercise_config.day,
        default_start_soc=raw.default_soc.start_soc,
        default_stop_soc=raw.default_soc.stop_soc,
        last_updated_by=raw.last_updated_by,
        schedule=raw.schedule,
    )


async def _usable(reader: Reader, path: str, decoder: msgspec.json.Decoder[T]) -> bool:
    """Return True when ``path`` answers with a non-empty document of the expected shape."""
    # 401 is not swallowed here: generator endpoints are owner-readable.
    doc = await probe_fetch(reader, path, GENERIC_DECODER, swallow_auth=False)
    if is_error_document(doc):
        _LOGGER.debug("probe path=%s result=empty", path)
        return False
    return await probe_fetch(reader, path, decoder, swallow_auth=False) is not None


class GeneratorUpdater(Updater):
    """Needs FW >= 5.0.0 and an Enpower; each optional endpoint is probed on its own."""

    group = "generator"

    def _reset(self) -> None:
        self.status_available = False
        self.schedule_available = False
        self.mode_available = False

    async def probe(self, reader: Reader, found: SupportedFeatures) -> SupportedFeatures | None:
        """Claim GENERATOR (config present) and GENERATOR_SCHEDULE (exercise schedule set)."""
        self._reset()
        if self.state.version < endpoints.ENSEMBLE_MIN_VERSION:
            return None
        if SupportedFeatures.ENPOWER not in found:
            return None
        if not await _usable(reader, endpoints.GEN_CONFIG, GEN_CONFIG_DECODER):
            return None
        self.features |= SupportedFeatures.GENERATOR
        self.status_available = await _usable(reader, endpoints.GENERATOR, GENERATOR_DECODER)
        self.schedule_available = await _usable(
            reader, endpoints.GEN_SCHEDULE, GEN_SCHEDULE_DECODER
        )
        if self.schedule_available:
            self.features |= SupportedFeatures.GENERATOR_SCHEDULE
        self.mode_available = await _usable(reader, endpoints.GEN_MODE, GEN_MODE_DECODER)
        return self.features

    async def update(self, reader: Reader, out: EnvoyData) -> None:
        """Fill the generator fields whose endpoints were found at probe time."""
        status: Generator | None = None
        if self.status_available:
            status = _status(await reader.decode(endpoints.GENERATOR, GENERATOR_DECODER))
        # Config and mode are decoded straight into the data model (same keys).
        config = await reader.decode(endpoints.GEN_CONFIG, GEN_CONFIG_DECODER)
        schedule: GeneratorSchedule | None = None
        if self.schedule_available:
            schedule = _schedule(await reader.decode(endpoints.GEN_SCHEDULE, GEN_SCHEDULE_DECODER))
        mode: GeneratorMode | None = None
        if self.mode_available:
            mode = await reader.decode(endpoints.GEN_MODE, GEN_MODE_DECODER)
        out.generator = status
        out.generator_config = config
        out.generator_schedule = schedule
        out.generator_mode = mode
