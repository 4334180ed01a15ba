"""Tariff document for ``PUT /admin/lib/tariff``, rebuilt from the normalised model.

The Envoy replaces its whole tariff on a PUT, so every key read from it is sent back
unchanged except the storage settings a command changes. The read-only top-level
``schedule`` block of the GET reply is never part of the model and never sent.
"""

from __future__ import annotations

from typing import Any

import msgspec

from envoy2mqtt.envoy.models.data import StorageSettings, Tariff


def encode_storage_settings(storage: StorageSettings) -> dict[str, Any]:
    """Encode storage settings in the Envoy's format; optional keys only when known."""
    body: dict[str, Any] = {
        "mode": storage.mode,
        "operation_mode_sub_type": storage.operation_mode_sub_type,
        # The firmware reports the reserve as a float with one decimal and expects it so.
        "reserved_soc": round(float(storage.reserved_soc), 1),
        "very_low_soc": storage.very_low_soc,
        "charge_from_grid": storage.charge_from_grid,
    }
    if storage.date is not None:
        body["date"] = storage.date
    # opt_schedules exists from FW 8.2.42xx; older firmware must not receive the key.
    if storage.opt_schedules is not None:
        body["opt_schedules"] = storage.opt_schedules
    return body


def tariff_body(tariff: Tariff, storage: StorageSettings) -> dict[str, Any]:
    """Return ``{"tariff": ...}``: ``tariff`` with its storage settings replaced by ``storage``.

    The pass-through parts are deep copies, so the caller's model is never aliased by the
    request body. Key order follows what the Envoy itself returns.
    """
    copied: dict[str, Any] = msgspec.to_builtins(tariff)
    doc: dict[str, Any] = {"currency": copied["currency"]}
    for key in ("logger", "date"):
        if copied[key] is not None:
            doc[key] = copied[key]
    doc["storage_settings"] = encode_storage_settings(storage)
    doc["single_rate"] = copied["single_rate"]
    doc["seasons"] = copied["seasons"]
    if copied["seasons_sell"] is not None:
        doc["seasons_sell"] = copied["seasons_sell"]
    return {"tariff": doc}
