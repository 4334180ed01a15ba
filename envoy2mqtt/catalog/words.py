"""Command words: the MQTT words a control takes, mapped onto the Envoy's own words.

A control's word set maps each command word (HA's option name) to the Envoy word it
writes; the Envoy reports the same words back, and its state shows both.
"""

from __future__ import annotations

from collections.abc import Mapping


def check_words(mapping: Mapping[str, str], envoy_words: tuple[str, ...]) -> None:
    """Raise ``TypeError`` unless ``mapping`` covers exactly ``envoy_words`` (import-time check)."""
    if sorted(mapping.values()) != sorted(envoy_words):
        raise TypeError(f"command words {dict(mapping)} do not cover {envoy_words}")


def command_word(mapping: Mapping[str, str], envoy_word: object) -> str | None:
    """The command word for an Envoy word (``self-consumption`` -> ``self_consumption``)."""
    return next((word for word, envoy in mapping.items() if envoy == envoy_word), None)
