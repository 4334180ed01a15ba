"""Loading the configuration: file, environment overrides, defaults, example, CLI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from envoy2mqtt.cli import main
from envoy2mqtt.settings import ConfigError, Settings, load_settings, summary
from tests.plugins.config_env import write_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.yaml"
MINIMAL = "mqtt:\n  host: 127.0.0.1\nenvoys:\n  - host: envoy.local\n"


pytestmark = pytest.mark.usefixtures("config_env")


def test_minimal_file_gets_documented_defaults(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL))
    assert settings.mqtt.port == 1883
    assert settings.mqtt.protocol == "5"
    assert settings.mqtt.base_topic == "envoy2mqtt"
    assert settings.mqtt.client_id == "envoy2mqtt"
    assert settings.mqtt.tls.enabled is False
    assert settings.homeassistant.discovery_mode == "device"
    assert settings.homeassistant.status_topic == "homeassistant/status"
    envoy = settings.envoys[0]
    assert (envoy.intervals.fast, envoy.intervals.normal, envoy.intervals.slow) == (5, 60, 600)
    assert envoy.grace() == 180
    assert settings.controls.grid_relay is False
    assert settings.controls.dry_contacts is False
    assert settings.controls.storage is True
    assert settings.controls.storage_watch == [10, 30, 90, 180]
    assert settings.publish.republish_interval == 300
    assert settings.token_cache_dir == Path.home() / ".cache" / "envoy2mqtt"
    assert settings.logging.level == "info"
    assert settings.health.port is None


def test_example_config_loads(tmp_path: Path) -> None:
    settings = load_settings(EXAMPLE)
    assert settings.mqtt.host == "127.0.0.1"
    assert settings.envoys[0].host == "envoy.local"


def _field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(path)
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        for candidate in inner:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths += _field_paths(candidate, f"{path}.")
    return paths


def _has_path(document: Any, path: str) -> bool:
    node = document
    for part in path.split("."):
        if isinstance(node, list):
            node = node[0]
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_example_documents_every_option() -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    missing = [p for p in _field_paths(Settings) if not _has_path(document, p)]
    assert missing == []
    # ... and every option carries a comment on its line or the line above.
    lines = EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.endswith(":"):
            continue
        above = lines[index - 1].strip() if index else ""
        assert "#" in line or above.startswith("#"), f"undocumented: {line!r}"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, MINIMAL + "logging:\n  level: warning\n")
    monkeypatch.setenv("ENVOY2MQTT_MQTT__PASSWORD", "from-env-secret")
    monkeypatch.setenv("ENVOY2MQTT_MQTT__PORT", "8883")
    monkeypatch.setenv("ENVOY2MQTT_MQTT__TLS__INSECURE", "true")
    monkeypatch.setenv("ENVOY2MQTT_LOGGING__LEVEL", "DEBUG")
    settings = load_settings(path)
    assert settings.mqtt.host == "127.0.0.1"  # file value kept
    assert settings.mqtt.port == 8883
    assert settings.mqtt.tls.insecure is True
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "from-env-secret"
    assert settings.logging.level == "debug"
    assert "from-env-secret" not in repr(settings)


def test_envoys_as_json_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ENVOY2MQTT_ENVOYS",
        '[{"host": "https://10.0.0.5:8443", "token": "tok-abcdef", "intervals": {"fast": 2}},'
        ' {"host": "10.0.0.6", "username": "me@example.com", "password": "pw-123456"}]',
    )
    settings = load_settings(write_config(tmp_path, MINIMAL))
    first, second = settings.envoys
    assert (first.scheme, first.hostname, first.port) == ("https", "10.0.0.5", 8443)
    assert first.token is not None
    assert first.token.get_secret_value() == "tok-abcdef"
    assert first.intervals.fast == 2
    assert (second.scheme, second.hostname, second.port) == (None, "10.0.0.6", None)


def test_environment_alone_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVOY2MQTT_MQTT__HOST", "broker.lan")
    monkeypatch.setenv("ENVOY2MQTT_ENVOYS", '[{"host": "envoy.lan"}]')
    settings = load_settings(None)
    assert settings.mqtt.host == "broker.lan"


def test_default_path_is_config_yaml_in_the_working_directory(tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL.replace("127.0.0.1", "from-default-file"))
    assert load_settings(None).mqtt.host == "from-default-file"


def test_token_cache_dir_is_expanded(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL + "token_cache_dir: ~/tokens\n"))
    assert settings.token_cache_dir == Path.home() / "tokens"


def test_ipv6_host_parts(tmp_path: Path) -> None:
    text = "mqtt:\n  host: ::1\nenvoys:\n  - host: 'http://[fe80::1]:80'\n"
    envoy = load_settings(write_config(tmp_path, text)).envoys[0]
    assert (envoy.scheme, envoy.hostname, envoy.port) == ("http", "fe80::1", 80)


def test_world_readable_file_with_secrets_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret_file = MINIMAL + "    token: tok-very-secret\n"
    with caplog.at_level(logging.WARNING, logger="envoy2mqtt.settings"):
        load_settings(write_config(tmp_path, secret_file, mode=0o644))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("world-readable" in w and "chmod 600" in w for w in warnings)
    assert not any("tok-very-secret" in w for w in warnings)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="envoy2mqtt.settings"):
        load_settings(write_config(tmp_path, secret_file, mode=0o600))
        load_settings(write_config(tmp_path, MINIMAL, mode=0o644))  # readable, but nothing secret
    assert not [r for r in caplog.records if "world-readable" in r.getMessage()]


def test_check_config_prints_ok_and_a_summary_without_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "mqtt:\n  host: 127.0.0.1\n  username: bridge\n  password: mqtt-pass-123\n"
        "envoys:\n  - host: envoy.local\n    username: me@example.com\n"
        "    password: envoy-pass-456\n  - host: 10.0.0.2\n    token: tok-789abc\n"
    )
    assert main(["check-config", "--config", str(write_config(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("config OK")
    assert "127.0.0.1:1883" in out
    assert "envoys[1]: host=10.0.0.2" in out
    assert "auth=token" in out
    for secret in ("mqtt-pass-123", "envoy-pass-456", "tok-789abc"):
        assert secret not in out


def test_check_config_reports_errors_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, "mqtt: {}\nenvoys:\n  - host: x\n    intervals: {fast: 0}\n")
    assert main(["check-config", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert "config OK" not in captured.out
    assert "mqtt.host: required" in captured.err
    assert "envoys[0].intervals.fast: must be >= 1 (got 0)" in captured.err


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.yaml")
    assert caught.value.problems == [f"no config file at {tmp_path / 'nope.yaml'}"]


def test_firmware_check_interval_default_and_summary(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL))
    assert settings.envoys[0].intervals.firmware == 3600
    [line] = [x for x in summary(settings) if x.startswith("envoys[0]")]
    assert "intervals=5/60/600s firmware_check=3600s" in line
    with pytest.raises(ConfigError, match="firmware"):
        load_settings(write_config(tmp_path, MINIMAL + "    intervals: {firmware: 0}\n"))
