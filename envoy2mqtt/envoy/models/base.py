"""The base every data-model Struct derives from."""

from __future__ import annotations

import msgspec


class Model(msgspec.Struct, kw_only=True):
    """Base for normalised models: keyword-only, comparable, JSON-encodable.

    Leaf models (scalars and lists/dicts of JSON values only, so they can never be part of
    a reference cycle) are ``gc=False``: hundreds are built per update and the cycle
    collector need not track them. Models with 16 or more fields also accept positional
    arguments (``kw_only=False``): CPython compiles calls with that many keyword arguments
    into a slow dict-building call, about five times the cost of a positional one.
    """
