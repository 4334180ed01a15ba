"""Sub-commands of the ``envoy2mqtt`` CLI, one module each (see :mod:`envoy2mqtt.cli`)."""
