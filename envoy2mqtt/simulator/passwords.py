"""Passwords a legacy (firmware < 7) Envoy accepts for HTTP Digest auth.

The simulator keeps its own copy of the installer-password derivation so that it stays
independent of the client code it is meant to test (docs/internals.md: the simulator
imports nothing from the other packages).
"""

from __future__ import annotations

import hashlib

REALM = "enphaseenergy.com"


def owner_password(serial: str) -> str:
    """Return the ``envoy`` user's password: the last six characters of the serial."""
    return serial[-6:]


def installer_password(serial: str, user: str = "installer", realm: str = REALM) -> str:
    """Return the password the Envoy derives for ``user`` from its serial number.

    >>> installer_password("122112123456")
    'd525d2jh'
    """
    seed = f"[e]{user}@{realm}#{serial} EnPhAsE eNeRgY "
    digest = hashlib.md5(seed.encode("ascii"), usedforsecurity=False).hexdigest()
    zeros, ones = digest.count("0"), digest.count("1")
    out: list[str] = []
    for char in reversed(digest[-8:]):
        if zeros in (3, 6, 9):
            zeros -= 1
        zeros = min(max(zeros, 0), 20)
        if ones in (9, 15):
            ones -= 1
        ones = min(max(ones, 0), 26)
        if char == "0":
            out.append(chr(ord("f") + zeros))
            zeros -= 1
        elif char == "1":
            out.append(chr(ord("@") + ones))
            ones -= 1
        else:
            out.append(char)
    return "".join(out)


def legacy_users(serial: str) -> dict[str, str]:
    """Return the Digest users of a legacy Envoy with their passwords."""
    return {"envoy": owner_password(serial), "installer": installer_password(serial)}
