"""Redaction by structure: typed secrets mask themselves; the safety net masks only secrets.

Common-word passwords (``envoy``, ``mqtt``, ``admin``, ``bridge``) must leave logs
readable: the registry matches whole tokens only and never looks into format strings.
"""

from __future__ import annotations

import logging
import re
import tracemalloc
from typing import Any

import pytest

from envoy2mqtt import redact
from envoy2mqtt.envoy.auth.token import TokenAuth
from envoy2mqtt.secret import Secret
from envoy2mqtt.simulator.tokens import TokenAuthority

COMMON = ("envoy", "mqtt", "admin", "bridge")

OWNER = "owner@example.com"  # the simulator's fake account


@pytest.fixture
def common_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    # The registry is process-wide: give this test its own, restored afterwards.
    monkeypatch.setattr(redact, "_secrets", set())
    monkeypatch.setattr(redact, "_ordered", ())
    for word in COMMON:
        redact.register_secret(word)


@pytest.mark.parametrize(
    "text",
    [
        "envoy2mqtt",
        "client_id=envoy2mqtt",
        "envoys=1",
        "publish topic=envoy2mqtt/bridge/state bytes=6",
        "host=envoy.local user=my-admin path=/ivp/mqtt-bridge",
        "envoy-demo administrator bridges mqtt5",
    ],
)
def test_common_word_passwords_leave_text_readable(common_passwords: None, text: str) -> None:
    assert redact.redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the password was envoy.", "the password was ***."),
        ("login admin:mqtt failed", "login ***:*** failed"),
        ('{"pw": "bridge"}', '{"pw": "***"}'),
        ("tried (admin)", "tried (***)"),
    ],
)
def test_registered_secrets_are_masked_as_whole_tokens(
    common_passwords: None, text: str, expected: str
) -> None:
    assert redact.redact(text) == expected


def test_format_strings_are_code_and_stay_readable(
    common_passwords: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    log = logging.getLogger("envoy2mqtt.test")
    log.info("bridge starting envoys=%d", 1)
    log.info("mqtt publish topic=%s bytes=%d", "envoy2mqtt/bridge/state", 6)
    log.info("mqtt connected client_id=%s", "envoy2mqtt")
    log.info("login user=%s with %s", "me", "admin")  # the value is an argument: masked
    log.info("preformatted by a library: password is envoy")  # no arguments: masked
    assert caplog.messages == [
        "bridge starting envoys=1",
        "mqtt publish topic=envoy2mqtt/bridge/state bytes=6",
        "mqtt connected client_id=envoy2mqtt",
        "login user=me with ***",
        "preformatted by a library: password is ***",
    ]
    assert "***2mqtt" not in caplog.text
    assert "***s=" not in caplog.text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connect mqtt://bridge:Sup3r-s3cret@10.0.0.2:1883", "Sup3r-s3cret"),
        ("GET https://h/x?serial=1&token=abc.def-123&page=2", "abc.def-123"),
        ("GET /login?user=a&access_token=zzz999", "zzz999"),
        ("POST /x api_key=k-123 client_secret: cs-456", "k-123"),
        ("POST /x api_key=k-123 client_secret: cs-456", "cs-456"),
        ('{"password": "hunter22"}', "hunter22"),
        ("user[password]=pl41n&x=1", "pl41n"),
        ("Authorization: Digest username=a, response=0a1b2c3d4e", "0a1b2c3d4e"),
        ("Cookie: sessionId=abcdef0123456789; other=1", "abcdef0123456789"),
        ("X-Auth-Token: 7f7f7f7f", "7f7f7f7f"),
    ],
)
def test_secret_shaped_fragments_are_masked_unregistered(text: str, secret: str) -> None:
    cleaned = redact.redact(text)
    assert secret not in cleaned
    assert redact.MASK in cleaned


def test_structure_spares_look_alike_words() -> None:
    text = "auth=token token_type=owner tokens=3 token_expires_at=1700000000 secret_values=2"
    assert redact.redact(text) == text


def test_an_unregistered_jwt_is_masked() -> None:
    token = TokenAuthority("122112123456").issue(OWNER)
    assert redact.redact(f"got {token} back") == "got *** back"


def test_a_secret_masks_itself_in_every_text() -> None:
    secret = Secret("Tr0ub4dor-3")
    texts = [
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>10}",
        "%s" % secret,  # noqa: UP031 - the %-format path is what is tested
        str([secret]),
        str(ValueError(f"login failed with {secret}")),
    ]
    assert all("Tr0ub4dor-3" not in t for t in texts)
    assert secret.reveal() == "Tr0ub4dor-3"
    assert secret == Secret("Tr0ub4dor-3")
    assert Secret.of("") is None
    assert Secret.of(secret) is secret
    with pytest.raises(AttributeError):
        secret._value = "x"  # type: ignore[misc]
    assert redact.redact("leaked Tr0ub4dor-3 here") == "leaked *** here"  # registered


def test_token_auth_keeps_its_secrets_typed() -> None:
    token = TokenAuthority("122112123456").issue(OWNER)
    auth = TokenAuth("122112123456", token=token, username="me@example.com", password="pw-1234")
    state = repr(vars(auth)) if hasattr(auth, "__dict__") else ""
    assert token not in state
    assert "pw-1234" not in state


def test_registering_many_secrets_keeps_one_pattern_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A bridge registers one token per Envoy and logs in between: nothing compiled for
    # the registry may pile up (re's own cache once kept every superseded copy of one
    # pattern over all secrets: 334 MiB RSS for 200 Envoys).
    monkeypatch.setattr(redact, "_secrets", set())
    monkeypatch.setattr(redact, "_ordered", ())
    secrets = [f"{i:04d}" + "k" * 300 for i in range(80)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for secret in secrets:
            redact.register_secret(secret)
            assert redact.redact(f"token {secret}") == "token ***"
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # one str + one bytes pattern over 80 x 304 characters: well under 1 MiB; every
    # superseded copy kept would be ≈ 17 MiB
    assert grown < 1024 * 1024, f"{grown / 1024:.0f} KiB still allocated"


def test_each_registration_compiles_only_its_own_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bridge registers one token per Envoy and logs in between. One pattern over all the
    # secrets, rebuilt after every registration, made the compiling quadratic: ≈ 20 s of
    # blocked event loop while 200 Envoys started, and the MQTT session, reading its
    # acknowledgements too late, gave up the connection ("publish not acknowledged").
    monkeypatch.setattr(redact, "_secrets", set())
    monkeypatch.setattr(redact, "_ordered", ())
    compiled: list[int] = []
    real_compile = re.compile

    def counting(pattern: Any, flags: int = 0) -> Any:
        compiled.append(len(pattern))
        return real_compile(pattern, flags)

    monkeypatch.setattr(re, "compile", counting)
    secrets = [f"{i:04d}" + "k" * 300 for i in range(200)]
    for secret in secrets:
        redact.register_secret(secret)
        assert redact.redact(f"token {secret}") == "token ***"
    assert redact.redact(f"a {secrets[0]} b {secrets[-1]}") == "a *** b ***"
    # at most one pattern per secret, its 304 characters plus the boundary rules (one
    # pattern over all of them, str and bytes, rebuilt each time: ≈ 12 million characters)
    assert sum(compiled) < len(secrets) * (304 + 100), sum(compiled)
