"""The Home Assistant app (add-on) in addon/envoy2mqtt: manifest, options and start script.

The manifest is checked against the rules the Supervisor applies when it reads a repository
(a manifest it rejects makes the app silently vanish from the store): required keys, slug,
architectures, ``services`` and the schema element grammar (facts from
home-assistant/supervisor ``addons/validate.py``, ``addons/options.py``; format documented at
https://developers.home-assistant.io/docs/add-ons/configuration). The start script runs
against a fake Supervisor on 127.0.0.1, and its result is fed to ``envoy2mqtt check-config``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from envoy2mqtt.settings import EnvoySettings, Settings

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "addon" / "envoy2mqtt"
RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
RE_SERVICE = re.compile(r"^(?:mqtt|mysql):(?:provide|want|need)$")
RE_WATCHDOG = re.compile(r"^(?:https?|\[PROTO:\w+\]|tcp)://\[HOST\]:(?:\[PORT:\d+\]|\d+).*$")
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:|bool|email|url|port|device(?:\(subsystem=[a-z]+\))?"
    r"|str(?:\(\d*,\d*\))?|password(?:\(\d*,\d*\))?|int(?:\(-?\d*,-?\d*\))?"
    r"|float(?:\(-?[\d.]*,-?[\d.]*\))?|match\(.*\)|list\(.+\))\??$"
)
ARCHES = {"aarch64", "amd64", "armhf", "armv7", "i386"}
ONE_ENVOY = {"host": "192.0.2.20", "username": "you@example.com", "password": "enlighten-pw"}


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((APP / "config.yaml").read_text())
    return data


def _load_start_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("envoy2mqtt_app_run", APP / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app_run = _load_start_script()


# --- the manifest ------------------------------------------------------------------------


def test_manifest_has_what_the_supervisor_requires() -> None:
    manifest = _manifest()
    for key in ("name", "version", "slug", "description", "arch"):
        assert manifest.get(key), key
    assert RE_SLUG.match(manifest["slug"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert manifest["version"] == project["version"]  # the Dockerfile installs that release
    assert set(manifest["arch"]) <= ARCHES
    assert manifest["services"] == ["mqtt:want"]
    assert all(RE_SERVICE.match(s) for s in manifest["services"])
    assert RE_WATCHDOG.match(manifest["watchdog"])
    assert "[PORT:8099]" in manifest["watchdog"]
    assert app_run.DEFAULTS["ENVOY2MQTT_HEALTH__PORT"] == "8099"
    build = yaml.safe_load((APP / "build.yaml").read_text())
    assert set(build["build_from"]) == set(manifest["arch"])
    for arch, image in build["build_from"].items():
        assert image.startswith(f"ghcr.io/home-assistant/{arch}-base-python:")


def _elements(schema: Any, depth: int = 0) -> Iterator[tuple[str, int]]:
    if isinstance(schema, dict):
        for value in schema.values():
            yield from _elements(value, depth + 1)
    elif isinstance(schema, list):
        assert len(schema) == 1
        yield from _elements(schema[0], depth + 1)
    else:
        yield schema, depth


def test_schema_elements_use_the_supervisors_grammar_and_nest_at_most_two_deep() -> None:
    elements = list(_elements(_manifest()["schema"]))
    assert elements
    for element, depth in elements:
        assert RE_SCHEMA_ELEMENT.match(element), element
        assert depth <= 3, element  # section -> [item ->] key: two levels of nesting


def _check_keys(options: dict[str, Any], model: type[BaseModel], where: str) -> None:
    for key, value in options.items():
        assert key in model.model_fields, f"{where}{key} is not an envoy2mqtt config key"
        annotation = model.model_fields[key].annotation
        if isinstance(value, dict):
            assert isinstance(annotation, type)
            assert issubclass(annotation, BaseModel)
            _check_keys(value, annotation, f"{where}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            _check_keys(value[0], EnvoySettings, f"{where}{key}[].")


def test_option_and_schema_keys_are_envoy2mqtt_config_keys() -> None:
    manifest = _manifest()
    _check_keys(manifest["schema"], Settings, "")
    _check_keys(manifest["options"], Settings, "")
    for section, values in manifest["options"].items():
        assert section in manifest["schema"]
        if isinstance(values, dict):
            assert set(values) <= set(manifest["schema"][section])


def test_every_option_section_is_translated() -> None:
    translations = yaml.safe_load((APP / "translations" / "en.yaml").read_text())
    assert set(translations["configuration"]) == set(_manifest()["schema"])
    for entry in translations["configuration"].values():
        assert entry["name"]


def test_app_image_runs_the_start_script_on_the_home_assistant_base() -> None:
    dockerfile = (APP / "Dockerfile").read_text()
    assert "ARG BUILD_FROM\nFROM ${BUILD_FROM}" in dockerfile
    assert "COPY run.py /usr/local/bin/envoy2mqtt-app" in dockerfile
    assert 'CMD ["python3", "/usr/local/bin/envoy2mqtt-app"]' in dockerfile
    assert "v${BUILD_VERSION}" in dockerfile
    assert "[demo]" not in dockerfile.replace("Without the [demo] extra", "")
    assert (ROOT / "repository.yaml").is_file()


# --- a fake Supervisor ---------------------------------------------------------------------


@dataclass
class FakeSupervisor:
    """``GET /services/mqtt`` on 127.0.0.1 answering ``status`` / ``body``; logs requests."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""


MOSQUITTO_APP = {
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "protocol": "3.1.1",
    "username": "addons",
    "password": "service-secret",
    "addon": "core_mosquitto",
}


@pytest.fixture
def supervisor() -> Iterator[FakeSupervisor]:
    fake = FakeSupervisor(body={"result": "ok", "data": dict(MOSQUITTO_APP)})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append((self.path, self.headers.get("Authorization")))
            payload = json.dumps(fake.body).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _env(options: dict[str, Any], supervisor: FakeSupervisor, **base: str) -> dict[str, str]:
    result: dict[str, str] = app_run.environment(
        app_run.clean(options),
        base,
        lambda: app_run.supervisor_mqtt(supervisor.url, "tok-123", timeout=5),
    )
    return result


MQTT = "ENVOY2MQTT_MQTT__"


# --- option -> environment mapping ---------------------------------------------------------


def test_empty_mqtt_host_takes_the_broker_from_the_supervisor(supervisor: FakeSupervisor) -> None:
    env = _env({"mqtt": {"host": "", "base_topic": "envoy2mqtt"}}, supervisor, PATH="/bin")
    assert supervisor.requests == [("/services/mqtt", "Bearer tok-123")]
    assert {k: v for k, v in env.items() if k.startswith(MQTT)} == {
        f"{MQTT}HOST": "core-mosquitto",
        f"{MQTT}PORT": "1883",
        f"{MQTT}USERNAME": "addons",
        f"{MQTT}PASSWORD": "service-secret",
    }
    assert env["ENVOY2MQTT_TOKEN_CACHE_DIR"] == "/data/tokens"
    assert env["ENVOY2MQTT_HEALTH__PORT"] == "8099"
    assert env["ENVOY2MQTT_HEALTH__BIND"] == "0.0.0.0"
    assert env["PATH"] == "/bin"


def test_a_broker_in_the_options_is_used_and_the_supervisor_not_asked(
    supervisor: FakeSupervisor,
) -> None:
    env = _env({"mqtt": {"host": "192.0.2.5", "username": "me"}}, supervisor)
    assert supervisor.requests == []
    assert not [k for k in env if k.startswith(MQTT)]


def test_own_login_and_port_win_over_the_services(supervisor: FakeSupervisor) -> None:
    env = _env({"mqtt": {"username": "me", "password": "mine", "port": 1884}}, supervisor)
    assert env[f"{MQTT}HOST"] == "core-mosquitto"
    for key in ("USERNAME", "PASSWORD", "PORT"):
        assert f"{MQTT}{key}" not in env  # the options file's values stay in force


def test_tls_service_and_existing_environment(supervisor: FakeSupervisor) -> None:
    supervisor.body["data"] |= {"ssl": True, "port": 8883}
    env = _env({}, supervisor, **{f"{MQTT}HOST": "from-the-env"})
    assert env[f"{MQTT}HOST"] == "from-the-env"  # the environment wins, as for the bridge
    assert env[f"{MQTT}PORT"] == "8883"
    assert env[f"{MQTT}TLS__ENABLED"] == "true"


def test_no_mqtt_service_is_a_clear_start_error(supervisor: FakeSupervisor) -> None:
    supervisor.status = 400
    supervisor.body = {"result": "error", "message": "No MQTT service available"}
    with pytest.raises(app_run.StartError) as caught:
        _env({"mqtt": {}}, supervisor)
    text = str(caught.value)
    assert "set mqtt.host in the app's options" in text
    assert "Mosquitto broker app" in text
    assert "HTTP 400: No MQTT service available" in text


def test_without_a_supervisor_token_nothing_is_requested(supervisor: FakeSupervisor) -> None:
    with pytest.raises(app_run.StartError, match="SUPERVISOR_TOKEN"):
        app_run.supervisor_mqtt(supervisor.url, None)
    assert supervisor.requests == []


def test_empty_fields_are_dropped_into_a_private_copy(tmp_path: Path) -> None:
    raw = {"mqtt": {"host": "", "username": None}, "envoys": [{"host": "e", "token": ""}]}
    cleaned = app_run.clean(raw)
    assert cleaned == {"mqtt": {}, "envoys": [{"host": "e"}]}
    path = app_run.config_path(raw, cleaned, tmp_path / "private")
    assert json.loads(path.read_text()) == cleaned
    assert path.stat().st_mode & 0o777 == 0o600
    assert app_run.config_path(cleaned, cleaned, tmp_path / "private") == app_run.OPTIONS


# --- end to end: manifest defaults + one Envoy -> start script -> check-config -------------


def _check_config(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envoy2mqtt", "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def _start(
    options: dict[str, Any], tmp_path: Path, supervisor: FakeSupervisor, monkeypatch: Any
) -> tuple[list[str], dict[str, str]]:
    """Run the start script's main() up to its exec; return its argv and environment."""
    options_file = tmp_path / "options.json"
    options_file.write_text(json.dumps(options))
    monkeypatch.setattr(app_run, "OPTIONS", options_file)
    monkeypatch.setattr(app_run, "SUPERVISOR", supervisor.url)
    monkeypatch.setenv("SUPERVISOR_TOKEN", "tok-123")
    for key in [k for k in os.environ if k.startswith("ENVOY2MQTT_")]:
        monkeypatch.delenv(key)
    captured: dict[str, Any] = {}

    class Exec(Exception):
        pass

    def fake_execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        captured.update(path=path, argv=argv, env=env)
        raise Exec

    monkeypatch.setattr(app_run.os, "execve", fake_execve)
    with pytest.raises(Exec):
        app_run.main()
    assert captured["path"] == sys.executable
    return captured["argv"], captured["env"]


def test_default_options_plus_one_envoy_pass_check_config_with_the_supervisors_broker(
    tmp_path: Path,
    supervisor: FakeSupervisor,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = _manifest()["options"]
    options["envoys"] = [dict(ONE_ENVOY)]
    argv, env = _start(options, tmp_path, supervisor, monkeypatch)
    assert argv[1:5] == ["-m", "envoy2mqtt", "run", "--config"]
    config = Path(argv[5])
    assert json.loads(config.read_text()) == options  # the options file itself, as is
    assert "MQTT broker from the Supervisor: core-mosquitto:1883" in capsys.readouterr().out
    result = _check_config(config, env)
    assert result.returncode == 0, result.stderr
    assert "config OK" in result.stdout
    assert "mqtt: core-mosquitto:1883 protocol=5" in result.stdout
    assert "user=addons" in result.stdout
    assert "envoys[0]: host=192.0.2.20" in result.stdout
    assert "token_cache_dir: /data/tokens" in result.stdout
    assert "service-secret" not in result.stdout + result.stderr
    assert "enlighten-pw" not in result.stdout + result.stderr


def test_default_options_with_own_broker_pass_check_config_without_a_supervisor(
    tmp_path: Path,
) -> None:
    options = _manifest()["options"]
    options["mqtt"]["host"] = "192.0.2.5"
    options["envoys"] = [dict(ONE_ENVOY)]
    config = tmp_path / "options.json"
    config.write_text(json.dumps(options))
    result = _check_config(config, {k: v for k, v in os.environ.items() if "ENVOY2MQTT" not in k})
    assert result.returncode == 0, result.stderr
    assert "mqtt: 192.0.2.5:1883" in result.stdout


def test_an_envoy_without_host_stops_the_app_with_the_field(
    tmp_path: Path, supervisor: FakeSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = _manifest()["options"]
    options["envoys"] = [{"host": "", "username": "you@example.com"}]
    argv, env = _start(options, tmp_path, supervisor, monkeypatch)
    config = Path(argv[5])
    assert config != tmp_path / "options.json"  # the emptied field was dropped
    result = _check_config(config, env)
    assert result.returncode == 1
    assert "envoys[0].host: required" in result.stderr
