"""Configuration: one YAML file plus ``ENVOY2MQTT_<SECTION>__<KEY>`` environment overrides.

The file format is a user-facing contract; every option is documented
in ``config.example.yaml``. :func:`load_settings` returns a validated :class:`Settings` or
raises :class:`ConfigError` listing each problem as ``<field path>: <reason>``.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
import stat
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from envoy2mqtt.bridge.schedule import default_grace
from envoy2mqtt.config_access import config_exists, unreadable_reason
from envoy2mqtt.redact import register_secret
from envoy2mqtt.settings_env import env_json_problems, env_variable_for
from envoy2mqtt.sharding import Shard, instance_problem

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ConfigError",
    "ControlSettings",
    "EnlightenSettings",
    "EnvoySettings",
    "HealthSettings",
    "HomeAssistantSettings",
    "IntervalSettings",
    "LoggingSettings",
    "MqttSettings",
    "PublishSettings",
    "Settings",
    "TlsSettings",
    "format_validation_error",
    "load_settings",
    "summary",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("config.yaml")
ENV_PREFIX = "ENVOY2MQTT_"
# Keys whose values must never be echoed back in an error message.
_SECRET_KEYS = frozenset({"password", "token"})
_HOST_RE = re.compile(
    r"^(?:(?P<scheme>https?)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)"
    r"(?::(?P<port>\d{1,5}))?/?$"
)
_SERIAL_RE = re.compile(r"^[A-Za-z0-9]+$")
_TOPIC_FORBIDDEN = re.compile(r"[+#\s\x00]")

# The YAML document being loaded, handed to the settings source (sources are built by
# pydantic-settings, so they cannot take constructor arguments of ours).
_FILE_DATA: ContextVar[Mapping[str, Any] | None] = ContextVar("_FILE_DATA", default=None)


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds one ``<path>: <reason>`` per issue."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.problems))


class _Section(BaseModel):
    """Base of every section: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


def _topic_path(value: str) -> str:
    """Validate a configured topic prefix: non-empty levels, no wildcards or spaces."""
    if not value or _TOPIC_FORBIDDEN.search(value) or "" in value.split("/"):
        raise PydanticCustomError(
            "topic",
            "must be a topic without + # spaces or empty levels (got '{got}')",
            {"got": value},
        )
    return value


def _readable_file(value: Path | None, info: ValidationInfo) -> Path | None:
    if value is None or not info.data.get("enabled", True):
        return value
    path = value.expanduser()
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PydanticCustomError(
            "unreadable_file",
            "cannot read file {path} ({reason})",
            {"path": str(path), "reason": reason},
        ) from None
    if not path.is_file():
        raise PydanticCustomError("not_a_file", "not a regular file: {path}", {"path": str(path)})
    return path


class TlsSettings(_Section):
    """TLS towards the MQTT broker; files are checked only when TLS is enabled."""

    enabled: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False

    _check_files = field_validator("ca_file", "cert_file", "key_file")(_readable_file)

    @field_validator("key_file")
    @classmethod
    def _key_needs_cert(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # An invalid cert_file is absent from info.data and already reported on its own.
        if value is not None and "cert_file" in info.data and info.data["cert_file"] is None:
            raise PydanticCustomError("key_without_cert", "set only together with cert_file")
        return value


class MqttSettings(_Section):
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

    _check_base = field_validator("base_topic")(_topic_path)

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
                {"low": _num(low), "got": _num(value)},
            )
        return value


class HomeAssistantSettings(_Section):
    """Home Assistant MQTT discovery."""

    enabled: bool = True
    discovery_prefix: str = "homeassistant"
    discovery_mode: Literal["device", "component"] = "device"
    status_topic: str = "homeassistant/status"

    _check_topics = field_validator("discovery_prefix", "status_topic")(_topic_path)


class IntervalSettings(_Section):
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
                {"previous": previous, "bound": _num(bound), "got": _num(value)},
            )
        return value


class EnvoySettings(_Section):
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
                {"fast": _num(intervals.fast), "got": _num(value)},
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


class ControlSettings(_Section):
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


class PublishSettings(_Section):
    """Publishing cadence."""

    republish_interval: float = Field(default=300, ge=1)
    health_interval: float = Field(default=60, ge=0)


class EnlightenSettings(_Section):
    """Enphase cloud endpoints used to obtain tokens (tests point them at the simulator)."""

    login_url: str = "https://enlighten.enphaseenergy.com/login/login.json"
    token_url: str = "https://entrez.enphaseenergy.com/tokens"  # noqa: S105 - a URL
    # Trust only this CA for the cloud: for simulators (`envoy2mqtt simulate` writes one).
    ca_file: Path | None = None

    @field_validator("ca_file")
    @classmethod
    def _ca_bundle(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        path = _readable_file(value, info)
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


class HealthSettings(_Section):
    """Optional HTTP endpoint for /healthz, /readyz and /metrics."""

    port: int | None = Field(default=None, ge=1, le=65535)
    bind: str = "127.0.0.1"


class LoggingSettings(_Section):
    """Log verbosity and format."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"

    @field_validator("level", "format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class _FileSource(PydanticBaseSettingsSource):
    """Settings source yielding the parsed YAML document (lowest priority)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_FILE_DATA.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_DATA.get() or {})


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


def _num(value: Any) -> Any:
    """Show 1.0 as 1 in messages: the user wrote an integer."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _format_problem(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    secret = any(part in _SECRET_KEYS for part in loc)
    ctx = error.get("ctx") or {}
    got = error.get("input")
    if kind == "missing":
        reason = "required"
    elif kind == "extra_forbidden":
        reason = "unknown key"
    elif kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        op = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }
        bound = _num(next(iter(ctx.values())))
        reason = f"must be {op[kind]} {bound} (got {_num(got)!r})"
    elif kind.startswith(("string_too_short", "too_short")) and not got:
        reason = "must not be empty"
    else:
        reason = str(error["msg"])
        reason = reason[0].lower() + reason[1:] if reason else reason
        if kind not in _CUSTOM_KINDS and not secret and not isinstance(got, dict | list):
            reason += f" (got {got!r})"
    variable = env_variable_for(os.environ, ENV_PREFIX, loc)
    return f"{_format_loc(loc)}: {reason}" + (f" (from {variable})" if variable else "")


_CUSTOM_KINDS = frozenset(
    {
        "topic",
        "unreadable_file",
        "not_a_file",
        "key_without_cert",
        "order",
        "interval_order",
        "grace",
        "host",
        "serial",
        "duplicate",
        "url",
        "not_a_ca_file",
        "instance",
        "shard",
    }
)


def format_validation_error(exc: ValidationError) -> list[str]:
    """Render a pydantic error as ``<field path>: <reason>`` lines, never echoing secrets."""
    return [_format_problem(error) for error in exc.errors(include_url=False)]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([unreadable_reason(path, exc)]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        # Only the problem and position: the snippet yaml adds could contain a secret.
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}: invalid YAML: {exc.problem}{where}"]) from None
    except yaml.YAMLError:
        raise ConfigError([f"{path}: invalid YAML"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections"])
    return data


def _file_has_secrets(data: Mapping[str, Any]) -> bool:
    mqtt = data.get("mqtt")
    if isinstance(mqtt, dict) and mqtt.get("password"):
        return True
    envoys = data.get("envoys")
    if not isinstance(envoys, list):
        return False
    return any(isinstance(e, dict) and (e.get("password") or e.get("token")) for e in envoys)


def _warn_if_exposed(path: Path, data: Mapping[str, Any]) -> None:
    mode = path.stat().st_mode
    if mode & stat.S_IROTH and _file_has_secrets(data):
        _LOGGER.warning(
            "config file is world-readable and contains secrets path=%s mode=%s "
            "hint='chmod 600 %s'",
            path,
            oct(stat.S_IMODE(mode)),
            path,
        )


def load_settings(path: Path | str | None = None) -> Settings:
    """Load the YAML file at ``path`` and apply ``ENVOY2MQTT_*`` environment overrides.

    Args:
        path: The config file. ``None`` means ``config.yaml`` if it exists, otherwise the
            environment alone.

    Returns:
        The validated settings.

    Raises:
        ConfigError: The file is missing/unreadable/not YAML, or a value is invalid; the
            message lists every problem as ``<field path>: <reason>``.
    """
    file: Path | None
    if path is None:
        file = DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
    else:
        file = Path(path).expanduser()
        if not config_exists(file):
            raise ConfigError([f"no config file at {file}"])
    data = _read_yaml(file) if file is not None else {}
    token = _FILE_DATA.set(data)
    try:
        settings = Settings()  # type: ignore[call-arg]  # values come from the sources
    except ValidationError as exc:
        problems = format_validation_error(exc)
        if file is None:
            problems.insert(0, _no_default_file())
        raise ConfigError(problems) from None
    except SettingsError as exc:
        # Raised for undecodable JSON in ENVOY2MQTT_*; its text names the field, not the value.
        problems = env_json_problems(os.environ, ENV_PREFIX, Settings)
        raise ConfigError(problems or [f"environment ({ENV_PREFIX}*): {exc}"]) from None
    finally:
        _FILE_DATA.reset(token)
    for secret in settings.secret_values():
        register_secret(secret)
    if file is not None:
        _warn_if_exposed(file, data)
    return settings


def _no_default_file() -> str:
    return (
        f"no config file at {DEFAULT_CONFIG_PATH.absolute()} (the default; pass --config FILE); "
        f"read {ENV_PREFIX}* variables only"
    )


def _auth_kind(envoy: EnvoySettings) -> str:
    if envoy.token is not None:
        return "token"
    if envoy.username is not None or envoy.password is not None:
        return f"credentials (user {envoy.username or '-'})"
    return "none"


def summary(settings: Settings) -> list[str]:
    """Human-readable lines describing the settings in force; contains no secrets."""
    mqtt = settings.mqtt
    tls = "on" + (" (insecure)" if mqtt.tls.insecure else "") if mqtt.tls.enabled else "off"
    user = mqtt.username or "anonymous"
    ha = settings.homeassistant
    lines = [
        f"mqtt: {mqtt.host}:{mqtt.port} protocol={mqtt.protocol} tls={tls} user={user} "
        f"client_id={mqtt.client_id} base_topic={mqtt.base_topic}",
        f"homeassistant: enabled={ha.enabled} prefix={ha.discovery_prefix} "
        f"mode={ha.discovery_mode}",
    ]
    served = settings.served_envoys()
    if settings.instance is not None:
        lines.append(
            f"instance: {settings.instance} shard={settings.shard or '-'} "
            f"serves={len(served)}/{len(settings.envoys)} envoys"
        )
    for index, envoy in enumerate(settings.envoys):
        iv = envoy.intervals
        lines.append(
            f"envoys[{index}]: host={envoy.host} name={envoy.name or '-'} "
            f"serial={envoy.serial or '-'} "
            f"auth={_auth_kind(envoy)} intervals={iv.fast:g}/{iv.normal:g}/{iv.slow:g}s "
            f"firmware_check={iv.firmware:g}s"
            + ("" if any(e is envoy for e in served) else " (other shard: not served)")
        )
    controls = settings.controls
    enabled = [
        name for name in ("grid_relay", "dry_contacts", "storage") if getattr(controls, name)
    ]
    lines += [
        f"controls: {', '.join(enabled) or 'none'}",
        f"publish: republish_interval={settings.publish.republish_interval:g}s "
        f"health_interval={settings.publish.health_interval:g}s",
        f"token_cache_dir: {settings.token_cache_dir}",
        f"health: {'port ' + str(settings.health.port) if settings.health.port else 'off'}",
        f"logging: level={settings.logging.level} format={settings.logging.format}",
    ]
    return lines
