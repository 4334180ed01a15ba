"""The retained ``bridge/info`` payload: settings in force (no secrets) and each Envoy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from envoy2mqtt import __version__
from envoy2mqtt.bridge.worker import EnvoyWorker
from envoy2mqtt.settings import Settings

__all__ = ["Owners", "envoy_info", "info_payload"]


class Owners(Protocol):
    """Who serves which Envoy (named instances: ``FleetMember``)."""

    def owns(self, worker: EnvoyWorker) -> bool:
        """Whether this instance serves ``worker``'s Envoy now."""

    def owner_of(self, worker: EnvoyWorker) -> str | None:
        """The live instance serving ``worker``'s Envoy, if known."""


def info_payload(
    settings: Settings, workers: Sequence[EnvoyWorker], fleet: Owners | None
) -> dict[str, object]:
    """The ``bridge/info`` JSON; a named instance adds ``instance``, ``shard`` and owners."""
    s = settings
    payload: dict[str, object] = {"version": __version__}
    if s.instance is not None:
        payload |= {"instance": s.instance, "shard": s.shard}
    envoys = []
    for worker in workers:
        info = envoy_info(worker)
        if fleet is not None:
            info["owner"] = fleet.owner_of(worker)
            info["online"] = info["online"] and fleet.owns(worker)
        envoys.append(info)
    return payload | {
        "mqtt": {
            "host": s.mqtt.host,
            "port": s.mqtt.port,
            "protocol": s.mqtt.protocol,
            "client_id": s.mqtt.client_id,
            "base_topic": s.mqtt.base_topic,
            "tls": s.mqtt.tls.enabled,
            "authenticated": s.mqtt.username is not None,
        },
        "homeassistant": s.homeassistant.model_dump(mode="json"),
        "controls": s.controls.model_dump(mode="json"),
        "envoys": envoys,
    }


def envoy_info(worker: EnvoyWorker) -> dict[str, object]:
    """One Envoy's entry: host, serial, firmware, model, features, online, stale, error."""
    info = worker.info
    out: dict[str, object] = {"host": worker.host, "serial": worker.serial}
    if info is not None:
        out |= {"firmware": info.firmware, "part_number": info.part_number}
    if worker.snapshot is not None:
        probe = worker.snapshot.probe
        out |= {"model": probe.envoy_model, "features": probe.features.names()}
    out["online"] = worker.availability.online
    if worker.stale:
        out["stale"] = sorted(worker.stale)
    if worker.stats.current_error is not None:  # cleared once the Envoy answers again
        out["last_error"] = worker.stats.current_error
    return out
