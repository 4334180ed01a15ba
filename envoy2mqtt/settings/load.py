"""Reading the configuration: the YAML file, the environment, the checks after loading."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from envoy2mqtt.config_access import config_exists, unreadable_reason
from envoy2mqtt.redact import register_secret
from envoy2mqtt.settings.base import ENV_PREFIX
from envoy2mqtt.settings.env import env_json_problems
from envoy2mqtt.settings.messages import ConfigError, format_validation_error
from envoy2mqtt.settings.root import FILE_DATA, Settings

__all__ = ["DEFAULT_CONFIG_PATH", "load_settings"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("config.yaml")


def _read_yaml(path: Path) -> dict[str, Any]:
    # Imported here: a configuration from the environment alone never loads PyYAML.
    import yaml  # noqa: PLC0415

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
    token = FILE_DATA.set(data)
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
        FILE_DATA.reset(token)
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
