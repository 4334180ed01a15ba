"""What a failed broker connection means: an error retrying cannot fix, or a transient one.

The session raises the fatal ones at the first connect (their message says which setting
to change) and retries everything else.
"""

from __future__ import annotations

import aiomqtt
from paho.mqtt.reasoncodes import ReasonCode

from envoy2mqtt.mqtt.client import MqttAuthError, MqttFatalError, MqttTlsError
from envoy2mqtt.settings import MqttSettings
from envoy2mqtt.tls_errors import certificate_problem, find_ssl_error, scrub_reprs, ssl_reason

__all__ = ["fatal_error"]

# CONNACK codes that no retry can fix (MQTT 3.1.1 return codes and MQTT 5 reason codes).
_AUTH_CODES = frozenset({4, 5, 134, 135, 138, 140})
_CONFIG_CODES = frozenset({1, 2, 132, 133})


def _connack_code(exc: aiomqtt.MqttError) -> int | None:
    if not isinstance(exc, aiomqtt.MqttCodeError):
        return None
    rc = exc.rc
    value = rc.value if isinstance(rc, ReasonCode) else rc
    return value if isinstance(value, int) else None


def fatal_error(settings: MqttSettings, exc: aiomqtt.MqttError) -> MqttFatalError | None:
    """The fatal error ``exc`` stands for (None: worth retrying)."""
    where = f"MQTT broker {settings.host}:{settings.port}"
    code = _connack_code(exc)
    if code in _AUTH_CODES:
        user = settings.username or "anonymous"
        return MqttAuthError(
            f"{where} refused the login ({exc}) for user {user}: "
            "check mqtt.username and mqtt.password"
        )
    if code in _CONFIG_CODES:
        return MqttFatalError(
            f"{where} refused the connection ({exc}): check mqtt.client_id and mqtt.protocol"
        )
    problem = certificate_problem(exc)
    if problem is not None:
        return MqttTlsError(
            f"TLS certificate of {where} not trusted: {problem}; set mqtt.tls.ca_file to "
            "the CA certificate that signed it (or mqtt.tls.insecure: true, unverified)"
        )
    text = scrub_reprs(str(exc))
    # A plain-MQTT listener answers a TLS ClientHello by resetting the connection: with
    # TLS on, a reset right after TCP connected (a refused port is ECONNREFUSED, retried)
    # means the port does not speak TLS.
    mismatch = settings.tls.enabled and ("reset by peer" in text or "EOF occurred" in text)
    if "SSL" in text or "certificate" in text.lower() or mismatch:
        found = find_ssl_error(exc)
        reason = ssl_reason(found) if found is not None else text
        return MqttTlsError(
            f"TLS handshake with {where} failed ({reason}): check mqtt.tls (ca_file, "
            "cert_file, key_file) and that the broker port expects TLS"
        )
    return None
