"""Start envoy2mqtt inside the Home Assistant app (add-on) container.

The options the user set in the app's UI arrive in ``/data/options.json``; their keys are
envoy2mqtt's config keys, so the file is the bridge's config. This script only adds what
the container decides:

* the MQTT broker from the Supervisor's MQTT service (``GET http://supervisor/services/mqtt``
  with ``SUPERVISOR_TOKEN``) when the options leave ``mqtt.host`` empty, passed as
  ``ENVOY2MQTT_MQTT__*`` environment variables (for the keys the options leave empty);
* the token cache on the persistent ``/data`` volume and the health server the
  Supervisor's watchdog polls;
* empty option fields are treated as not set (a cleaned copy, mode 0600, is used then).

Standard library only: it runs before anything else and is unit-tested with a fake
Supervisor (tests/project/test_addon.py).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

OPTIONS = Path("/data/options.json")
SUPERVISOR = "http://supervisor"
DEFAULTS = {
    "ENVOY2MQTT_TOKEN_CACHE_DIR": "/data/tokens",
    # The watchdog connects from the Supervisor to this container's address; no port is
    # published on the host.
    "ENVOY2MQTT_HEALTH__PORT": "8099",
    "ENVOY2MQTT_HEALTH__BIND": "0.0.0.0",  # noqa: S104
}
_ENV = "ENVOY2MQTT_MQTT__"


class StartError(Exception):
    """The app cannot start; the message says what to change."""


def clean(value: Any) -> Any:
    """Drop empty strings and nulls from mappings (an emptied UI field means "not set")."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def supervisor_mqtt(url: str, token: str | None, timeout: float = 10) -> dict[str, Any]:
    """The broker the Supervisor's MQTT service offers (host, port, username, password, ssl)."""
    if not token:
        msg = "no SUPERVISOR_TOKEN: not running under the Supervisor"
        raise StartError(msg)
    request = urllib.request.Request(  # noqa: S310 - the Supervisor's fixed http URL
        f"{url}/services/mqtt", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        msg = f"the Supervisor has no MQTT service (HTTP {exc.code}: {_message(exc)})"
        raise StartError(msg) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        msg = f"cannot ask the Supervisor for the MQTT service ({exc})"
        raise StartError(msg) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("host"):
        msg = "the Supervisor's MQTT service has no broker host"
        raise StartError(msg)
    return data


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("message") or exc.reason)
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def environment(
    options: Mapping[str, Any],
    base: Mapping[str, str],
    fetch_broker: Callable[[], dict[str, Any]],
) -> dict[str, str]:
    """The bridge's environment: ``base`` plus the app's defaults and the Supervisor's broker.

    Variables already in ``base`` win (as they do over the config file).
    """
    env = dict(base)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    mqtt = options.get("mqtt") or {}
    if mqtt.get("host"):
        return env
    try:
        service = fetch_broker()
    except StartError as exc:
        msg = (
            f"no MQTT broker: set mqtt.host in the app's options, or install and start the "
            f"Mosquitto broker app ({exc})"
        )
        raise StartError(msg) from None
    offered = {"HOST": service.get("host"), "PORT": service.get("port")}
    if not (mqtt.get("username") or mqtt.get("password")):  # the user's login as a pair
        offered |= {"USERNAME": service.get("username"), "PASSWORD": service.get("password")}
    if "port" in mqtt:
        del offered["PORT"]
    if service.get("ssl"):
        offered["TLS__ENABLED"] = "true"
    for key, value in offered.items():
        if value is not None and value != "":
            env.setdefault(_ENV + key, str(value))
    return env


def config_path(raw: Any, cleaned: Any, private_dir: Path) -> Path:
    """The config file to run with: the options file itself, or a cleaned private copy."""
    if cleaned == raw:
        return OPTIONS
    private_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="config-", suffix=".json", dir=private_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
        json.dump(cleaned, handle)
    return Path(name)


def main() -> int:
    """Prepare the environment and exec ``envoy2mqtt run``; returns only on a start error."""
    try:
        raw = json.loads(OPTIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"envoy2mqtt app: cannot read {OPTIONS}: {exc}", file=sys.stderr)
        return 1
    options = clean(raw)
    token = os.environ.get("SUPERVISOR_TOKEN")
    try:
        env = environment(options, os.environ, lambda: supervisor_mqtt(SUPERVISOR, token))
    except StartError as exc:
        print(f"envoy2mqtt app: {exc}", file=sys.stderr)
        return 1
    if _ENV + "HOST" not in os.environ and _ENV + "HOST" in env:
        broker = f"{env[_ENV + 'HOST']}:{env.get(_ENV + 'PORT', 1883)}"
        print(f"envoy2mqtt app: MQTT broker from the Supervisor: {broker}", flush=True)
    path = config_path(raw, options, Path(tempfile.gettempdir()) / "envoy2mqtt")
    argv = [sys.executable, "-m", "envoy2mqtt", "run", "--config", str(path)]
    os.execve(sys.executable, argv, env)  # noqa: S606 - our own interpreter, fixed arguments
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
