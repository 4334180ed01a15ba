"""ONE end-to-end run that hunts for secrets everywhere a user or another program can see.

The real ``envoy2mqtt run`` process (DEBUG logging) bridges a token-firmware simulator using
Enlighten credentials to a mosquitto that requires a password; a subscriber to ``#`` records
every MQTT message for the whole run. A 401 forces a token re-fetch mid-run; ``envoy2mqtt
dump`` then reads the same Envoy (DEBUG logging too), and a ``run`` with a wrong MQTT password
produces an error. Every issued JWT (and its signature alone), every session cookie, the
Enlighten password, the Enlighten session id and the MQTT password are searched for in: the
bridge's log, every MQTT topic and payload (``bridge/info`` and ``bridge/health`` included),
the dump's output files and console output, and the error output of the failed run.

The run is done twice: with strong passwords (found nowhere, not even as a substring) and
with common-word passwords (Enlighten ``envoy``, MQTT ``mqtt``), which must not appear as a
value anywhere while the log stays readable (``topic=envoy2mqtt/…`` intact, no ``***``
glued to a word as substring masking would leave). The dump must also hold none of the
gateway's MAC and IP addresses (``/home``).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.tokens import EnlightenAccount
from tests.bridge_helpers import Watcher
from tests.plugins.mosquitto import Mosquitto
from tests.plugins.simulator import FIXTURES_DIR, StartSimulator
from tests.reliability_helpers import OWNER, OWNER_PASSWORD, enlighten_for

FIXTURE = "8.3.5169_with_generator"
MQTT_USER = "bridge"


@dataclass(frozen=True)
class Passwords:
    """The Enlighten and MQTT passwords of one run; ``common`` ones are ordinary words."""

    enlighten: str
    mqtt: str
    common: bool


STRONG = Passwords(OWNER_PASSWORD, "mqtt-Secret-4711", common=False)
COMMON = Passwords("envoy", "mqtt", common=True)


def network_addresses() -> set[str]:
    """The MAC and IP addresses the fixture's ``/home`` reveals."""
    home = json.loads((FIXTURES_DIR / FIXTURE / "home").read_text())
    found = {i.get(k) for i in home["network"]["interfaces"] for k in ("mac", "ip")}
    return {v for v in found if v}


def value_leaks(text: bytes, word: str) -> list[bytes]:
    """``word`` where a value stands (``=envoy``, ``: "envoy"``, ``:envoy@``), as a token."""
    pattern = rb"[=:]\s*[\"']?" + re.escape(word.encode()) + rb"(?![A-Za-z0-9_])(?![./-]\w)"
    return re.findall(pattern, text)


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


async def password_broker(tmp_path: Path, password: str) -> Mosquitto:
    passwords = tmp_path / "passwd"
    passwords.write_text("")
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_passwd", "-b", str(passwords), MQTT_USER, password
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


@pytest.mark.parametrize("pw", [STRONG, COMMON], ids=["strong", "common-words"])
async def test_no_secret_reaches_logs_mqtt_dumps_or_errors(
    envoy_simulator: StartSimulator, tmp_path: Path, pw: Passwords
) -> None:
    sim = await envoy_simulator(FIXTURE)
    sim.set_live(1)  # values move: every poll publishes
    sim.enlighten.accounts[OWNER] = EnlightenAccount(OWNER, pw.enlighten)
    secrets = SecretRecorder(sim)
    cloud = await enlighten_for(envoy_simulator, FIXTURE, sim)
    broker = await password_broker(tmp_path, pw.mqtt)
    watcher = Watcher(broker.host, broker.port)
    await watcher.start()
    cache = tmp_path / "tokens"
    config = {
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker.port,
            "username": MQTT_USER,
            "password": pw.mqtt,
        },
        "envoys": [
            {
                "host": sim.url,
                "username": OWNER,
                "password": pw.enlighten,
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
            "--username", OWNER, "--password", pw.enlighten,
            "--login-url", f"{cloud}/login/login.json", "--token-url", f"{cloud}/tokens",
            "--out", str(dump_dir),
        )  # fmt: skip
        bad = {**config, "mqtt": {**config["mqtt"], "password": pw.mqtt + "-wrong"}}
        refused = await cli("run", "--config", str(write_config(tmp_path / "bad.yaml", bad)))
    finally:
        await watcher.stop()
        await asyncio.to_thread(broker.stop)

    assert proc.returncode == 0
    assert dump[0] == 0, dump[2]
    assert refused[0] == 1
    assert "refused the login" in refused[2]
    assert sim.enlighten.token_calls >= 2  # the 401 really forced a re-fetch
    words = {pw.enlighten, pw.mqtt} if pw.common else set()
    wanted = secrets.values | {pw.enlighten, pw.mqtt, pw.mqtt + "-wrong"} - words
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
    word_leaks = [
        (w, where) for where, text in places.items() for w in words if value_leaks(text, w)
    ]
    assert word_leaks == []
    # readable: nothing masked inside a word, the bridge's own name intact
    assert re.search(rb"\*\*\*\w|\w\*\*\*", places["bridge log"]) is None
    assert b"topic=envoy2mqtt/" in places["bridge log"]
    assert b'"client_id":"envoy2mqtt"' in places["mqtt"].replace(b" ", b"")
    dumped = b"".join(v for k, v in places.items() if k.startswith("dump file")).lower()
    assert [a for a in network_addresses() if a.lower().encode() in dumped] == []
    assert "masked 2 MAC addresses, 2 IP addresses" in dump[1]

    # the token cache holds a token, so it and its directory are private
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert files
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert stat.S_IMODE(cache.stat().st_mode) & 0o077 == 0
