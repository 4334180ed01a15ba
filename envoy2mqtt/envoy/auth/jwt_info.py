"""Read the claims of an Enphase JWT (no signature check: only the Envoy can verify it)."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

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
    try:
        claims = jwt.decode(
            token,
            options={"verify_signature": False, "verify_exp": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        msg = f"the {source} is not a valid JWT"
        raise EnvoyAuthenticationError(msg) from None
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
