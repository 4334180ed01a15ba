"""Decode Envoy bodies straight into data-model Structs although the Envoy spells keys its way.

msgspec names are two-way: a Struct encodes with the names it decodes. The data model must
encode with pyenphase's names (``msgspec.to_builtins(data)`` is the golden and the MQTT state
payloads), while the Envoy sends ``serial_num``, ``bmu_fw_version``, ``serialNumber``…

:func:`wire_form` therefore derives, from a model class, a decode-only twin: the same
attributes in the same order with the same types, only the *key names* (and, where the
Envoy leaves a key out, the defaults) differ. Its instances have exactly the model's slot
layout, so :func:`adopt` turns a decoded twin into a model instance in place, by switching
its class (CPython allows this between layout-compatible classes and checks it). No field is
copied: msgspec's decoder writes each value once, into the object the data model keeps.
:func:`wire_form` refuses twins whose layout could differ, so a model change that breaks
this fails at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

M = TypeVar("M", bound=msgspec.Struct)

_NODEFAULT: Any = msgspec.NODEFAULT


def wire_form(
    model: type[M],
    *,
    names: Mapping[str, str] | None = None,
    rename: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    types: Mapping[str, Any] | None = None,
) -> type[M]:
    """Return the decode-only twin of ``model``.

    Typed as ``type[M]`` because its instances have exactly ``M``'s attributes; they become
    ``M`` instances only through :func:`adopt`, which the updater calls before handing out.

    Args:
        model: the data-model Struct the twin decodes into.
        names: Envoy key per attribute (attributes not listed keep their name or ``rename``).
        rename: msgspec rename rule for the other attributes (``"camel"``).
        defaults: defaults for keys the Envoy may leave out (replacing the model's).
        types: the Envoy's type of an attribute the updater normalises in place before
            :func:`adopt` (a float to round, a ``"true"``/``"false"`` string).

    Raises:
        TypeError: a name or default refers to no field of ``model``.
    """
    fields = msgspec.structs.fields(model)
    known = {field.name for field in fields}
    unknown = (set(names or ()) | set(defaults or ()) | set(types or ())) - known
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    given, wire_types = defaults or {}, types or {}
    spec: list[tuple[str, Any, Any]] = []
    for field in fields:
        default = given.get(field.name, field.default)
        if default is _NODEFAULT and field.default_factory is not _NODEFAULT:
            default = msgspec.field(default_factory=field.default_factory)
        spec.append((field.name, wire_types.get(field.name, field.type), default))
    options = model.__struct_config__
    base = model.__mro__[1]
    if getattr(base, "__struct_fields__", ()):
        raise TypeError(f"{model.__name__}: its base class must not declare fields")
    twin = msgspec.defstruct(
        f"{model.__name__}Wire",
        spec,
        bases=(base,),
        kw_only=True,
        rename=_renamer(names or {}, rename),
        gc=options.gc,
        dict=options.dict,
        weakref=options.weakref,
        module=model.__module__,
    )
    if getattr(twin, "__slots__", None) != getattr(
        model, "__slots__", ()
    ):  # what CPython compares before a class switch
        raise TypeError(f"{model.__name__}: twin layout differs")
    result: type[M] = twin  # type: ignore[assignment]  # same attributes, see above
    return result


def _renamer(names: Mapping[str, str], rule: str | None) -> Any:
    if not names:
        return rule
    camel = rule == "camel"

    def rename(attribute: str) -> str | None:
        if attribute in names:
            return names[attribute]
        if camel:
            head, *rest = attribute.split("_")
            return head + "".join(part.title() for part in rest)
        return None

    return rename


def adopt(decoded: Any, model: type[M]) -> M:
    """Make the decoded twin ``decoded`` an instance of ``model`` (in place) and return it."""
    decoded.__class__ = model
    result: M = decoded
    return result
