"""The Envoy clients of a bridge: what the bridge needs of one, and how real ones are built."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp
from pydantic import SecretStr

from envoy2mqtt.bridge.schedule import LONG_BUDGET
from envoy2mqtt.envoy.auth.enlighten import EnlightenClient, ca_context
from envoy2mqtt.envoy.client import EnvoyClient
from envoy2mqtt.envoy.command_types import Command
from envoy2mqtt.envoy.firmware import EnvoyInfo
from envoy2mqtt.envoy.pool import http_keepalive, limit_tls_read_buffer, shared_session
from envoy2mqtt.envoy.snapshot import EnvoySnapshot, UpdateResult, WriteResult
from envoy2mqtt.envoy.transport import RetryBudget
from envoy2mqtt.secret import Secret
from envoy2mqtt.settings import EnlightenSettings, EnvoySettings


class ClientLike(Protocol):
    """The part of ``EnvoyClient`` the worker uses."""

    @property
    def info(self) -> EnvoyInfo | None:
        """``/info`` once read (also when setup failed after it)."""

    async def setup(self) -> EnvoySnapshot:
        """Read /info, authenticate and probe."""

    async def update(
        self, groups: Sequence[str] | None = None, *, budget: RetryBudget | None = None
    ) -> UpdateResult:
        """Read the given groups (all when None) within the retry ``budget``."""

    async def refresh_info(self, *, budget: RetryBudget | None = None) -> EnvoySnapshot | None:
        """Re-read /info; the snapshot after the re-probe when firmware or serial changed."""

    async def execute(self, command: Command) -> WriteResult:
        """Send one write; returns the groups it re-read and the snapshot after that."""

    async def close(self) -> None:
        """Release HTTP resources."""


@dataclass(frozen=True)
class ClientContext:
    """Resources the Envoy clients of one bridge share."""

    http: aiohttp.ClientSession
    enlighten: EnlightenClient
    token_cache_dir: Path

    @classmethod
    def open(
        cls, fast_intervals: Iterable[float], cloud: EnlightenSettings, token_cache_dir: Path
    ) -> ClientContext:
        """The shared HTTP session and Enlighten client; release them with :meth:`close`."""
        # One idle connection per Envoy, kept between fast polls, each with a smaller TLS
        # read buffer (envoy/pool.py).
        limit_tls_read_buffer()
        http = shared_session(http_keepalive(fast_intervals))
        enlighten = EnlightenClient(
            cloud.login_url, cloud.token_url, ssl_context=ca_context(cloud.ca_file)
        )
        return cls(http, enlighten, token_cache_dir)

    async def close(self) -> None:
        """Close the Enlighten client and the HTTP session."""
        await self.enlighten.close()
        await self.http.close()


ClientFactory = Callable[[EnvoySettings, ClientContext], ClientLike]
"""Builds the Envoy client of one configured Envoy (tests and the demo inject their own)."""


def default_client(envoy: EnvoySettings, context: ClientContext) -> EnvoyClient:
    """The real client for one configured Envoy, sharing the bridge's HTTP session."""

    def secret(value: SecretStr | None) -> Secret | None:
        return Secret.of(value.get_secret_value()) if value is not None else None

    return EnvoyClient(
        envoy.host,
        username=envoy.username,
        password=secret(envoy.password),
        token=secret(envoy.token),
        serial=envoy.serial,
        session=context.http,
        enlighten=context.enlighten,
        token_cache_dir=context.token_cache_dir,
        # Per attempt; every tier's own budget still bounds its requests (long tier: 75 s).
        timeout=LONG_BUDGET,
    )
