"""Passwords a legacy (firmware < 7) Envoy accepts for HTTP Digest auth.

The installer-password derivation is the client's own (``envoy2mqtt.envoy.auth.legacy``):
one implementation, pinned by the documented test vector in the tests. The simulator may
import from ``envoy.auth``; the client never imports the simulator.
"""

from __future__ import annotations

from envoy2mqtt.envoy.auth.legacy import installer_password

__all__ = ["REALM", "installer_password", "legacy_users", "owner_password"]

REALM = "enphaseenergy.com"


def owner_password(serial: str) -> str:
    """Return the ``envoy`` user's password: the last six characters of the serial."""
    return serial[-6:]


def legacy_users(serial: str) -> dict[str, str]:
    """Return the Digest users of a legacy Envoy with their passwords."""
    return {"envoy": owner_password(serial), "installer": installer_password(serial)}
