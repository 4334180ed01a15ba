"""Every log line of bridge/ and mqtt/ names the exception it reports, never ``error=``.

``TimeoutError()`` (what ``asyncio.timeout`` raises) has an empty ``str()``: a caught
exception handed to a logging call as it is printed nothing (``retained scan incomplete
error= seen=0``). Such arguments go through ``logs.error_text`` (or ``poll_rules.describe``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from envoy2mqtt.logs import error_text

PACKAGE = Path(__file__).resolve().parents[2] / "envoy2mqtt"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _bare_exceptions(source: str) -> list[int]:
    """Lines where a caught exception is passed to a logging call as it is."""
    found = []
    for handler in ast.walk(ast.parse(source)):
        if not isinstance(handler, ast.ExceptHandler) or handler.name is None:
            continue
        found += [
            call.lineno
            for call in ast.walk(handler)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in LEVELS
            and any(isinstance(a, ast.Name) and a.id == handler.name for a in call.args)
        ]
    return found


def test_the_checker_sees_a_bare_exception() -> None:
    source = (
        "try:\n    pass\nexcept OSError as exc:\n"
        "    log.warning('x error=%s', exc)\n    log.warning('y error=%s', error_text(exc))\n"
    )
    assert _bare_exceptions(source) == [4]


def test_no_log_line_of_bridge_or_mqtt_prints_a_caught_exception_as_it_is() -> None:
    modules = sorted([*PACKAGE.glob("bridge/*.py"), *PACKAGE.glob("mqtt/*.py")])
    assert len(modules) > 20
    offences = {
        p.relative_to(PACKAGE).as_posix(): lines
        for p in modules
        if (lines := _bare_exceptions(p.read_text(encoding="utf-8")))
    }
    assert not offences, offences


def test_an_exception_without_text_is_named_by_its_type() -> None:
    assert error_text(TimeoutError()) == "TimeoutError"
    assert error_text(OSError("connection refused")) == "connection refused"
