"""envoy2mqtt: Enphase Envoy / IQ Gateway to MQTT bridge with Home Assistant discovery."""

__version__ = "0.1.0"
__all__ = ["__version__"]
