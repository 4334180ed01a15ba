"""Configuration: one YAML file plus ``ENVOY2MQTT_<SECTION>__<KEY>`` environment overrides.

The file format is a user-facing contract; every option is documented
in ``config.example.yaml``. :func:`load_settings` returns a validated :class:`Settings` or
raises :class:`ConfigError` listing each problem as ``<field path>: <reason>``.

One module per job: ``base`` (what sections share), ``mqtt``, ``envoy`` and ``sections``
(the section models), ``root`` (:class:`Settings` and its sources), ``load`` (file +
environment), ``messages`` (problem lines), ``env`` (which variable a problem came from),
``summary`` (``check-config``'s description).
"""

from envoy2mqtt.settings.envoy import EnvoySettings, IntervalSettings
from envoy2mqtt.settings.load import DEFAULT_CONFIG_PATH, load_settings
from envoy2mqtt.settings.messages import ConfigError, format_validation_error
from envoy2mqtt.settings.mqtt import MqttSettings, TlsSettings
from envoy2mqtt.settings.root import Settings
from envoy2mqtt.settings.sections import (
    ControlSettings,
    EnlightenSettings,
    HealthSettings,
    HomeAssistantSettings,
    LoggingSettings,
    PublishSettings,
)
from envoy2mqtt.settings.summary import summary

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ConfigError",
    "ControlSettings",
    "EnlightenSettings",
    "EnvoySettings",
    "HealthSettings",
    "HomeAssistantSettings",
    "IntervalSettings",
    "LoggingSettings",
    "MqttSettings",
    "PublishSettings",
    "Settings",
    "TlsSettings",
    "format_validation_error",
    "load_settings",
    "summary",
]
