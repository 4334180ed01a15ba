"""The whole configuration (:class:`Settings`) and where its values come from.

Sources by priority: constructor arguments, then ``ENVOY2MQTT_<SECTION>__<KEY>`` environment
variables, then the YAML document :func:`~envoy2mqtt.settings.load.load_settings` read.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from envoy2mqtt.settings.base import ENV_PREFIX
from envoy2mqtt.settings.envoy import EnvoySettings
from envoy2mqtt.settings.mqtt import MqttSettings
from envoy2mqtt.settings.sections import (
    ControlSettings,
    EnlightenSettings,
    HealthSettings,
    HomeAssistantSettings,
    LoggingSettings,
    PublishSettings,
)
from envoy2mqtt.sharding import Shard, instance_problem

__all__ = ["FILE_DATA", "Settings"]

# The YAML document being loaded, handed to the settings source (sources are built by
# pydantic-settings, so they cannot take constructor arguments of ours).
FILE_DATA: ContextVar[Mapping[str, Any] | None] = ContextVar("FILE_DATA", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """Settings source yielding the parsed YAML document (lowest priority)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (FILE_DATA.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(FILE_DATA.get() or {})


class Settings(BaseSettings):
    """The whole configuration; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
        validate_default=True,
        frozen=True,
    )

    instance: str | None = None
    shard: str | None = None
    mqtt: MqttSettings
    homeassistant: HomeAssistantSettings = HomeAssistantSettings()
    envoys: list[EnvoySettings] = Field(min_length=1)
    controls: ControlSettings = ControlSettings()
    publish: PublishSettings = PublishSettings()
    token_cache_dir: Path = Path("~/.cache/envoy2mqtt")
    enlighten: EnlightenSettings = EnlightenSettings()
    health: HealthSettings = HealthSettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Priority: constructor arguments, then environment, then the YAML file."""
        return init_settings, env_settings, _FileSource(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _mqtt_section_defaults(cls, data: Any) -> Any:
        # A missing `mqtt:` section should be reported as the missing key inside it.
        if isinstance(data, dict) and "mqtt" not in data:
            data = {**data, "mqtt": {}}
        return _instance_client_id(data)

    @field_validator("instance", "shard", mode="before")
    @classmethod
    def _instance_as_text(cls, value: Any) -> Any:
        # YAML reads `instance: 1` (or a malformed `shard: 2`) as an int: text either way.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("instance")
    @classmethod
    def _valid_instance(cls, value: str | None) -> str | None:
        problem = None if value is None else instance_problem(value)
        if problem is not None:
            raise PydanticCustomError(
                "instance", "{problem} (got '{got}')", {"problem": problem, "got": value}
            )
        return value

    @field_validator("shard")
    @classmethod
    def _valid_shard(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            shard = Shard.parse(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "shard", "{reason} (got '{got}')", {"reason": str(exc), "got": value}
            ) from None
        # An invalid instance is missing from info.data and is reported on its own.
        if "instance" in info.data and info.data["instance"] is None:
            raise PydanticCustomError(
                "shard", "needs `instance` too: each instance of a sharded fleet has its own name"
            )
        return str(shard)

    @property
    def shard_spec(self) -> Shard | None:
        """The parsed ``shard`` (``None``: serve every configured Envoy)."""
        return Shard.parse(self.shard) if self.shard is not None else None

    def served_envoys(self) -> list[EnvoySettings]:
        """The configured Envoys this instance serves (its shard; all without ``shard``)."""
        shard = self.shard_spec
        if shard is None:
            return list(self.envoys)
        return shard.select(self.envoys, [(e.serial, e.host) for e in self.envoys])

    @field_validator("token_cache_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("envoys")
    @classmethod
    def _unique_envoys(cls, value: list[EnvoySettings]) -> list[EnvoySettings]:
        for attr in ("host", "serial"):
            seen: dict[str, int] = {}
            for index, envoy in enumerate(value):
                key = getattr(envoy, attr)
                if key is None:
                    continue
                if key.lower() in seen:
                    raise PydanticCustomError(
                        "duplicate",
                        "envoys[{index}].{attr} duplicates envoys[{first}].{attr} ('{key}')",
                        {"index": index, "attr": attr, "first": seen[key.lower()], "key": key},
                    )
                seen[key.lower()] = index
        return value

    def secret_values(self) -> list[str]:
        """Every configured password and token, in clear (for the log redactor only)."""
        values = [self.mqtt.password]
        for envoy in self.envoys:
            values += [envoy.password, envoy.token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def _instance_client_id(data: Any) -> Any:
    """With ``instance`` set, a default ``mqtt.client_id`` becomes ``envoy2mqtt-<instance>``.

    "Default" includes the literal ``envoy2mqtt`` (config.example.yaml spells it out):
    instances sharing one client id would keep disconnecting each other.
    """
    if not isinstance(data, dict) or not isinstance(data.get("instance"), str | int):
        return data
    default = MqttSettings.model_fields["client_id"].default
    client_id = f"{default}-{data['instance']}"
    mqtt = data.get("mqtt")
    if isinstance(mqtt, dict) and mqtt.get("client_id", default) == default:
        return {**data, "mqtt": {**mqtt, "client_id": client_id}}
    if isinstance(mqtt, MqttSettings) and mqtt.client_id == default:
        return {**data, "mqtt": mqtt.model_copy(update={"client_id": client_id})}
    return data
