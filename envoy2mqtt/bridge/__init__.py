"""The bridge: one worker per Envoy, publishing, commands, guards, fleet ownership, health.

Modules are named by job; :mod:`envoy2mqtt.bridge.app` holds :class:`Bridge`.
"""
