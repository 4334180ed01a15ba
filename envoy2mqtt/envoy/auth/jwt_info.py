"""Read the claims of an Enphase JWT (no signature check: only the Envoy can verify it).

Decoded here with base64 + json, the way pyjwt's unverified decode reads a compact JWS
(the same segments, padding and "JSON object" rules): importing pyjwt loads
``cryptography`` (≈ 8 MiB resident) for signatures the bridge never checks.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from envoy2mqtt.envoy.errors import EnvoyAuthenticationError


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the token says about itself.

    Attributes:
        expires_at: ``exp`` as epoch seconds, None when absent.
        issued_at: ``iat`` as epoch seconds, None when absent.
        token_type: ``enphaseUser`` (``owner`` or ``installer``), None when absent.
        serial: the gateway serial the token was issued for (``aud``), None when unknown.
    """

    expires_at: float | None
    issued_at: float | None
    token_type: str | None
    serial: str | None


def decode_token(token: str, source: str = "token") -> TokenInfo:
    """Decode ``token``'s claims.

    Raises:
        EnvoyAuthenticationError: not a JWT (the message names ``source``, never the token).
    """
    claims = _unverified_claims(token)
    if claims is None:
        msg = f"the {source} is not a valid JWT"
        raise EnvoyAuthenticationError(msg)
    return TokenInfo(
        expires_at=_number(claims.get("exp")),
        issued_at=_number(claims.get("iat")),
        token_type=str(claims["enphaseUser"]) if "enphaseUser" in claims else None,
        serial=_serial(claims),
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _serial(claims: dict[str, object]) -> str | None:
    for key in ("aud", "serial_num", "serial"):
        value = claims.get(key)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return None


def _unverified_claims(token: str) -> dict[str, object] | None:
    """The payload of a compact JWS ``header.payload.signature``; None when malformed."""
    try:
        signing_input, signature = token.encode().rsplit(b".", 1)
        header_segment, payload_segment = signing_input.split(b".", 1)
        header = json.loads(_base64url(header_segment))
        claims = json.loads(_base64url(payload_segment))
        _base64url(signature)
    except (ValueError, UnicodeError, binascii.Error):  # json's errors are ValueErrors
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    if "kid" in header and not isinstance(header["kid"], str):
        return None
    return claims


def _base64url(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
