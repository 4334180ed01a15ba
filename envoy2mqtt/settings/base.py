"""What every configuration section shares: strict immutable models, topic and file checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

__all__ = ["ENV_PREFIX", "Section", "num", "readable_file", "topic_path"]

ENV_PREFIX = "ENVOY2MQTT_"
_TOPIC_FORBIDDEN = re.compile(r"[+#\s\x00]")


class Section(BaseModel):
    """Base of every section: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


def topic_path(value: str) -> str:
    """Validate a configured topic prefix: non-empty levels, no wildcards or spaces."""
    if not value or _TOPIC_FORBIDDEN.search(value) or "" in value.split("/"):
        raise PydanticCustomError(
            "topic",
            "must be a topic without + # spaces or empty levels (got '{got}')",
            {"got": value},
        )
    return value


def readable_file(value: Path | None, info: ValidationInfo) -> Path | None:
    """Check a configured file can be read (skipped while its section is disabled)."""
    if value is None or not info.data.get("enabled", True):
        return value
    path = value.expanduser()
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PydanticCustomError(
            "unreadable_file",
            "cannot read file {path} ({reason})",
            {"path": str(path), "reason": reason},
        ) from None
    if not path.is_file():
        raise PydanticCustomError("not_a_file", "not a regular file: {path}", {"path": str(path)})
    return path


def num(value: Any) -> Any:
    """Show 1.0 as 1 in messages: the user wrote an integer."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
