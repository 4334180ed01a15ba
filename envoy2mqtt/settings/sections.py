"""The smaller sections: Home Assistant, controls, publishing, Enlighten, health, logging."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from envoy2mqtt.settings.base import Section, readable_file, topic_path

__all__ = [
    "ControlSettings",
    "EnlightenSettings",
    "HealthSettings",
    "HomeAssistantSettings",
    "LoggingSettings",
    "PublishSettings",
]


class HomeAssistantSettings(Section):
    """Home Assistant MQTT discovery."""

    enabled: bool = True
    discovery_prefix: str = "homeassistant"
    discovery_mode: Literal["device", "component"] = "device"
    status_topic: str = "homeassistant/status"

    _check_topics = field_validator("discovery_prefix", "status_topic")(topic_path)


class ControlSettings(Section):
    """Which ``/set`` commands are accepted (and get Home Assistant entities)."""

    grid_relay: bool = False
    dry_contacts: bool = False
    storage: bool = True
    # Seconds after a storage write at which the tariff is re-read to see whether the
    # gateway's cloud undid it (docs/mqtt-contract.md, "reverted"); [] = no watch.
    storage_watch: list[float] = Field(default=[10, 30, 90, 180], max_length=20)

    @field_validator("storage_watch")
    @classmethod
    def _positive_offsets(cls, value: list[float]) -> list[float]:
        if any(offset <= 0 or offset > 3600 for offset in value):
            raise PydanticCustomError("offsets", "every offset must be > 0 and <= 3600 seconds")
        return sorted(value)


class PublishSettings(Section):
    """Publishing cadence."""

    republish_interval: float = Field(default=300, ge=1)
    health_interval: float = Field(default=60, ge=0)


class EnlightenSettings(Section):
    """Enphase cloud endpoints used to obtain tokens (tests point them at the simulator)."""

    login_url: str = "https://enlighten.enphaseenergy.com/login/login.json"
    token_url: str = "https://entrez.enphaseenergy.com/tokens"  # noqa: S105 - a URL
    # Trust only this CA for the cloud: for simulators (`envoy2mqtt simulate` writes one).
    ca_file: Path | None = None

    @field_validator("ca_file")
    @classmethod
    def _ca_bundle(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        path = readable_file(value, info)
        if path is not None:
            try:
                ssl.create_default_context(cafile=str(path))
            except ssl.SSLError:
                raise PydanticCustomError(
                    "not_a_ca_file", "no PEM certificate in {path}", {"path": str(path)}
                ) from None
        return path

    @field_validator("login_url", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise PydanticCustomError(
                "url", "must be an http:// or https:// URL (got '{got}')", {"got": value}
            )
        return value


class HealthSettings(Section):
    """Optional HTTP endpoint for /healthz, /readyz and /metrics."""

    port: int | None = Field(default=None, ge=1, le=65535)
    bind: str = "127.0.0.1"


class LoggingSettings(Section):
    """Log verbosity and format."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"

    @field_validator("level", "format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value
