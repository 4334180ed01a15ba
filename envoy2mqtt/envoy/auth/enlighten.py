"""Obtain an Envoy token from the Enlighten cloud (login, then entrez token request).

The cloud is reached through its own aiohttp session that verifies TLS certificates
(unlike local Envoy traffic); retries on transport errors are bounded.
"""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)
from yarl import URL

from envoy2mqtt.envoy.auth.errors import (
    EnlightenCertificateUntrusted,
    EnlightenCredentialsRejected,
    EnlightenMFARequired,
)
from envoy2mqtt.envoy.errors import (
    EnlightenUnreachableError,
    EnvoyAuthenticationError,
    EnvoyMalformedResponse,
)
from envoy2mqtt.envoy.net_errors import describe_client_error, peer_of
from envoy2mqtt.envoy.transport import RetryBudget, read_bounded
from envoy2mqtt.secret import Secret
from envoy2mqtt.tls_errors import certificate_problem

_LOGGER = logging.getLogger(__name__)

LOGIN_URL = "https://enlighten.enphaseenergy.com/login/login.json"
TOKEN_URL = "https://entrez.enphaseenergy.com/tokens"  # noqa: S105 - a URL, not a secret
CLOUD_BUDGET = RetryBudget(attempts=3, seconds=30.0, max_wait=3.0)
#: What to do about an untrusted certificate, in the words of the configuration file.
CA_HINT = "set enlighten.ca_file to the CA certificate that signed it"
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: bytes


class _Transient(Exception):
    """A cloud transport failure worth retrying (``peer``: ``host:port`` when known)."""

    def __init__(self, reason: str, peer: str | None = None) -> None:
        super().__init__(reason)
        self.peer = peer


def ca_context(ca_file: Path | str | None) -> ssl.SSLContext | None:
    """A verifying context trusting only ``ca_file`` (``None``: the system's CAs).

    Raises:
        OSError, ssl.SSLError: the file cannot be read or holds no certificate.
    """
    return None if ca_file is None else ssl.create_default_context(cafile=str(ca_file))


class EnlightenClient:
    """Fetches tokens from Enlighten; one instance may serve many Envoys."""

    def __init__(
        self,
        login_url: str = LOGIN_URL,
        token_url: str = TOKEN_URL,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        budget: RetryBudget = CLOUD_BUDGET,
        ssl_context: ssl.SSLContext | None = None,
        ca_hint: str = CA_HINT,
    ) -> None:
        """Configure the cloud endpoints; ``session`` is shared and not closed here.

        ``ssl_context`` replaces the system's trusted CAs (e.g. a simulator's CA file);
        ``ca_hint`` ends the message of an untrusted certificate (CLI option or config key).
        """
        self.login_url = login_url
        self.token_url = token_url
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._budget = budget
        self._ssl: ssl.SSLContext | bool = ssl_context or True
        self._ca_hint = ca_hint

    async def fetch_token(self, username: str, password: Secret | str, serial: str) -> Secret:
        """Log in as ``username`` and return a fresh JWT for gateway ``serial``.

        Raises:
            EnlightenUnreachableError: the cloud cannot be reached or answers 5xx.
            EnlightenCredentialsRejected: wrong username or password.
            EnlightenMFARequired: the account needs multi-factor auth (no session issued).
            EnvoyAuthenticationError: any other refusal or an unreadable answer.
        """
        secret = Secret(password) if isinstance(password, str) else password
        form = {"user[email]": username, "user[password]": secret.reveal()}
        login = await self._post(self.login_url, data=form)
        if 400 <= login.status < 500:
            msg = f"Enlighten rejected the username or password (HTTP {login.status})"
            raise EnlightenCredentialsRejected(msg)
        self._check_status(login, "login")
        session_id = _session_id(login.body)
        body = {"session_id": session_id.reveal(), "serial_num": serial, "username": username}
        reply = await self._post(self.token_url, json_body=body)
        if 400 <= reply.status < 500:
            msg = f"Enlighten refused a token for serial {serial} (HTTP {reply.status})"
            raise EnvoyAuthenticationError(msg)
        self._check_status(reply, "token request")
        token = Secret(reply.body.decode("ascii", errors="replace").strip())
        _LOGGER.info("enlighten token fetched serial=%s", serial)
        return token

    async def close(self) -> None:
        """Close the session if this client created it."""
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _check_status(self, reply: _Reply, step: str) -> None:
        if reply.status >= 500:
            msg = f"Enlighten {step} unavailable (HTTP {reply.status})"
            raise EnlightenUnreachableError(msg)
        if reply.status != 200:
            msg = f"Enlighten {step} failed (HTTP {reply.status})"
            raise EnvoyAuthenticationError(msg)

    async def _post(
        self,
        url: str,
        *,
        data: dict[str, str] | None = None,
        json_body: dict[str, str] | None = None,
    ) -> _Reply:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._budget.attempts) | stop_after_delay(self._budget.seconds),
            wait=wait_random_exponential(
                multiplier=self._budget.multiplier, max=self._budget.max_wait
            ),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._post_once(url, data, json_body)
        except _Transient as exc:
            msg = f"cannot reach Enlighten at {exc.peer or _authority(url)}: {exc}"
            raise EnlightenUnreachableError(msg) from None
        except EnvoyMalformedResponse as exc:
            msg = f"Enlighten answered with an oversized body at {_authority(url)}"
            raise EnvoyAuthenticationError(msg) from exc
        raise AssertionError("tenacity returned without result")  # pragma: no cover

    async def _post_once(
        self, url: str, data: dict[str, str] | None, json_body: dict[str, str] | None
    ) -> _Reply:
        try:
            async with self._client().post(
                url, data=data, json=json_body, timeout=self._timeout, ssl=self._ssl
            ) as resp:
                body = await read_bounded(resp, _MAX_BODY, resp.url.path)
                _LOGGER.debug(
                    "enlighten method=POST host=%s path=%s status=%s",
                    resp.url.host,
                    resp.url.path,
                    resp.status,
                )
                return _Reply(resp.status, body)
        except TimeoutError:
            raise _Transient("timed out") from None
        except aiohttp.ClientConnectorCertificateError as exc:
            # Retrying cannot make a certificate trusted: say so at once.
            msg = (
                f"TLS certificate of Enlighten at {peer_of(exc)} not trusted: "
                f"{certificate_problem(exc) or 'verification failed'}; {self._ca_hint}"
            )
            raise EnlightenCertificateUntrusted(msg) from None
        except aiohttp.ClientConnectorError as exc:
            raise _Transient(describe_client_error(exc), peer_of(exc)) from None
        except aiohttp.ClientError as exc:
            raise _Transient(describe_client_error(exc)) from None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
            self._owns_session = True
        return self._session


def _authority(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.host}:{parsed.port}"


def _session_id(body: bytes) -> Secret:
    try:
        document: Any = json.loads(body)
    except ValueError:
        msg = "Enlighten login answered with something other than JSON"
        raise EnvoyAuthenticationError(msg) from None
    session_id = document.get("session_id") if isinstance(document, dict) else None
    if not isinstance(session_id, str) or not session_id:
        msg = (
            "Enlighten login returned no session: multi-factor authentication is probably "
            "enabled on this account; disable it or configure a token instead"
        )
        raise EnlightenMFARequired(msg)
    manager_token = document.get("manager_token")
    if isinstance(manager_token, str):
        Secret.of(manager_token)  # unused, but a secret: registered with the redactor
    return Secret(session_id)
