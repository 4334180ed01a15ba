"""JWTs the simulated Envoy accepts, and the fake Enlighten cloud that issues them.

Tokens are HS256-signed with a per-simulator secret and carry the claims a real entrez
token has (``exp``, ``iat``, ``enphaseUser``, ``username``, ``aud`` = gateway serial).
A token is only accepted while it is known to the authority: revoking forgets them all,
which is how a firmware update or a cloud-side reset looks to a client. Ending the sessions
instead keeps every token valid but refuses it on data requests until ``check_jwt`` has
accepted it again: a 401 that a client answers by re-validating, without a new token.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import jwt

OWNER_LIFETIME = 365 * 24 * 3600.0
INSTALLER_LIFETIME = 12 * 3600.0


@dataclass(frozen=True)
class EnlightenAccount:
    """A fake Enlighten login; ``mfa`` accounts log in without getting a session."""

    email: str
    password: str
    user_type: str = "owner"
    mfa: bool = False


DEFAULT_ACCOUNTS: tuple[EnlightenAccount, ...] = (
    EnlightenAccount("owner@example.com", "owner-password"),
    EnlightenAccount("installer@example.com", "installer-password", user_type="installer"),
    EnlightenAccount("mfa@example.com", "mfa-password", mfa=True),
)


@dataclass
class TokenAuthority:
    """Issues, validates and revokes the JWTs of one simulated Envoy."""

    serial: str
    clock: Callable[[], float] = time.time
    lifetime: float | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _valid: dict[str, float] = field(default_factory=dict)
    _sessions: dict[str, str] = field(default_factory=dict)
    # jti of valid tokens that need a check_jwt before a bearer header alone authorises again.
    _unchecked: set[str] = field(default_factory=set)

    def issue(self, username: str, user_type: str = "owner") -> str:
        """Return a new signed token for ``username`` (``user_type`` owner or installer)."""
        now = self.clock()
        default = INSTALLER_LIFETIME if user_type == "installer" else OWNER_LIFETIME
        expires = now + (self.lifetime if self.lifetime is not None else default)
        jti = secrets.token_hex(8)
        claims = {
            "aud": self.serial,
            "iss": "Entrez",
            "enphaseUser": user_type,
            "username": username,
            "iat": int(now),
            "exp": int(expires),
            "jti": jti,
        }
        self._valid[jti] = float(int(expires))
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def validate(self, token: str) -> bool:
        """Return True if ``token`` was issued here, is not revoked and has not expired."""
        return self._live(self._jti(token))

    def authorizes(self, token: str) -> bool:
        """Return True if a data request may present ``token`` as its bearer header.

        That is a valid token, re-validated with ``check_jwt`` since :meth:`end_sessions`.
        """
        jti = self._jti(token)  # one signature check per request: every data GET passes here
        return self._live(jti) and jti not in self._unchecked

    def _live(self, jti: str | None) -> bool:
        expires = self._valid.get(jti) if jti is not None else None
        return expires is not None and self.clock() < expires

    def open_session(self, token: str) -> str:
        """Return a new ``sessionId`` cookie value bound to a (validated) token."""
        session = secrets.token_hex(16)
        self._sessions[session] = token
        self._unchecked.discard(self._jti(token) or "")
        return session

    def end_sessions(self) -> None:
        """Forget every session; tokens stay valid but need ``check_jwt`` before data again."""
        self._sessions.clear()
        self._unchecked.update(self._valid)

    def session_valid(self, session: str) -> bool:
        """Return True if the cookie belongs to a token that is still valid."""
        token = self._sessions.get(session)
        return token is not None and self.validate(token)

    def revoke_all(self) -> None:
        """Forget every issued token and session (clients must authenticate again)."""
        self._valid.clear()
        self._sessions.clear()
        self._unchecked.clear()

    @property
    def active_tokens(self) -> int:
        """Number of issued tokens that are neither revoked nor expired."""
        now = self.clock()
        return sum(1 for expires in self._valid.values() if now < expires)

    def _jti(self, token: str) -> str | None:
        """The ``jti`` of a token signed here for this gateway, None for any other text."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=self.serial,
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        return str(claims.get("jti", ""))


@dataclass
class Enlighten:
    """The fake cloud: ``login.json`` sessions and ``/tokens``; counts every call."""

    authority: TokenAuthority
    accounts: dict[str, EnlightenAccount]
    login_calls: int = 0
    token_calls: int = 0
    _sessions: dict[str, EnlightenAccount] = field(default_factory=dict)

    @classmethod
    def with_accounts(
        cls, authority: TokenAuthority, accounts: Iterable[EnlightenAccount]
    ) -> Enlighten:
        """Build the cloud for ``authority`` with the given accounts."""
        return cls(authority=authority, accounts={a.email: a for a in accounts})

    @property
    def cloud_calls(self) -> int:
        """Login plus token requests received so far."""
        return self.login_calls + self.token_calls

    def login(self, email: str, password: str) -> tuple[int, dict[str, object]]:
        """Answer a ``login.json`` POST: (status, JSON body)."""
        self.login_calls += 1
        account = self.accounts.get(email)
        if account is None or not secrets.compare_digest(account.password, password):
            return 401, {"message": "Invalid email or password"}
        body: dict[str, object] = {
            "message": "success",
            "is_consumer": account.user_type == "owner",
            "user_name": account.email,
            "first_name": "Simulated",
        }
        if account.mfa:
            body["requires_mfa"] = True
            return 200, body
        session = secrets.token_hex(16)
        self._sessions[session] = account
        body.update(session_id=session, manager_token=secrets.token_hex(8), user_id=1)
        return 200, body

    def token(self, session_id: str, serial: str, username: str) -> tuple[int, str]:
        """Answer a ``/tokens`` POST: (status, raw JWT text or error message)."""
        self.token_calls += 1
        account = self._sessions.get(session_id)
        if account is None or account.email != username:
            return 401, "Unauthorized session"
        if serial != self.authority.serial:
            return 403, "Serial number not associated with this account"
        return 200, self.authority.issue(account.email, account.user_type)
