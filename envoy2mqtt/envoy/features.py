"""Feature flags and enumerations shared by the Envoy client (names follow pyenphase)."""

from __future__ import annotations

import enum


class SupportedFeatures(enum.IntFlag):
    """What a probed Envoy offers; bit values match pyenphase so dumps stay comparable."""

    INVERTERS = 1
    METERING = 2
    TOTAL_CONSUMPTION = 4
    NET_CONSUMPTION = 8
    ENCHARGE = 16
    ENPOWER = 32
    PRODUCTION = 64
    TARIFF = 128
    DUALPHASE = 256
    THREEPHASE = 512
    CTMETERS = 1024
    GENERATOR = 2048
    ACB = 4096
    DETAILED_INVERTERS = 8192
    COLLAR = 0x4000
    C6CC = 0x8000
    GENERATOR_SCHEDULE = 0x10000

    def names(self) -> list[str]:
        """Return the set flag names in ascending bit order."""
        return [f.name for f in SupportedFeatures if f in self and f.name is not None]


class CtType(enum.StrEnum):
    """CT measurement types reported by ``/ivp/meters``."""

    PRODUCTION = "production"
    NET_CONSUMPTION = "net-consumption"
    TOTAL_CONSUMPTION = "total-consumption"
    STORAGE = "storage"
    BACKFEED = "backfeed"
    LOAD = "load"
    EVSE = "evse"
    PV3P = "pv3p"


PHASE_NAMES: tuple[str, ...] = ("L1", "L2", "L3")
