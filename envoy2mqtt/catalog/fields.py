"""Typed row accessors: a payload key named by the Struct attribute it comes from.

``key_of(StorageSettings.reserved_soc)`` is the string ``"reserved_soc"`` that also knows
its Struct. Spelling the attribute wrong fails twice before anything runs: mypy reports
the missing attribute and the import raises ``AttributeError``. The row check
(:func:`~envoy2mqtt.catalog.state_topics.check_row_key`) then also rejects a field of a
Struct that is not one of the row's state topic's payload Structs.
"""

from __future__ import annotations

import types

import msgspec

__all__ = ["FieldKey", "key_of"]


class FieldKey(str):
    """A payload key that is the field ``owner.<key>`` of a payload Struct."""

    __slots__ = ("owner",)
    owner: type[msgspec.Struct]

    def __new__(cls, name: str, owner: type[msgspec.Struct]) -> FieldKey:
        key = super().__new__(cls, name)
        key.owner = owner
        return key


def key_of(attribute: object) -> FieldKey:
    """The payload key of a Struct field given as the attribute itself (``Cls.field``).

    Raises ``TypeError`` for anything that is not a field of a msgspec Struct (a method,
    a property, a value).
    """
    if isinstance(attribute, types.MemberDescriptorType):
        owner = attribute.__objclass__
        name = attribute.__name__
        if issubclass(owner, msgspec.Struct) and name in owner.__struct_fields__:
            return FieldKey(name, owner)
    raise TypeError(f"{attribute!r} is not a field of a msgspec Struct")
