"""ONE end-to-end run that hunts for secrets everywhere a user or another program can see.

The real ``envoy2mqtt run`` process (DEBUG logging) bridges a token-firmware simulator using
Enlighten credentials to a mosquitto that requires a password; a subscriber to ``#`` records
every MQTT message for the whole run. A 401 forces a token re-fetch mid-run; ``envoy2mqtt
dump`` then reads the same Envoy (DEBUG logging too), and a ``run`` with a wrong MQTT password
produces an error. Every issued JWT (and its signature alone), every session cookie, the
Enlighten password, the Enlighten session id and the MQTT password are searched for in: the
bridge's log, every MQTT topic and payload (``bridge/info`` and ``bridge/health`` included),
the dump's output files and console output, and the error output of the failed run.
"""

from __future__ import annotations

import asyncio
import signal
import stat
import sys
from pathlib import Path
from typing import Any

import yaml

from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import StartSimulator
from tests.reliability_helpers import OWNER, OWNER_PASSWORD, enlighten_for

FIXTURE = "8.3.5169_with_generator"
MQTT_USER, MQTT_PASSWORD = "bridge", "mqtt-Secret-4711"


class SecretRecorder:
    """Wraps the simulator's token authority and cloud so every issued secret is known."""

    def __init__(self, sim: EnvoySimulator) -> None:
        self.values: set[str] = set()
        issue, open_session, login = sim.tokens.issue, sim.tokens.open_session, sim.enlighten.login

        def recorded_issue(username: str, user_type: str = "owner") -> str:
            token = issue(username, user_type)
            self.values |= {token, token.rsplit(".", 1)[1]}  # the signature alone, too
            return token

        def recorded_session(token: str) -> str:
            session = open_session(token)
            self.values.add(session)
            return session

        def recorded_login(email: str, password: str) -> tuple[int, dict[str, object]]:
            status, body = login(email, password)
            self.values |= {str(body[k]) for k in ("session_id", "manager_token") if k in body}
            return status, body

        sim.tokens.issue = recorded_issue  # type: ignore[method-assign]
        sim.tokens.open_session = recorded_session  # type: ignore[method-assign]
        sim.enlighten.login = recorded_login  # type: ignore[method-assign]


async def password_broker(tmp_path: Path) -> Mosquitto:
    passwords = tmp_path / "passwd"
    passwords.write_text("")
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_passwd", "-b", str(passwords), MQTT_USER, MQTT_PASSWORD
    )
    assert await proc.wait() == 0
    workdir = tmp_path / "broker"
    workdir.mkdir()
    # anonymous clients may only read (the watcher); the bridge must log in to write
    acl = workdir / "acl"
    acl.write_text(f"topic read #\nuser {MQTT_USER}\ntopic readwrite #\n")
    broker = Mosquitto(
        workdir=workdir,
        # "user root": mosquitto must still read the password file in the private tmp dir
        extra_config=f"user root\npassword_file {passwords}\nacl_file {acl}",
    )
    await asyncio.to_thread(broker.start)
    return broker


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data))
    path.chmod(0o600)
    return path


async def cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "envoy2mqtt", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_no_secret_reaches_logs_mqtt_dumps_or_errors(
    envoy_simulator: StartSimulator, tmp_path: Path
) -> None:
    sim = await envoy_simulator(FIXTURE)
    sim.set_live(1)  # values move: every poll publishes
    secrets = SecretRecorder(sim)
    cloud = await enlighten_for(envoy_simulator, FIXTURE, sim)
    broker = await password_broker(tmp_path)
    watcher = Watcher(broker.host, broker.port)
    await watcher.start()
    cache = tmp_path / "tokens"
    config = {
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker.port,
            "username": MQTT_USER,
            "password": MQTT_PASSWORD,
        },
        "envoys": [
            {
                "host": sim.url,
                "username": OWNER,
                "password": OWNER_PASSWORD,
                "intervals": {"fast": 1, "normal": 1, "slow": 1, "firmware": 1},
            }
        ],
        "token_cache_dir": str(cache),
        "enlighten": {"login_url": f"{cloud}/login/login.json", "token_url": f"{cloud}/tokens"},
        "publish": {"health_interval": 1},
        "logging": {"level": "debug"},
    }
    log_path = tmp_path / "bridge.log"
    availability = f"envoy2mqtt/{sim.serial}/availability"
    meters = f"envoy2mqtt/{sim.serial}/meters/production"
    try:
        with log_path.open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "envoy2mqtt", "run", "--config",
                str(write_config(tmp_path / "config.yaml", config)),
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
            try:
                await watcher.wait(lambda w: w.latest.get(availability) == b"online", 30)
                await watcher.wait(lambda w: "envoy2mqtt/bridge/health" in w.latest)
                fetched = sim.enlighten.token_calls
                sim.revoke_tokens()  # the next request gets 401: re-fetch from Enlighten
                await sim.requests.wait_for(lambda _e: sim.enlighten.token_calls > fetched, 15)
                index = len(watcher.log)
                await watcher.wait(lambda w: any(t == meters for t, _, _ in w.since(index)), 15)
                await watcher.wait(lambda w: w.latest.get(availability) == b"online")
            finally:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 30)
        dump_dir = tmp_path / "dump"
        dump = await cli(
            "--log-level", "debug", "dump", f"127.0.0.1:{sim.port}",
            "--username", OWNER, "--password", OWNER_PASSWORD,
            "--login-url", f"{cloud}/login/login.json", "--token-url", f"{cloud}/tokens",
            "--out", str(dump_dir),
        )  # fmt: skip
        bad = {**config, "mqtt": {**config["mqtt"], "password": MQTT_PASSWORD + "-wrong"}}
        refused = await cli("run", "--config", str(write_config(tmp_path / "bad.yaml", bad)))
    finally:
        await watcher.stop()
        await asyncio.to_thread(broker.stop)

    assert proc.returncode == 0
    assert dump[0] == 0, dump[2]
    assert refused[0] == 1
    assert "refused the login" in refused[2]
    assert sim.enlighten.token_calls >= 2  # the 401 really forced a re-fetch
    wanted = secrets.values | {OWNER_PASSWORD, MQTT_PASSWORD, MQTT_PASSWORD + "-wrong"}
    assert len(secrets.values) >= 4  # two tokens (+ signatures), sessions, cloud session

    places: dict[str, bytes] = {"bridge log": log_path.read_bytes()}
    places["mqtt"] = b"\n".join(t.encode() + b" " + p for t, p, _ in watcher.log)
    places["dump console"] = (dump[1] + dump[2]).encode()
    places["refused run console"] = refused[2].encode()
    for file in sorted(dump_dir.iterdir()):
        places[f"dump file {file.name}"] = file.read_bytes()
    assert b"http method=GET" in places["bridge log"]  # DEBUG lines were really written
    assert b"envoy2mqtt/bridge/info" in places["mqtt"]
    leaks = [
        (where, s[:12]) for where, text in places.items() for s in wanted if s.encode() in text
    ]
    assert leaks == []

    # the token cache holds a token, so it and its directory are private
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert files
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert stat.S_IMODE(cache.stat().st_mode) & 0o077 == 0
