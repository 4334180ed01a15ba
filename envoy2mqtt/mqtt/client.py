"""Building aiomqtt clients from the ``mqtt`` settings: one place for TLS, login and protocol.

The bridge's session, the start-up retained scan and the demo's clean-up all connect with
the same broker settings; they differ only in client id, Last Will and session options.
"""

from __future__ import annotations

import ssl

import aiomqtt
from paho.mqtt.client import MQTT_CLEAN_START_FIRST_ONLY

from envoy2mqtt.mqtt.library_log import aiomqtt_logger
from envoy2mqtt.settings import MqttSettings

__all__ = [
    "MqttAuthError",
    "MqttFatalError",
    "MqttTlsError",
    "new_client",
    "protocol_of",
    "tls_context",
]


class MqttFatalError(Exception):
    """The broker rejects us in a way retrying cannot fix; the message says what to change."""


class MqttAuthError(MqttFatalError):
    """The broker refused the credentials (or the user is not authorised)."""


class MqttTlsError(MqttFatalError):
    """TLS setup or the TLS handshake with the broker failed."""


def protocol_of(settings: MqttSettings) -> aiomqtt.ProtocolVersion:
    """The MQTT protocol version the settings ask for."""
    return aiomqtt.ProtocolVersion.V5 if settings.protocol == "5" else aiomqtt.ProtocolVersion.V311


def tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    """The TLS context of ``mqtt.tls`` (None when TLS is off).

    Raises:
        MqttTlsError: the CA, certificate or key file cannot be loaded.
    """
    tls = settings.tls
    if not tls.enabled:
        return None
    try:
        context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
        if tls.cert_file is not None:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file or tls.cert_file))
    except (OSError, ssl.SSLError) as exc:
        msg = f"cannot set up TLS for the MQTT broker: {exc}"
        raise MqttTlsError(msg) from None
    if tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def new_client(
    settings: MqttSettings,
    *,
    identifier: str,
    tls: ssl.SSLContext | None,
    timeout: float,
    will: aiomqtt.Will | None = None,
    socket_options: list[tuple[int, int, int]] | None = None,
    clean: bool | None = None,
) -> aiomqtt.Client:
    """A client for the configured broker (host, port, login, protocol, keepalive, TLS).

    ``clean`` True asks for a clean session (``clean_start`` on MQTT 5); None leaves
    aiomqtt's default.
    """
    v5 = settings.protocol == "5"
    return aiomqtt.Client(
        settings.host,
        settings.port,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password is not None else None,
        identifier=identifier,
        protocol=protocol_of(settings),
        will=will,
        keepalive=settings.keepalive,
        tls_context=tls,
        timeout=timeout,
        socket_options=socket_options,
        clean_session=None if v5 else clean,
        clean_start=MQTT_CLEAN_START_FIRST_ONLY if clean is None or not v5 else clean,
        logger=aiomqtt_logger(),
    )
