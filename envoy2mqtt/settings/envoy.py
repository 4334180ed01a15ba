"""The ``envoys:`` entries: where an Envoy is, how to log in, how often to poll it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from envoy2mqtt.settings.base import Section, num

__all__ = ["GRACE_NORMAL_INTERVALS", "EnvoySettings", "IntervalSettings", "default_grace"]

_HOST_RE = re.compile(
    r"^(?:(?P<scheme>https?)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)"
    r"(?::(?P<port>\d{1,5}))?/?$"
)
_SERIAL_RE = re.compile(r"^[A-Za-z0-9]+$")

GRACE_NORMAL_INTERVALS = 3


def default_grace(normal_interval: float) -> float:
    """Seconds without a successful poll before ``offline`` when none is configured.

    Three normal intervals: every Envoy has data in the normal tier (one without meters has
    nothing faster), so the default always spans at least three polls of some data tier and
    one or two lost polls never flap availability.
    """
    return GRACE_NORMAL_INTERVALS * normal_interval


class IntervalSettings(Section):
    """Poll periods in seconds per tier; each tier must be at least as long as the faster one."""

    fast: float = Field(default=5, ge=1)
    normal: float = 60
    slow: float = 600
    #: /info re-check, independent of the data tiers (also run when an Envoy comes back).
    firmware: float = Field(default=3600, ge=1)

    @field_validator("normal", "slow")
    @classmethod
    def _not_faster_than_previous(cls, value: float, info: ValidationInfo) -> float:
        previous = "fast" if info.field_name == "normal" else "normal"
        bound = info.data.get(previous)
        if bound is not None and value < bound:
            raise PydanticCustomError(
                "interval_order",
                "must be >= {previous} ({bound}) (got {got})",
                {"previous": previous, "bound": num(bound), "got": num(value)},
            )
        return value


class EnvoySettings(Section):
    """One Envoy / IQ Gateway."""

    host: str = Field(min_length=1)
    name: str | None = None
    serial: str | None = None
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    intervals: IntervalSettings = IntervalSettings()
    availability_grace: float | None = Field(default=None, gt=0)

    @field_validator("availability_grace")
    @classmethod
    def _grace_spans_a_poll(cls, value: float | None, info: ValidationInfo) -> float | None:
        intervals = info.data.get("intervals")
        if value is not None and intervals is not None and value <= intervals.fast:
            raise PydanticCustomError(
                "grace",
                "must be longer than intervals.fast ({fast}) (got {got}): the Envoy would "
                "go offline between two polls",
                {"fast": num(intervals.fast), "got": num(value)},
            )
        return value

    @field_validator("host")
    @classmethod
    def _valid_host(cls, value: str) -> str:
        value = value.strip()
        match = _HOST_RE.match(value)
        if match is None or (match["port"] and not 1 <= int(match["port"]) <= 65535):
            raise PydanticCustomError(
                "host",
                "must be a host name or IP with optional scheme and port (got '{got}')",
                {"got": value},
            )
        return value

    @field_validator("serial")
    @classmethod
    def _valid_serial(cls, value: str | None) -> str | None:
        if value is not None and not _SERIAL_RE.match(value):
            raise PydanticCustomError(
                "serial", "must be letters and digits only (got '{got}')", {"got": value}
            )
        return value

    @property
    def scheme(self) -> Literal["http", "https"] | None:
        """The scheme forced in ``host`` (``None``: probe https, then http)."""
        scheme = self._host_parts()["scheme"]
        if scheme is None:
            return None
        return "https" if scheme == "https" else "http"

    @property
    def hostname(self) -> str:
        """``host`` without scheme and port (IPv6 brackets removed)."""
        return str(self._host_parts()["host"]).strip("[]")

    @property
    def port(self) -> int | None:
        """The port given in ``host``, if any."""
        port = self._host_parts()["port"]
        return int(port) if port else None

    def grace(self) -> float:
        """Seconds without a successful poll before availability goes ``offline``."""
        if self.availability_grace is not None:
            return self.availability_grace
        return default_grace(self.intervals.normal)

    def _host_parts(self) -> dict[str, str | None]:
        match = _HOST_RE.match(self.host)
        assert match is not None  # validated at construction
        return match.groupdict()
