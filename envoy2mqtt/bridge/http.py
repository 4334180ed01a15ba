"""Optional HTTP probe endpoints (``health.port``): /healthz, /readyz and /metrics.

* ``/healthz``: 200 while the bridge runs and its MQTT session is connected (container
  HEALTHCHECK, liveness);
* ``/readyz``: 200 when connected and every configured Envoy is online, else 503;
* ``/metrics``: Prometheus text format counters, read at scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envoy2mqtt.bridge.health import BridgeStats, EnvoyStats, rss_bytes

if TYPE_CHECKING:
    from aiohttp import web

_LOGGER = logging.getLogger(__name__)


@dataclass
class HealthView:
    """What the endpoints read at each request: live counters and the MQTT connection state.

    ``published`` reads the session's own counter (``stats.messages_published`` is only
    copied when ``bridge/health`` goes out, up to a minute old).
    """

    stats: BridgeStats
    envoys: Callable[[], list[EnvoyStats]]
    mqtt_connected: Callable[[], bool]
    published: Callable[[], int] | None = None

    def messages_published(self) -> int:
        """MQTT messages published so far."""
        return self.published() if self.published is not None else self.stats.messages_published


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def metrics_text(view: HealthView) -> str:
    """Render the counters in the Prometheus text exposition format."""
    lines = [
        "# TYPE envoy2mqtt_uptime_seconds gauge",
        f"envoy2mqtt_uptime_seconds {view.stats.uptime():.1f}",
        "# TYPE envoy2mqtt_mqtt_connected gauge",
        f"envoy2mqtt_mqtt_connected {int(view.mqtt_connected())}",
        "# TYPE envoy2mqtt_messages_published_total counter",
        f"envoy2mqtt_messages_published_total {view.messages_published()}",
        "# TYPE envoy2mqtt_resident_memory_bytes gauge",
        f"envoy2mqtt_resident_memory_bytes {rss_bytes()}",
    ]
    series = (
        ("envoy2mqtt_envoy_online", "gauge", lambda e: int(e.online)),
        ("envoy2mqtt_envoy_polls_ok_total", "counter", lambda e: e.polls_ok),
        ("envoy2mqtt_envoy_polls_failed_total", "counter", lambda e: e.polls_failed),
        ("envoy2mqtt_envoy_commands_ok_total", "counter", lambda e: e.commands_ok),
        ("envoy2mqtt_envoy_commands_failed_total", "counter", lambda e: e.commands_failed),
        ("envoy2mqtt_envoy_stale_groups", "gauge", lambda e: len(e.stale)),
    )
    envoys = view.envoys()
    for name, kind, value in series:
        lines.append(f"# TYPE {name} {kind}")
        for envoy in envoys:
            labels = f'host="{_label(envoy.host)}",serial="{_label(envoy.serial or "")}"'
            lines.append(f"{name}{{{labels}}} {value(envoy)}")
    return "\n".join(lines) + "\n"


def build_app(view: HealthView) -> web.Application:
    """The aiohttp application serving the three endpoints."""
    # aiohttp's server half (~2 MiB) is loaded only when a health port is configured.
    from aiohttp import web  # noqa: PLC0415

    async def healthz(_request: web.Request) -> web.Response:
        ok = view.mqtt_connected()
        return web.Response(status=200 if ok else 503, text="ok\n" if ok else "mqtt down\n")

    async def readyz(_request: web.Request) -> web.Response:
        offline = [e.serial or e.host for e in view.envoys() if not e.online]
        if not view.mqtt_connected():
            return web.Response(status=503, text="mqtt down\n")
        if offline:
            return web.Response(status=503, text=f"offline: {', '.join(offline)}\n")
        return web.Response(text="ready\n")

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(text=metrics_text(view), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_health_server(view: HealthView, bind: str, port: int) -> web.AppRunner:
    """Start serving on ``bind:port``; stop it with ``await runner.cleanup()``."""
    from aiohttp import web  # noqa: PLC0415

    runner = web.AppRunner(build_app(view), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, bind, port)
    await site.start()
    _LOGGER.info("health endpoint listening bind=%s port=%d", bind, port)
    return runner
