"""The ``mqtt:`` section: broker connection, topic root and TLS towards the broker."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from envoy2mqtt.settings.base import Section, num, readable_file, topic_path

__all__ = ["MqttSettings", "TlsSettings"]


class TlsSettings(Section):
    """TLS towards the MQTT broker; files are checked only when TLS is enabled."""

    enabled: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False

    _check_files = field_validator("ca_file", "cert_file", "key_file")(readable_file)

    @field_validator("key_file")
    @classmethod
    def _key_needs_cert(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # An invalid cert_file is absent from info.data and already reported on its own.
        if value is not None and "cert_file" in info.data and info.data["cert_file"] is None:
            raise PydanticCustomError("key_without_cert", "set only together with cert_file")
        return value


class MqttSettings(Section):
    """Broker connection and topic root."""

    host: str = Field(min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    client_id: str = Field(default="envoy2mqtt", min_length=1, max_length=128)
    protocol: Literal["5", "3.1.1"] = "5"
    base_topic: str = "envoy2mqtt"
    keepalive: int = Field(default=60, ge=5, le=65535)
    tls: TlsSettings = TlsSettings()
    reconnect_min_delay: float = Field(default=1.0, gt=0)
    reconnect_max_delay: float = Field(default=60.0, gt=0)
    max_command_bytes: int = Field(default=4096, ge=64, le=1_048_576)

    _check_base = field_validator("base_topic")(topic_path)

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_as_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 5 as an int and an env var gives "5"; accept both.
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    @field_validator("reconnect_max_delay")
    @classmethod
    def _max_after_min(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("reconnect_min_delay")
        if low is not None and value < low:
            raise PydanticCustomError(
                "order",
                "must be >= reconnect_min_delay ({low}) (got {got})",
                {"low": num(low), "got": num(value)},
            )
        return value
