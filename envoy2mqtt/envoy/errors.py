"""Errors raised by the Envoy client.

Every message is safe to log and to publish: no error text may contain a password,
token or cookie (the constructors never receive them).
"""

from __future__ import annotations


class EnvoyError(Exception):
    """Root of every Envoy client error."""


class EnvoyCommunicationError(EnvoyError):
    """Transport failure: connection refused, reset, DNS, TLS."""


class EnvoyTimeoutError(EnvoyCommunicationError):
    """The Envoy did not answer in time."""


class EnvoyHTTPStatusError(EnvoyError):
    """The Envoy answered with an unexpected HTTP status."""

    def __init__(self, status: int, path: str, detail: str = "") -> None:
        self.status = status
        self.path = path
        msg = f"HTTP {status} from {path}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class EnvoyAuthenticationRequired(EnvoyHTTPStatusError):
    """401/403 on a local request: the session or token must be renewed."""


class EnvoyAuthenticationError(EnvoyError):
    """Authentication cannot succeed with the configured credentials (bad password, MFA...)."""


class EnlightenUnreachableError(EnvoyAuthenticationError):
    """The Enlighten cloud could not be reached to obtain a token."""


class EnvoyMalformedResponse(EnvoyError):
    """A response body could not be decoded into the expected structure."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        super().__init__(f"malformed response from {path}: {detail}")


class EnvoyFirmwareError(EnvoyError):
    """``/info`` could not be read or parsed."""


class EnvoyProbeFailed(EnvoyError):
    """No data source for production could be found on this Envoy."""


class EnvoyFeatureNotAvailable(EnvoyError):
    """A command needs a feature this Envoy does not have."""


class EnvoyCommandRejected(EnvoyError):
    """A command's value failed validation; no request was sent."""


class EnvoyPoorDataQuality(EnvoyError):
    """The Envoy answered, but the data is known to be bogus (e.g. FW 3.x all-zero at boot)."""
