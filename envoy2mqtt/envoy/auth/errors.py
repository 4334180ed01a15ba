"""Distinct authentication failures, so users get an actionable message for each cause.

All are :class:`EnvoyAuthenticationError` subclasses; none of their texts contain a secret.
"""

from __future__ import annotations

from envoy2mqtt.envoy.errors import EnlightenUnreachableError, EnvoyAuthenticationError


class EnlightenCredentialsRejected(EnvoyAuthenticationError):
    """Enlighten refused the username/password."""


class EnlightenCertificateUntrusted(EnlightenUnreachableError):
    """Enlighten's TLS certificate failed verification (a proxy, a simulator, a wrong CA file)."""


class EnlightenMFARequired(EnvoyAuthenticationError):
    """Enlighten logged in without a session: the account has multi-factor auth enabled."""


class TokenSerialMismatch(EnvoyAuthenticationError):
    """The token was issued for another gateway serial than the one answering."""


class TokenCredentialsMissing(EnvoyAuthenticationError):
    """Token firmware, but neither a token nor Enlighten credentials are configured."""


class EnvoyTokenRejected(EnvoyAuthenticationError):
    """The Envoy refused the token and it cannot be renewed."""


class DigestCredentialsRejected(EnvoyAuthenticationError):
    """A legacy (FW < 7) Envoy refused the digest username/password."""
