"""State payloads: one JSON object per state topic, published under ``<base>/<sn>/``.

Values keep the Envoy's units (as normalised by the client) and snake_case keys. Every key
a discovery value template reads is present, ``null`` when the Envoy did not report it
(:mod:`envoy2mqtt.catalog.template_keys`); other unreported values are left out. Nothing
is ever a made-up zero. Words a control accepts are the words its state shows: the
command word under the field's name, the Envoy's own word under ``envoy_<field>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from envoy2mqtt.catalog.collar import grid_status
from envoy2mqtt.catalog.controls import RELAY_SETTING_WORDS
from envoy2mqtt.catalog.naming import phase_level, sanitize_topic_level
from envoy2mqtt.catalog.payload import Payload, drop_none, plain, vocabulary
from envoy2mqtt.catalog.snapshot import Snapshot
from envoy2mqtt.catalog.storage import storage_payload
from envoy2mqtt.catalog.template_keys import add_template_keys
from envoy2mqtt.envoy.models.data import EnvoyData, SystemEnergy


def _with_phases(total: Any, phases: Mapping[str, Any | None] | None) -> Payload:
    payload = plain(total)
    present = {phase_level(p): plain(v) for p, v in (phases or {}).items() if v is not None}
    if present:
        payload["phases"] = present
    return payload


def _gateway(snapshot: Snapshot) -> Payload:
    payload = {
        "serial": snapshot.serial,
        "firmware": snapshot.firmware,
        "part_number": snapshot.part_number,
        "model": snapshot.model,
        "supported_features": snapshot.features.names(),
        "phase_count": snapshot.phase_count,
        "phase_mode": snapshot.phase_mode,
        "active_phase_count": snapshot.active_phase_count,
        "ct_meter_count": snapshot.ct_meter_count,
        "production_meter_type": snapshot.production_meter_type,
        "consumption_meter_type": snapshot.consumption_meter_type,
        "storage_meter_type": snapshot.storage_meter_type,
        "ct_meters": snapshot.ct_meter_types,
        "token_expires_at": snapshot.token_expires_at,
        "last_poll": snapshot.last_poll,
    }
    net = snapshot.network
    if net is not None:
        payload |= {"mac": net.mac, "network_interface": net.interface, "network_type": net.type}
    return drop_none(payload)  # type: ignore[no-any-return]


def _system(total: SystemEnergy | None, phases: Any, name: str) -> dict[str, Payload]:
    return {name: _with_phases(total, phases)} if total is not None else {}


def _systems(d: EnvoyData) -> dict[str, Payload]:
    return (
        _system(d.system_production, d.system_production_phases, "production")
        | _system(d.system_consumption, d.system_consumption_phases, "consumption")
        | _system(d.system_net_consumption, d.system_net_consumption_phases, "net_consumption")
    )


def _meters(d: EnvoyData) -> dict[str, Payload]:
    return {
        f"meters/{sanitize_topic_level(ct)}": _with_phases(meter, d.ctmeters_phases.get(ct))
        for ct, meter in d.ctmeters.items()
        if meter is not None
    }


def _per_device(prefix: str, items: Mapping[str, Any]) -> dict[str, Payload]:
    return {f"{prefix}/{sanitize_topic_level(k)}": plain(v) for k, v in items.items()}


def _batteries(d: EnvoyData) -> dict[str, Payload]:
    inventory, power = d.encharge_inventory or {}, d.encharge_power or {}
    return {
        f"batteries/{sanitize_topic_level(sn)}": (
            (plain(inventory[sn]) if sn in inventory else {})
            | (plain(power[sn]) if sn in power else {})
        )
        for sn in sorted(set(inventory) | set(power))
    }


def _battery(d: EnvoyData) -> dict[str, Payload]:
    payload = plain(d.encharge_aggregate) if d.encharge_aggregate is not None else {}
    if d.battery_aggregate is not None:
        # Same field names as the Encharge aggregate: prefix them to keep both.
        combined = plain(d.battery_aggregate)
        payload |= {f"aggregated_{k}": v for k, v in combined.items()}
    return {"battery": payload} if payload else {}


def _singles(d: EnvoyData) -> dict[str, Payload]:
    found = {"acb": d.acb_power, "enpower": d.enpower, "collar": d.collar, "c6cc": d.c6cc}
    result = {topic: plain(obj) for topic, obj in found.items() if obj is not None}
    if d.collar is not None:
        result["collar"]["grid_status"] = grid_status(d.collar)
    return result


def _relay_settings(settings: Any) -> Payload:
    payload = plain(settings)
    for field, mapping in RELAY_SETTING_WORDS.items():
        payload |= vocabulary(field, payload.get(field), mapping)
    return payload


def _dry_contacts(d: EnvoyData) -> dict[str, Payload]:
    result = {}
    for relay_id in sorted(set(d.dry_contact_status) | set(d.dry_contact_settings)):
        payload: Payload = {"id": relay_id}
        if relay_id in d.dry_contact_status:
            payload["status"] = d.dry_contact_status[relay_id].status
        if relay_id in d.dry_contact_settings:
            payload |= _relay_settings(d.dry_contact_settings[relay_id])
        result[f"dry_contacts/{sanitize_topic_level(relay_id)}"] = payload
    return result


def _generator(d: EnvoyData) -> dict[str, Payload]:
    payload = plain(d.generator) if d.generator is not None else {}
    parts = {
        "config": d.generator_config,
        "mode": d.generator_mode,
        "exercise": d.generator_schedule,
    }
    payload |= {key: plain(obj) for key, obj in parts.items() if obj is not None}
    return {"generator": payload} if payload else {}


def _livedata(d: EnvoyData) -> dict[str, Payload]:
    live = d.livedata
    if live is None:
        return {}
    payload = plain(live)
    payload.pop("phases", None)
    phases = {phase_level(p): plain(v) for p, v in live.phases.items()}
    if phases:
        payload["phases"] = phases
    return {"livedata": payload}


_DATA_GROUPS: tuple[Callable[[EnvoyData], dict[str, Payload]], ...] = (
    _systems,
    _meters,
    _livedata,
    lambda d: _per_device("inverters", d.inverters),
    _batteries,
    _battery,
    _singles,
    _dry_contacts,
    storage_payload,
    _generator,
)


def state_payloads(snapshot: Snapshot) -> dict[str, Payload]:
    """Return topic suffix (under ``<base>/<sn>/``) -> JSON-able payload for every state topic.

    Only topics the Envoy has data for are returned; ``gateway`` is always there.
    """
    payloads = {"gateway": _gateway(snapshot)}
    for build in _DATA_GROUPS:
        payloads |= build(snapshot.data)
    if "storage" in payloads:
        # Not Envoy data: what the bridge saw after its own writes (bridge/tariff_watch.py).
        payloads["storage"]["settings_control"] = snapshot.settings_control
    add_template_keys(payloads, snapshot)
    return payloads
