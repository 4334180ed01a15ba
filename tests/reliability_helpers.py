"""Helpers for the reliability and security tests (on top of ``tests/bridge_helpers``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envoy2mqtt.bridge.lifetime_guard import LifetimeKeys
from envoy2mqtt.settings import Settings
from envoy2mqtt.simulator.server import EnvoySimulator
from tests.bridge_helpers import Watcher, bridge_settings
from tests.plugins.simulator import StartSimulator

OWNER = "owner@example.com"
OWNER_PASSWORD = "owner-password"  # the simulator's fake account


async def enlighten_for(envoy_simulator: StartSimulator, fixture: str, sim: EnvoySimulator) -> str:
    """Serve ``sim``'s fake Enlighten over plain HTTP; return its base URL.

    The bridge verifies Enlighten's TLS certificate (as it must for the real cloud), so the
    cloud cannot be reached on the simulator's self-signed HTTPS port. A second simulator of
    the same fixture, over HTTP, answers the cloud paths with ``sim``'s own token authority.
    """
    cloud = await envoy_simulator(fixture, tls=False)
    cloud.enlighten = sim.enlighten
    return cloud.url


def enlighten_settings(
    mqtt_port: int,
    sim: EnvoySimulator,
    cloud_url: str,
    tmp_path: Path,
    intervals: dict[str, float] | None = None,
    **overrides: Any,
) -> Settings:
    """Bridge settings for one token-firmware Envoy that logs in to Enlighten (no token)."""
    envoy = {
        "host": sim.url,
        "username": OWNER,
        "password": OWNER_PASSWORD,
        "intervals": intervals or {"fast": 1, "normal": 1, "slow": 1, "firmware": 1},
    }
    return bridge_settings(
        mqtt_port,
        [sim],
        tmp_path,
        envoys=[envoy],
        enlighten={
            "login_url": f"{cloud_url}/login/login.json",
            "token_url": f"{cloud_url}/tokens",
        },
        **overrides,
    )


def messages(watcher: Watcher, topic: str, since: int = 0) -> list[bytes]:
    """Non-empty payloads published on ``topic`` since log index ``since``."""
    return [p for t, p, _ in watcher.since(since) if t == topic and p]


def lifetime_values(payload: bytes, keys: frozenset[str]) -> dict[str, float]:
    """Every lifetime counter (``keys``) in a state payload, by its path (``phases/l1/key``)."""
    found: dict[str, float] = {}

    def walk(node: Any, prefix: str) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}/")
            elif key in keys and isinstance(value, int | float):
                found[prefix + key] = float(value)

    walk(json.loads(payload), "")
    return found


def lifetime_steps_down(watcher: Watcher, prefix: str) -> list[str]:
    """Every published lifetime value under ``prefix`` (``<base>/<sn>/``) lower than before."""
    keys_of = LifetimeKeys()
    last: dict[str, float] = {}
    problems: list[str] = []
    for topic, payload, _ in watcher.log:
        if not topic.startswith(prefix) or not payload or not payload.startswith(b"{"):
            continue
        for key, value in lifetime_values(payload, keys_of(topic[len(prefix) :])).items():
            ident = f"{topic}/{key}"
            if ident in last and value < last[ident]:
                problems.append(f"{ident}: {last[ident]} -> {value}")
            last[ident] = value
    return problems


#: POSTs a read updater may send to switch live data on; not a command write.
READ_SIDE_POSTS = frozenset({"/ivp/livedata/stream"})


def command_writes(sim: EnvoySimulator) -> list[Any]:
    """The writes the Envoy received, without the read side's live-data switch-on."""
    return [w for w in sim.requests.writes() if w.path not in READ_SIDE_POSTS]
