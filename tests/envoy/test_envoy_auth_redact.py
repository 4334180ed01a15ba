"""Secret scrubbing for logs and texts (envoy2mqtt.redact)."""

from __future__ import annotations

import logging

from envoy2mqtt import redact
from envoy2mqtt.simulator.tokens import TokenAuthority

OWNER = "owner@example.com"  # the simulator's fake account


def test_registered_secret_is_masked_everywhere() -> None:
    redact.register_secret("hunter2-password")
    text = "login user=a password hunter2-password failed; again: hunter2-password"
    assert "hunter2-password" not in redact.redact(text)
    assert redact.redact(text).count(redact.MASK) == 2


def test_short_values_are_not_registered() -> None:
    redact.register_secret("ab")
    assert redact.redact("abc ab") == "abc ab"


def test_patterns_catch_unregistered_secrets() -> None:
    token = TokenAuthority("1").issue(OWNER)
    samples = {
        f"Authorization: Bearer {token}": token,
        f"headers={{'Authorization': 'Bearer {token}'}}": token,
        "Cookie: sessionId=abcdef0123456789": "abcdef0123456789",
        "Set-Cookie: sessionId=abcdef0123456789; Path=/": "abcdef0123456789",
        f"got {token} back": token,
        'body {"session_id": "s3cr3t-session"}': "s3cr3t-session",
        "user[password]=pl41n&x=1": "pl41n",
    }
    for text, secret in samples.items():
        assert secret not in redact.redact(text), text


def test_ordinary_text_is_untouched() -> None:
    text = "http method=GET path=/ivp/meters status=200 ms=12.3 serial=122112123456 auth=token"
    assert redact.redact(text) == text


def test_redact_headers_and_bytes() -> None:
    redact.register_secret("body-secret-value")
    headers = redact.redact_headers(
        [("Content-Type", "application/json"), ("Set-Cookie", "sessionId=x"), ("X", "a")]
    )
    assert headers == {"Content-Type": "application/json", "Set-Cookie": "***", "X": "a"}
    assert redact.redact_bytes(b'{"t": "body-secret-value"}') == b'{"t": "***"}'


def test_log_records_are_scrubbed_for_any_logger(caplog) -> None:
    redact.register_secret("log-secret-123")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library").debug("value=%s", "log-secret-123")
    try:
        raise ValueError("boom log-secret-123")
    except ValueError:
        logging.getLogger("x").exception("failed")
    assert "log-secret-123" not in caplog.text
    assert "value=***" in caplog.text


def test_filter_scrubs_records_created_elsewhere() -> None:
    redact.register_secret("filter-secret-xyz")
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "a %s", ("filter-secret-xyz",), None)
    record.msg, record.args = "a %s", ("filter-secret-xyz",)  # as if created before install
    assert redact.RedactingFilter().filter(record)
    assert record.getMessage() == "a ***"
