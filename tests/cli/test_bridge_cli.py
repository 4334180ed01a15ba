"""``envoy2mqtt run`` as a real process: config errors, refused broker login, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml

from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.stack import BridgeStack
from tests.process_helpers import never_left_running


async def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd, env=env,
    )  # fmt: skip
    async with never_left_running(proc):
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def write_config(path: Path, data: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(data))
    path.chmod(0o600)
    return path


async def test_bad_config_exits_2_with_the_field_path(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        {"mqtt": {"host": "127.0.0.1"}, "envoys": [{"host": "x", "intervals": {"fast": 0}}]},
    )
    code, err = await run_cli("run", "--config", str(config))
    assert code == 2
    assert "envoys[0].intervals.fast: must be >= 1" in err


@pytest.mark.parametrize("command", ["run", "check-config"])
async def test_missing_config_file_is_named(command: str, tmp_path: Path) -> None:
    code, err = await run_cli(command, "--config", str(tmp_path / "nope.yaml"))
    assert code == (2 if command == "run" else 1)
    assert f"no config file at {tmp_path / 'nope.yaml'}" in err
    assert "mqtt.host" not in err


@pytest.mark.parametrize("command", ["run", "check-config"])
async def test_missing_default_config_file_says_where_it_looked(
    command: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ENVOY2MQTT_")}
    code, err = await run_cli(command, cwd=tmp_path, env=env)
    assert code == (2 if command == "run" else 1)
    assert f"no config file at {tmp_path / 'config.yaml'} (the default; pass --config FILE)" in err
    assert "mqtt.host: required" in err


async def test_refused_broker_login_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    passwords = tmp_path / "passwd"
    passwords.write_text("")
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_passwd", "-b", str(passwords), "user", "right-password"
    )
    assert await proc.wait() == 0
    broker = Mosquitto(
        workdir=tmp_path,
        # "user root": mosquitto must still read the password file in the private tmp dir
        extra_config=f"user root\nallow_anonymous false\npassword_file {passwords}",
    )
    broker.start()
    try:
        config = write_config(
            tmp_path / "config.yaml",
            {
                "mqtt": {
                    "host": "127.0.0.1",
                    "port": broker.port,
                    "username": "user",
                    "password": "wrong-password",
                },
                "envoys": [{"host": "127.0.0.1:9"}],
            },
        )
        code, err = await run_cli("run", "--config", str(config))
    finally:
        broker.stop()
    assert code == 1
    assert "refused the login" in err
    assert "mqtt.username" in err
    assert "wrong-password" not in err


async def test_sigterm_stops_gracefully_with_offline_published(
    bridge_stack: BridgeStack, watcher: Watcher, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    sim = await bridge_stack.sim("8.3.5169_with_generator")
    config = write_config(
        tmp_path / "config.yaml",
        {
            "mqtt": {"host": "127.0.0.1", "port": mosquitto.port},
            "envoys": [{"host": sim.url, "token": sim.issue_token()}],
            "token_cache_dir": str(tmp_path / "tokens"),
        },
    )
    availability = f"envoy2mqtt/{sim.serial}/availability"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with never_left_running(proc):
        await watcher.wait(lambda w: w.latest.get(availability) == b"online", 30)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        retained = await watcher.retained_now("envoy2mqtt/#")
    assert proc.returncode == 0, err.decode()
    assert retained[availability] == b"offline"
    assert retained["envoy2mqtt/bridge/state"] == b"offline"
    assert "bridge stopped" in err.decode()
