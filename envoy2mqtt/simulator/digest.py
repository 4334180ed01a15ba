"""Server side of HTTP Digest auth (MD5/SHA-256, qop ``auth``) as legacy Envoys do it."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import deque
from collections.abc import Mapping

from envoy2mqtt.simulator.passwords import REALM

_PAIR = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"MD5": "md5", "SHA-256": "sha256"}
_MAX_NONCES = 256


def parse_digest(header: str) -> dict[str, str] | None:
    """Return the parameters of a ``Digest`` Authorization header, or None if it is not one."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {m[1].lower(): m[2] if m[2] is not None else m[3] for m in _PAIR.finditer(rest)}


class DigestVerifier:
    """Issues challenges and checks Digest responses against a fixed set of users."""

    def __init__(self, users: Mapping[str, str], realm: str = REALM) -> None:
        """Accept ``users`` (name -> password) in ``realm``."""
        self.realm = realm
        self._users = dict(users)
        self._nonces: deque[str] = deque(maxlen=_MAX_NONCES)

    def challenge(self) -> str:
        """Return a ``WWW-Authenticate`` value with a fresh nonce."""
        nonce = secrets.token_hex(16)
        self._nonces.append(nonce)
        return f'Digest qop="auth", realm="{self.realm}", nonce="{nonce}"'

    def set_password(self, user: str, password: str) -> None:
        """Let ``user`` log in with ``password`` from now on (as a password change does)."""
        self._users[user] = password

    def forget_nonces(self) -> None:
        """Invalidate every outstanding nonce (as a reboot does)."""
        self._nonces.clear()

    def verify(self, method: str, uri: str, header: str | None) -> str | None:
        """Return the authenticated user name, or None if the header does not authenticate."""
        params = parse_digest(header or "")
        if params is None:
            return None
        user = params.get("username", "")
        password = self._users.get(user)
        algorithm = params.get("algorithm", "MD5").upper()
        if (
            password is None
            or algorithm not in _HASHES
            or params.get("realm") != self.realm
            or params.get("nonce") not in self._nonces
            or params.get("uri") != uri
        ):
            return None
        expected = self._expected(params, method, password, _HASHES[algorithm])
        return user if hmac.compare_digest(expected, params.get("response", "")) else None

    def _expected(self, params: dict[str, str], method: str, password: str, algo: str) -> str:
        def digest(*parts: str) -> str:
            return hashlib.new(algo, ":".join(parts).encode(), usedforsecurity=False).hexdigest()

        ha1 = digest(params["username"], self.realm, password)
        ha2 = digest(method.upper(), params["uri"])
        if "qop" in params:
            return digest(
                ha1, params["nonce"], params.get("nc", ""), params.get("cnonce", ""),
                params["qop"], ha2,
            )  # fmt: skip
        return digest(ha1, params["nonce"], ha2)
