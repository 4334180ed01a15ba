"""Every documented configuration error, reported as ``<field path>: <reason>``."""

from __future__ import annotations

from pathlib import Path

import pytest

from envoy2mqtt.settings import ConfigError, load_settings
from tests.plugins.config_env import write_config

ENVOY = "envoys:\n  - host: envoy.local\n"
MQTT = "mqtt:\n  host: 127.0.0.1\n"


pytestmark = pytest.mark.usefixtures("config_env")


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, text))
    assert str(caught.value).startswith("invalid configuration:")
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ENVOY, "mqtt.host: required"),
        ("mqtt:\n  port: 1883\n" + ENVOY, "mqtt.host: required"),
        (MQTT + "  host2: x\n" + ENVOY, "mqtt.host2: unknown key"),
        (MQTT + ENVOY + "colour: blue\n", "colour: unknown key"),
        (MQTT, "envoys: required"),
        (MQTT + "envoys: []\n", "envoys: must not be empty"),
        (MQTT + "envoys:\n  - name: x\n", "envoys[0].host: required"),
        (MQTT + "envoys:\n  - host: ''\n", "envoys[0].host: must not be empty"),
        (
            MQTT + "envoys:\n  - host: 'envoy local/x'\n",
            "envoys[0].host: must be a host name or IP with optional scheme and port "
            "(got 'envoy local/x')",
        ),
        (
            MQTT + ENVOY + "    intervals: {fast: 0}\n",
            "envoys[0].intervals.fast: must be >= 1 (got 0)",
        ),
        (
            MQTT + ENVOY + "    intervals: {fast: 10, normal: 5}\n",
            "envoys[0].intervals.normal: must be >= fast (10) (got 5)",
        ),
        (
            MQTT + ENVOY + "    intervals: {normal: 60, slow: 30}\n",
            "envoys[0].intervals.slow: must be >= normal (60) (got 30)",
        ),
        (
            MQTT + ENVOY + "    intervals: {fast: soon}\n",
            "envoys[0].intervals.fast: input should be a valid number, unable to parse string "
            "as a number (got 'soon')",
        ),
        (
            MQTT + ENVOY + "  - host: ENVOY.local\n",
            "envoys: envoys[1].host duplicates envoys[0].host ('ENVOY.local')",
        ),
        (
            MQTT + ENVOY + "    availability_grace: 5\n",
            "envoys[0].availability_grace: must be longer than intervals.fast (5) (got 5): "
            "the Envoy would go offline between two polls",
        ),
        (
            MQTT + ENVOY + "    serial: '12-34'\n",
            "envoys[0].serial: must be letters and digits only (got '12-34')",
        ),
        ("mqtt:\n  host: h\n  port: 70000\n" + ENVOY, "mqtt.port: must be <= 65535 (got 70000)"),
        (
            "mqtt:\n  host: h\n  protocol: '4'\n" + ENVOY,
            "mqtt.protocol: input should be '5' or '3.1.1' (got '4')",
        ),
        (
            "mqtt:\n  host: h\n  base_topic: 'a/+/b'\n" + ENVOY,
            "mqtt.base_topic: must be a topic without + # spaces or empty levels (got 'a/+/b')",
        ),
        (
            "mqtt:\n  host: h\n  keepalive: often\n" + ENVOY,
            "mqtt.keepalive: input should be a valid integer, unable to parse string as an "
            "integer (got 'often')",
        ),
        (
            MQTT + "homeassistant:\n  discovery_mode: entity\n" + ENVOY,
            "homeassistant.discovery_mode: input should be 'device' or 'component' (got 'entity')",
        ),
        (
            MQTT + ENVOY + "publish:\n  republish_interval: 0\n",
            "publish.republish_interval: must be >= 1 (got 0)",
        ),
        (
            MQTT + ENVOY + "logging:\n  format: xml\n",
            "logging.format: input should be 'text' or 'json' (got 'xml')",
        ),
        (
            MQTT + ENVOY + "health:\n  port: 0\n",
            "health.port: must be >= 1 (got 0)",
        ),
        (
            MQTT + ENVOY + "enlighten:\n  login_url: ftp://x\n",
            "enlighten.login_url: must be an http:// or https:// URL (got 'ftp://x')",
        ),
        (
            "mqtt:\n  host: h\n  reconnect_min_delay: 10\n  reconnect_max_delay: 5\n" + ENVOY,
            "mqtt.reconnect_max_delay: must be >= reconnect_min_delay (10) (got 5)",
        ),
        ("mqtt: 5\n" + ENVOY, "mqtt: input should be a valid dictionary or instance of "),
        (
            MQTT + ENVOY + "controls:\n  storage_watch: [10, -1]\n",
            "controls.storage_watch: every offset must be > 0 and <= 3600 seconds",
        ),
    ],
)
def test_error_has_field_path_and_reason(tmp_path: Path, text: str, expected: str) -> None:
    found = problems(tmp_path, text)
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = (
        "mqtt:\n  port: 0\nenvoys:\n  - host: a\n    intervals: {fast: 0}\n"
        "  - host: b\n    bogus: 1\n"
    )
    assert problems(tmp_path, text) == [
        "mqtt.host: required",
        "mqtt.port: must be >= 1 (got 0)",
        "envoys[0].intervals.fast: must be >= 1 (got 0)",
        "envoys[1].bogus: unknown key",
    ]


def test_unreadable_tls_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing-ca.pem"
    text = (
        f"mqtt:\n  host: h\n  tls:\n    enabled: true\n    ca_file: {missing}\n"
        f"    cert_file: {tmp_path}\n" + ENVOY
    )
    found = problems(tmp_path, text)
    assert f"mqtt.tls.ca_file: cannot read file {missing} (No such file or directory)" in found
    assert any(p.startswith("mqtt.tls.cert_file: cannot read file") for p in found), found


def test_enlighten_ca_file_must_hold_a_certificate(tmp_path: Path) -> None:
    missing, junk = tmp_path / "missing.pem", tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for ca_file, expected in (
        (missing, f"enlighten.ca_file: cannot read file {missing} (No such file or directory)"),
        (junk, f"enlighten.ca_file: no PEM certificate in {junk}"),
    ):
        assert problems(tmp_path, MQTT + ENVOY + f"enlighten:\n  ca_file: {ca_file}\n") == [
            expected
        ]


def test_tls_files_not_checked_while_tls_is_disabled(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"mqtt:\n  host: h\n  tls:\n    ca_file: {tmp_path / 'nope'}\n" + ENVOY)
    assert load_settings(path).mqtt.tls.enabled is False


def test_key_file_needs_a_cert_file(tmp_path: Path) -> None:
    key = tmp_path / "client.key"
    key.write_text("k")
    text = f"mqtt:\n  host: h\n  tls:\n    enabled: true\n    key_file: {key}\n" + ENVOY
    assert "mqtt.tls.key_file: set only together with cert_file" in problems(tmp_path, text)


@pytest.mark.parametrize(
    "text",
    [
        MQTT + "  password: 12345678\n  port: nope\n" + ENVOY,
        MQTT + "envoys:\n  - host: e\n    token: [tok-abcdefgh]\n",
        MQTT + "envoys:\n  - host: e\n    password: {p: pw-abcdefgh}\n",
    ],
)
def test_secrets_are_never_echoed(tmp_path: Path, text: str) -> None:
    message = "\n".join(problems(tmp_path, text))
    for secret in ("12345678", "tok-abcdefgh", "pw-abcdefgh"):
        assert secret not in message


def test_invalid_yaml_reports_position_but_not_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, MQTT + '  password: "hunter2-secret\n' + ENVOY)
    assert len(found) == 1
    assert "invalid YAML" in found[0]
    assert "line" in found[0]
    assert "hunter2" not in found[0]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- a\n- b\n") == [
        f"{tmp_path / 'config.yaml'}: the top level must be a mapping of sections"
    ]


def test_bad_json_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVOY2MQTT_ENVOYS", '[{"host": "e", "token": "tok-abcdefgh"')
    found = problems(tmp_path, MQTT)
    assert found == [
        "ENVOY2MQTT_ENVOYS: not valid JSON (Expecting ',' delimiter at line 1 column 39)"
    ]
    assert "tok-abcdefgh" not in found[0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # the brief's example: a missing comma
        (
            "ENVOY2MQTT_ENVOYS",
            '[{"host": "a" "b"}]',
            "ENVOY2MQTT_ENVOYS: not valid JSON (Expecting ',' delimiter at line 1 column 15)",
        ),
        # a nested section, and the name as the user spelt it (lower case works too)
        (
            "ENVOY2MQTT_MQTT__TLS",
            '{"enabled": tru}',
            "ENVOY2MQTT_MQTT__TLS: not valid JSON (Expecting value at line 1 column 13)",
        ),
        (
            "envoy2mqtt_controls",
            "{grid_relay: true}",
            "envoy2mqtt_controls: not valid JSON "
            "(Expecting property name enclosed in double quotes at line 1 column 2)",
        ),
    ],
)
def test_undecodable_variable_is_named_with_the_json_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENVOY2MQTT_MQTT__HOST", "not-json-but-a-string")  # not reported
    assert problems(tmp_path, MQTT + ENVOY) == [expected]


def test_env_error_uses_the_same_field_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVOY2MQTT_MQTT__KEEPALIVE", "1")
    assert "mqtt.keepalive: must be >= 5 (got '1') (from ENVOY2MQTT_MQTT__KEEPALIVE)" in problems(
        tmp_path, MQTT + ENVOY
    )


def test_valid_json_of_the_wrong_shape_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVOY2MQTT_ENVOYS", '{"host": "a"}')
    assert problems(tmp_path, MQTT) == [
        "envoys: input should be a valid list (from ENVOY2MQTT_ENVOYS)"
    ]


def test_file_values_do_not_blame_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVOY2MQTT_MQTT__PORT", "1883")
    assert problems(tmp_path, MQTT + "  keepalive: 1\n" + ENVOY) == [
        "mqtt.keepalive: must be >= 5 (got 1)"
    ]


def test_missing_default_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None)  # cwd is tmp_path, without a config.yaml
    assert caught.value.problems == [
        f"no config file at {tmp_path / 'config.yaml'} (the default; pass --config FILE); "
        "read ENVOY2MQTT_* variables only",
        "mqtt.host: required",
        "envoys: required",
    ]
