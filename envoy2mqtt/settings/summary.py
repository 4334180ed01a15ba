"""``check-config``'s description of the settings in force (never a secret)."""

from __future__ import annotations

from envoy2mqtt.settings.envoy import EnvoySettings
from envoy2mqtt.settings.root import Settings

__all__ = ["summary"]


def _auth_kind(envoy: EnvoySettings) -> str:
    if envoy.token is not None:
        return "token"
    if envoy.username is not None or envoy.password is not None:
        return f"credentials (user {envoy.username or '-'})"
    return "none"


def summary(settings: Settings) -> list[str]:
    """Human-readable lines describing the settings in force; contains no secrets."""
    mqtt = settings.mqtt
    tls = "on" + (" (insecure)" if mqtt.tls.insecure else "") if mqtt.tls.enabled else "off"
    user = mqtt.username or "anonymous"
    ha = settings.homeassistant
    lines = [
        f"mqtt: {mqtt.host}:{mqtt.port} protocol={mqtt.protocol} tls={tls} user={user} "
        f"client_id={mqtt.client_id} base_topic={mqtt.base_topic}",
        f"homeassistant: enabled={ha.enabled} prefix={ha.discovery_prefix} "
        f"mode={ha.discovery_mode}",
    ]
    served = settings.served_envoys()
    if settings.instance is not None:
        lines.append(
            f"instance: {settings.instance} shard={settings.shard or '-'} "
            f"serves={len(served)}/{len(settings.envoys)} envoys"
        )
    for index, envoy in enumerate(settings.envoys):
        iv = envoy.intervals
        lines.append(
            f"envoys[{index}]: host={envoy.host} name={envoy.name or '-'} "
            f"serial={envoy.serial or '-'} "
            f"auth={_auth_kind(envoy)} intervals={iv.fast:g}/{iv.normal:g}/{iv.slow:g}s "
            f"firmware_check={iv.firmware:g}s"
            + ("" if any(e is envoy for e in served) else " (other shard: not served)")
        )
    controls = settings.controls
    enabled = [
        name for name in ("grid_relay", "dry_contacts", "storage") if getattr(controls, name)
    ]
    lines += [
        f"controls: {', '.join(enabled) or 'none'}",
        f"publish: republish_interval={settings.publish.republish_interval:g}s "
        f"health_interval={settings.publish.health_interval:g}s",
        f"token_cache_dir: {settings.token_cache_dir}",
        f"health: {'port ' + str(settings.health.port) if settings.health.port else 'off'}",
        f"logging: level={settings.logging.level} format={settings.logging.format}",
    ]
    return lines
