"""``decode_token`` reads a JWT without pyjwt, exactly as pyjwt's unverified decode would.

pyjwt (kept for minting tokens in the simulator and the tests) is the reference: for every
token below both must agree on "valid or not" and, when valid, on the claims.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from envoy2mqtt.envoy.auth.jwt_info import decode_token
from envoy2mqtt.envoy.errors import EnvoyAuthenticationError

_KEY = "k" * 32


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _reference(token: str) -> dict[str, object] | None:
    try:
        claims: dict[str, object] = jwt.decode(
            token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False}
        )
    except jwt.PyJWTError:
        return None
    return claims


def _ours(token: str) -> tuple[float | None, float | None, str | None, str | None] | None:
    try:
        info = decode_token(token)
    except EnvoyAuthenticationError:
        return None
    return info.expires_at, info.issued_at, info.token_type, info.serial


def _expected(claims: dict[str, object] | None) -> tuple[object, ...] | None:
    if claims is None:
        return None
    exp, iat = claims.get("exp"), claims.get("iat")
    serial = claims.get("aud")
    return (
        float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None,
        float(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else None,
        str(claims["enphaseUser"]) if "enphaseUser" in claims else None,
        str(serial) if isinstance(serial, str) else None,
    )


HEADER = _segment(b'{"alg":"HS256","typ":"JWT"}')
PAYLOAD = _segment(b'{"exp":1800000000,"aud":"122334455667"}')
SIG = _segment(b"signature")
STRING = _segment(b'"x"')
OPEN_BRACE = _segment(b"{")
KID_INT = _segment(b'{"alg":"HS256","kid":1}')
NOT_UTF8 = _segment(b"\xff\xfe{")

CASES = {
    "minted": jwt.encode(
        {"exp": 1_800_000_000, "iat": 1_700_000_000, "enphaseUser": "owner", "aud": "12233"},
        _KEY,
        algorithm="HS256",
    ),
    "minted, no claims we read": jwt.encode({"sub": "x"}, _KEY, algorithm="HS256"),
    "unsigned segment empty": f"{HEADER}.{PAYLOAD}.",
    "two segments": f"{HEADER}.{PAYLOAD}",
    "one segment": "not-a-jwt",
    "empty": "",
    "four segments": f"{HEADER}.{PAYLOAD}.{SIG}.{SIG}",
    "payload not base64": f"{HEADER}.@@@.{SIG}",
    "payload not JSON": f"{HEADER}.{_segment(b'not json')}.{SIG}",
    "payload a JSON list": f"{HEADER}.{_segment(b'[1, 2]')}.{SIG}",
    "header a JSON string": f"{STRING}.{PAYLOAD}.{SIG}",
    "header not JSON": f"{OPEN_BRACE}.{PAYLOAD}.{SIG}",
    "kid not a string": f"{KID_INT}.{PAYLOAD}.{SIG}",
    "signature bad padding": f"{HEADER}.{PAYLOAD}.A",
    "payload not UTF-8": f"{HEADER}.{NOT_UTF8}.{SIG}",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_pyjwt(name: str) -> None:
    token = CASES[name]
    assert _ours(token) == _expected(_reference(token))


def test_the_cases_cover_both_outcomes() -> None:
    outcomes = {_reference(token) is None for token in CASES.values()}
    assert outcomes == {True, False}


@given(st.text(alphabet="ABCDEFGHIJabcdefghij0123456789-_.=@", max_size=60))
def test_agrees_with_pyjwt_on_arbitrary_text(token: str) -> None:
    assert _ours(token) == _expected(_reference(token))


@given(
    st.dictionaries(
        st.sampled_from(["exp", "iat", "aud", "enphaseUser", "x"]),
        st.one_of(st.integers(0, 2**40), st.text(max_size=8), st.none(), st.booleans()),
    )
)
def test_agrees_with_pyjwt_on_arbitrary_claims(claims: dict[str, object]) -> None:
    token = f"{HEADER}.{_segment(json.dumps(claims).encode())}.{SIG}"
    ours, reference = _ours(token), _reference(token)
    assert (ours is None) == (reference is None)
    if ours is not None:
        assert ours[:3] == _expected(reference)[:3]  # type: ignore[index]


def test_reading_a_token_loads_neither_pyjwt_nor_cryptography() -> None:
    code = (
        "import sys\n"
        "from envoy2mqtt.envoy.auth.token import TokenAuth\n"
        "from envoy2mqtt.envoy.auth.jwt_info import decode_token\n"
        f"decode_token({CASES['minted']!r})\n"
        "print(sorted(m for m in ('jwt', 'cryptography') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
