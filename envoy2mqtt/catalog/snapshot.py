"""What one poll knows about one Envoy, as plain fields the catalogue can read."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import msgspec

from envoy2mqtt.envoy.features import SupportedFeatures
from envoy2mqtt.envoy.models.data import EnvoyData
from envoy2mqtt.envoy.network import NetworkInterface
from envoy2mqtt.envoy.snapshot import EnvoySnapshot


def _features(names: list[str]) -> SupportedFeatures:
    flags = SupportedFeatures(0)
    for name in names:
        flags |= SupportedFeatures[name]
    return flags


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class Snapshot:
    """One Envoy as seen by the last poll; the only input of the catalogue.

    Attributes:
        serial: Envoy serial number (the ``<sn>`` topic level, sanitised there).
        name: friendly name for the HA gateway device.
        firmware: firmware version string from ``/info``.
        part_number: Envoy part number from ``/info``.
        model: pyenphase-style model string ("Envoy, phases: 3, …").
        features: probed feature flags.
        phase_count: configured phases (1 for single phase).
        phase_mode: ``split``, ``three``, ``single`` or ``None``.
        active_phase_count: phases seen active on the CTs.
        ct_meter_count: number of CT meters found at probe time.
        production_meter_type: CT type measuring production, if any.
        consumption_meter_type: CT type measuring consumption, if any.
        storage_meter_type: CT type measuring storage, if any.
        data: the normalised data of the last update.
        token_expires_at: JWT expiry, epoch seconds, for token-auth Envoys.
        last_poll: time of the last successful poll, epoch seconds.
        host: the host the bridge talks to (not published in state payloads).
        settings_control: ``local`` / ``cloud`` / ``unknown``: whether battery-settings
            writes stick on this gateway, as the bridge's watch after writes has seen.
    """

    serial: str
    name: str
    firmware: str
    part_number: str
    model: str
    features: SupportedFeatures
    phase_count: int = 1
    phase_mode: str | None = None
    active_phase_count: int = 0
    ct_meter_count: int = 0
    production_meter_type: str | None = None
    consumption_meter_type: str | None = None
    storage_meter_type: str | None = None
    data: EnvoyData = dataclasses.field(default_factory=EnvoyData)
    token_expires_at: int | None = None
    last_poll: float | None = None
    host: str | None = None
    settings_control: str = "unknown"
    network: NetworkInterface | None = None

    @property
    def ct_meter_types(self) -> list[str]:
        """The CT types with an enabled meter (keys of ``data.ctmeters``), sorted."""
        return sorted(k for k, v in self.data.ctmeters.items() if v is not None)

    @classmethod
    def of(
        cls,
        envoy: EnvoySnapshot,
        *,
        name: str | None = None,
        last_poll: float | None = None,
        host: str | None = None,
        settings_control: str = "unknown",
    ) -> Snapshot:
        """The catalogue's view of one client snapshot plus what only the bridge knows."""
        info, probe = envoy.info, envoy.probe
        expires = envoy.token_expires_at
        return cls(
            serial=info.serial,
            name=name or f"Envoy {info.serial}",
            firmware=info.firmware,
            part_number=info.part_number,
            model=probe.envoy_model,
            features=probe.features,
            phase_count=probe.phase_count,
            phase_mode=probe.phase_mode,
            active_phase_count=probe.active_phase_count,
            ct_meter_count=probe.ct_meter_count,
            production_meter_type=probe.production_meter_type,
            consumption_meter_type=probe.consumption_meter_type,
            storage_meter_type=probe.storage_meter_type,
            data=envoy.data,
            token_expires_at=int(expires) if expires else None,
            last_poll=last_poll,
            host=host,
            settings_control=settings_control,
            network=envoy.home.interface if envoy.home is not None else None,
        )

    @classmethod
    def from_expected(cls, expected: Mapping[str, Any], name: str | None = None) -> Snapshot:
        """Build a snapshot from a fixture's ``expected.json`` object (tests, demos).

        Raises:
            ValueError: the document is an error golden or lacks the required keys.
        """
        if "error" in expected or "data" not in expected:
            msg = "expected.json holds no Envoy state (error golden or missing 'data')"
            raise ValueError(msg)
        serial = str(expected["serial_number"])
        return cls(
            serial=serial,
            name=name or f"Envoy {serial}",
            firmware=str(expected["firmware"]),
            part_number=str(expected["part_number"]),
            model=str(expected["envoy_model"]),
            features=_features(list(expected["supported_features"])),
            phase_count=int(expected.get("phase_count") or 1),
            phase_mode=expected.get("phase_mode"),
            active_phase_count=int(expected.get("active_phase_count") or 0),
            ct_meter_count=int(expected.get("ct_meter_count") or 0),
            production_meter_type=expected.get("production_meter_type"),
            consumption_meter_type=expected.get("consumption_meter_type"),
            storage_meter_type=expected.get("storage_meter_type"),
            data=msgspec.convert(expected["data"], EnvoyData),
        )
