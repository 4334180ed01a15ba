"""Write endpoints of the simulated Envoy: validate the body, apply it to the state, reply.

Each handler mirrors a real write (docs/envoy-local-api.md §6): later GETs show the change.
Malformed bodies raise :class:`BadWrite` (HTTP 400) and change nothing; a write to a feature
this Envoy does not have raises :class:`NoSuchEndpoint` (HTTP 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

from envoy2mqtt.envoy.updaters.tariff import LEGACY_SAVINGS_MODE, STORAGE_MODE_NAMES
from envoy2mqtt.simulator.state import DeviceState


class BadWrite(ValueError):
    """The request body is not what the device accepts (HTTP 400)."""


class NoSuchEndpoint(LookupError):
    """This Envoy has no such feature (HTTP 404)."""


Handler = Callable[[DeviceState, Any], Any]
_STATES = ("open", "closed")
# Like the device, also take the legacy name older firmware reports.
_STORAGE_MODES = (*STORAGE_MODE_NAMES, LEGACY_SAVINGS_MODE)
_DRY_CONTACT_KEYS = ("id", "grid_action", "micro_grid_action", "gen_action", "mode")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BadWrite(message)


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _doc(state: DeviceState, slug: str) -> Any:
    doc = state.doc(slug)
    if doc is None:
        raise NoSuchEndpoint(slug)
    return doc


def _relay(state: DeviceState, body: Any) -> Any:
    _require(isinstance(body, dict), "body must be a JSON object")
    target = body.get("mains_admin_state")
    _require(target in _STATES, "mains_admin_state must be open or closed")
    inventory = state.doc("ivp_ensemble_inventory")
    enpowers = [
        device
        for group in (inventory if isinstance(inventory, list) else [])
        if isinstance(group, dict) and group.get("type") == "ENPOWER"
        for device in group.get("devices", [])
    ]
    if not enpowers:
        raise NoSuchEndpoint("no Enpower")
    for device in enpowers:
        device["mains_admin_state"] = device["mains_oper_state"] = target
    relay = state.doc("ivp_ensemble_relay")
    if isinstance(relay, dict):
        relay["mains_admin_state"] = relay["mains_oper_state"] = target
    return {"mains_admin_state": target, "mains_oper_state": target}


def _find_contact(doc: Any, contact_id: Any) -> int:
    contacts = doc.get("dry_contacts") if isinstance(doc, dict) else None
    for index, contact in enumerate(contacts or []):
        if contact.get("id") == contact_id:
            return index
    raise BadWrite(f"unknown dry contact id {contact_id!r}")


def _dry_contact(state: DeviceState, body: Any) -> Any:
    contact = body.get("dry_contacts") if isinstance(body, dict) else None
    _require(isinstance(contact, dict), "dry_contacts must be a JSON object")
    assert isinstance(contact, dict)
    _require(contact.get("status") in _STATES, "status must be open or closed")
    doc = _doc(state, "ivp_ensemble_dry_contacts")
    index = _find_contact(doc, contact.get("id"))
    doc["dry_contacts"][index]["status"] = contact["status"]
    return doc


def _dry_contact_settings(state: DeviceState, body: Any) -> Any:
    relay = body.get("dry_contacts") if isinstance(body, dict) else None
    _require(isinstance(relay, dict), "dry_contacts must be a JSON object (one relay)")
    assert isinstance(relay, dict)
    missing = [key for key in _DRY_CONTACT_KEYS if key not in relay]
    _require(not missing, f"incomplete relay settings, missing: {', '.join(missing)}")
    for key in ("soc_low", "soc_high"):
        _require(key not in relay or _number(relay[key]), f"{key} must be a number")
    doc = _doc(state, "ivp_ss_dry_contact_settings")
    index = _find_contact(doc, relay["id"])
    doc["dry_contacts"][index] = relay
    return doc


def _check_storage(settings: Any) -> None:
    _require(isinstance(settings, dict), "storage_settings must be a JSON object")
    _require(settings.get("mode") in (*_STORAGE_MODES, None), "invalid storage mode")
    reserve = settings.get("reserved_soc", 0)
    _require(_number(reserve) and 0 <= reserve <= 100, "reserved_soc must be 0..100")
    flag = settings.get("charge_from_grid", False)
    _require(isinstance(flag, bool), "charge_from_grid must be a boolean")


def _tariff(state: DeviceState, body: Any) -> Any:
    tariff = body.get("tariff") if isinstance(body, dict) else None
    _require(isinstance(tariff, dict), "tariff must be a JSON object")
    assert isinstance(tariff, dict)
    if "storage_settings" in tariff:
        _check_storage(tariff["storage_settings"])
    doc = _doc(state, "admin_lib_tariff")
    # The top-level schedule is computed by the device and never written by clients.
    updated = {"tariff": tariff, **{k: v for k, v in doc.items() if k != "tariff"}}
    state.set_doc("admin_lib_tariff", updated)
    return updated


def _require_generator(state: DeviceState) -> None:
    # Envoys without a generator answer gen_config with {} or an error document.
    config = state.doc("ivp_ss_gen_config")
    if not isinstance(config, dict) or not config or {"error", "err"} & config.keys():
        raise NoSuchEndpoint("no generator")


def _gen_mode(state: DeviceState, body: Any) -> Any:
    command = body.get("gen_cmd") if isinstance(body, dict) else None
    _require(command in ("on", "off", "auto"), "gen_cmd must be on, off or auto")
    _require_generator(state)
    doc = state.doc("ivp_ss_gen_mode") or {}
    doc["gen_cmd"] = command
    state.set_doc("ivp_ss_gen_mode", doc)
    return doc


def _gen_schedule(state: DeviceState, body: Any) -> Any:
    _require(isinstance(body, dict), "body must be a JSON object")
    exercise = body.get("exercise_config")
    _require(isinstance(exercise, dict), "exercise_config must be a JSON object")
    assert isinstance(exercise, dict)
    _require(exercise.get("day") in _WEEKDAYS, "exercise day must be Mon..Sun")
    duration = exercise.get("duration")
    _require(_number(duration) and 10 <= duration <= 60, "duration must be 10..60")
    _require_generator(state)
    _doc(state, "ivp_ss_gen_schedule")
    state.set_doc("ivp_ss_gen_schedule", body)
    return body


def _gen_config(state: DeviceState, body: Any) -> Any:
    _require(isinstance(body, dict), "body must be a JSON object")
    flag = body.get("charge_from_generator", True)
    _require(isinstance(flag, bool), "charge_from_generator must be a boolean")
    _require_generator(state)
    state.set_doc("ivp_ss_gen_config", body)
    return body


def _acb_devices(state: DeviceState, body: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    entries = body.get("acb_sleep") if isinstance(body, dict) else None
    _require(isinstance(entries, list) and bool(entries), "acb_sleep must be a non-empty list")
    assert isinstance(entries, list)
    inventory = _doc(state, state.store.resolve("/inventory.json?deleted=1"))
    acbs = {
        device.get("serial_num"): device
        for group in inventory
        if isinstance(group, dict) and group.get("type") == "ACB"
        for device in group.get("devices", [])
    }
    devices = []
    for entry in entries:
        _require(isinstance(entry, dict), "acb_sleep entries must be JSON objects")
        _require(entry.get("serial_num") in acbs, "unknown ACB serial_num")
        devices.append(acbs[entry["serial_num"]])
    return devices, entries


def _acb_sleep(state: DeviceState, body: Any) -> Any:
    devices, entries = _acb_devices(state, body)
    for entry in entries:
        low, high = entry.get("sleep_min_soc"), entry.get("sleep_max_soc")
        _require(_number(low) and _number(high), "sleep_min_soc/sleep_max_soc must be numbers")
        _require(0 <= low <= high <= 100, "need 0 <= sleep_min_soc <= sleep_max_soc <= 100")
    for device, entry in zip(devices, entries, strict=True):
        device.update(
            sleep_enabled=True,
            sleep_min_soc=entry["sleep_min_soc"],
            sleep_max_soc=entry["sleep_max_soc"],
        )
    return {"acb_sleep": entries}


def _acb_wake(state: DeviceState, body: Any) -> Any:
    devices, entries = _acb_devices(state, body)
    for device in devices:
        device["sleep_enabled"] = False
    return {"acb_sleep": entries}


WRITES: dict[tuple[str, str], Handler] = {
    ("POST", "/ivp/ensemble/relay"): _relay,
    ("POST", "/ivp/ensemble/dry_contacts"): _dry_contact,
    ("POST", "/ivp/ss/dry_contact_settings"): _dry_contact_settings,
    ("PUT", "/admin/lib/tariff"): _tariff,
    ("POST", "/ivp/ss/gen_mode"): _gen_mode,
    ("POST", "/ivp/ss/gen_schedule"): _gen_schedule,
    ("POST", "/ivp/ss/gen_config"): _gen_config,
    ("PUT", "/admin/lib/acb_config"): _acb_sleep,
    ("DELETE", "/admin/lib/acb_config"): _acb_wake,
}


def apply_write(state: DeviceState, method: str, path: str, body: Any) -> Any:
    """Apply one write and return the JSON reply.

    Raises:
        NoSuchEndpoint: no such write, or the Envoy lacks the feature.
        BadWrite: the body is malformed; nothing was changed.
    """
    handler = WRITES.get((method, path))
    if handler is None:
        raise NoSuchEndpoint(path)
    return handler(state, body)
