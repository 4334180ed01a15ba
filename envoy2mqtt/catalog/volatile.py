"""Transitional alias: volatile keys are declared on the state topics (``state_topics.py``)."""

from envoy2mqtt.catalog.state_topics import volatile_keys

__all__ = ["volatile_keys"]
