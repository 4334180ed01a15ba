"""Which ``ENVOY2MQTT_*`` variable a configuration problem comes from, and why its JSON is bad.

pydantic-settings decodes the value of every variable that targets a section or a list
(``ENVOY2MQTT_ENVOYS='[...]'``, ``ENVOY2MQTT_MQTT__TLS='{...}'``) as JSON and, when that
fails, only says ``error parsing value for field "envoys" from source "EnvSettingsSource"``.
These helpers name the variable and the JSON problem instead; values are never echoed (they
may hold passwords).
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping, Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["env_json_problems", "env_variable_for"]

_DELIMITER = "__"
_CONTAINERS = (list, dict, tuple, set, frozenset)


def env_json_problems(environ: Mapping[str, str], prefix: str, model: type[BaseModel]) -> list[str]:
    """``NAME: not valid JSON (reason at line L column C)`` for each undecodable variable."""
    problems = []
    for name, value in sorted(environ.items()):
        path = _path(name, prefix)
        if path is None or not _expects_json(model, path):
            continue
        try:
            json.loads(value)
        except json.JSONDecodeError as exc:
            problems.append(
                f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            )
    return problems


def env_variable_for(
    environ: Mapping[str, str], prefix: str, loc: Sequence[int | str]
) -> str | None:
    """The variable that set the value at ``loc`` (environment beats the file), if any."""
    wanted = [str(part).lower() for part in loc]
    covering = [
        (len(path), name)
        for name in environ
        if (path := _path(name, prefix)) is not None and wanted[: len(path)] == path
    ]
    return max(covering)[1] if covering else None


def _path(name: str, prefix: str) -> list[str] | None:
    if not name.upper().startswith(prefix.upper()) or len(name) == len(prefix):
        return None
    return name[len(prefix) :].lower().split(_DELIMITER)


def _expects_json(model: type[BaseModel], path: list[str]) -> bool:
    annotation: Any = model
    for part in path:
        section = _model_in(annotation)
        if section is None:
            return False
        field = section.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
    return _is_complex(annotation)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *_union_members(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _union_members(annotation: Any) -> tuple[Any, ...]:
    origin = get_origin(annotation)
    return get_args(annotation) if origin in (Union, types.UnionType) else ()


def _is_complex(annotation: Any) -> bool:
    members = _union_members(annotation) or (annotation,)
    return any(
        _model_in(member) is not None or (get_origin(member) or member) in _CONTAINERS
        for member in members
    )
