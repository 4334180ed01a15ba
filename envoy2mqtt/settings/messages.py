"""Validation problems as ``<field path>: <reason>`` lines that never echo a secret."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from envoy2mqtt.settings.base import ENV_PREFIX, num
from envoy2mqtt.settings.env import env_variable_for

__all__ = ["ConfigError", "format_validation_error"]

# Keys whose values must never be echoed back in an error message.
_SECRET_KEYS = frozenset({"password", "token"})


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds one ``<path>: <reason>`` per issue."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.problems))


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _format_problem(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    secret = any(part in _SECRET_KEYS for part in loc)
    ctx = error.get("ctx") or {}
    got = error.get("input")
    if kind == "missing":
        reason = "required"
    elif kind == "extra_forbidden":
        reason = "unknown key"
    elif kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        op = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }
        bound = num(next(iter(ctx.values())))
        reason = f"must be {op[kind]} {bound} (got {num(got)!r})"
    elif kind.startswith(("string_too_short", "too_short")) and not got:
        reason = "must not be empty"
    else:
        reason = str(error["msg"])
        reason = reason[0].lower() + reason[1:] if reason else reason
        if kind not in _CUSTOM_KINDS and not secret and not isinstance(got, dict | list):
            reason += f" (got {got!r})"
    variable = env_variable_for(os.environ, ENV_PREFIX, loc)
    return f"{_format_loc(loc)}: {reason}" + (f" (from {variable})" if variable else "")


_CUSTOM_KINDS = frozenset(
    {
        "topic",
        "unreadable_file",
        "not_a_file",
        "key_without_cert",
        "order",
        "interval_order",
        "grace",
        "host",
        "serial",
        "duplicate",
        "url",
        "not_a_ca_file",
        "instance",
        "shard",
    }
)


def format_validation_error(exc: ValidationError) -> list[str]:
    """Render a pydantic error as ``<field path>: <reason>`` lines, never echoing secrets."""
    return [_format_problem(error) for error in exc.errors(include_url=False)]
