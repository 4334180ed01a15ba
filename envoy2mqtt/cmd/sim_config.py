"""The bridge configuration ``envoy2mqtt simulate`` prints: ``run --config`` takes it as is.

The fake Enlighten is served by the simulator itself, with the simulator's self-signed
certificate; the configuration therefore trusts exactly that certificate through
``enlighten.ca_file`` (written next to the configuration) instead of turning verification off.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from envoy2mqtt.simulator.server import EnvoySimulator
from envoy2mqtt.simulator.tokens import DEFAULT_ACCOUNTS

__all__ = ["RunConfig", "parse_broker", "write_run_config"]

_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


@dataclass(frozen=True)
class RunConfig:
    """Where the files went and what the configuration says."""

    config_file: Path
    ca_file: Path | None
    text: str


def parse_broker(value: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (port 1883 by default) for ``--mqtt``.

    Raises:
        ValueError: empty host or a port outside 1..65535.
    """
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = value, "1883"
    if not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        msg = f"--mqtt must be HOST or HOST:PORT with a port 1..65535 (got {value!r})"
        raise ValueError(msg)
    return host, int(port_text)


def write_run_config(sim: EnvoySimulator, broker: tuple[str, int], directory: Path) -> RunConfig:
    """Write ``config.yaml`` (and the CA file over HTTPS) into ``directory``; mode 0600."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_file: Path | None = None
    if sim.tls and sim.state.uses_tokens:  # only the fake Enlighten's certificate is verified
        ca_file = directory / "enlighten-ca.pem"
        ca_file.write_bytes(sim.certificate.cert_pem)
    document = _document(sim, broker, directory, ca_file)
    text = yaml.safe_dump(document, sort_keys=False)
    config_file = directory / "config.yaml"
    config_file.touch(mode=0o600)
    config_file.write_text(text, encoding="utf-8")
    return RunConfig(config_file=config_file, ca_file=ca_file, text=text)


def _document(
    sim: EnvoySimulator, broker: tuple[str, int], directory: Path, ca_file: Path | None
) -> dict[str, Any]:
    # A wildcard listen address is not an address to connect to (nor in the certificate).
    host = "127.0.0.1" if sim.host in _WILDCARD_HOSTS else sim.host
    base = f"{'https' if sim.tls else 'http'}://{host}:{sim.port}"
    envoy: dict[str, Any] = {"host": base, "serial": sim.serial}
    document: dict[str, Any] = {"mqtt": {"host": broker[0], "port": broker[1]}, "envoys": [envoy]}
    if sim.state.uses_tokens:
        owner = DEFAULT_ACCOUNTS[0]
        envoy |= {"username": owner.email, "password": owner.password}
        enlighten: dict[str, Any] = {
            "login_url": f"{base}/login/login.json",
            "token_url": f"{base}/tokens",
        }
        if ca_file is not None:
            enlighten["ca_file"] = str(ca_file)
        document["enlighten"] = enlighten
        # Tokens of this simulator are worthless elsewhere: keep them out of ~/.cache.
        document["token_cache_dir"] = str(directory / "tokens")
    return document
