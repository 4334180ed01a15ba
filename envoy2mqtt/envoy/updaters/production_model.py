"""Pure conversions from the raw production documents to :class:`SystemEnergy` values."""

from __future__ import annotations

from envoy2mqtt.envoy.errors import EnvoyMalformedResponse
from envoy2mqtt.envoy.features import PHASE_NAMES
from envoy2mqtt.envoy.models.data import ACBPower, PhaseEnergy, SystemEnergy
from envoy2mqtt.envoy.models.raw_production import (
    ProductionDoc,
    ProductionEntry,
    ProductionLine,
)


def _need(value: float | None, path: str, what: str) -> float:
    if value is None:
        raise EnvoyMalformedResponse(path, f"{what} is missing")
    return value


def _find(entries: list[ProductionEntry], kind: str) -> ProductionEntry | None:
    return next((entry for entry in entries if entry.type == kind), None)


def _production_entries(doc: ProductionDoc, path: str) -> list[ProductionEntry]:
    if doc.production is None:
        raise EnvoyMalformedResponse(path, "production list is missing")
    return doc.production


def _eim(doc: ProductionDoc, path: str, has_production_ct: bool) -> ProductionEntry | None:
    eim = _find(_production_entries(doc, path), "eim")
    # Non-metered Envoys have no eim entry; with a production CT it must be there.
    if eim is None and has_production_ct:
        raise EnvoyMalformedResponse(path, "production eim entry is missing")
    return eim


def system_production(
    doc: ProductionDoc, path: str, has_production_ct: bool
) -> SystemEnergy | None:
    """Return solar production: the eim (CT) entry when active, else the inverters entry.

    With a production CT an inactive eim entry is bogus (FW 5.3.5528+), so None is returned
    rather than silently switching to the differently-valued inverters entry.
    """
    eim = _eim(doc, path, has_production_ct)
    inverters = _find(_production_entries(doc, path), "inverters")
    if inverters is None:
        raise EnvoyMalformedResponse(path, "production inverters entry is missing")
    if has_production_ct and eim is not None and not eim.active_count:
        return None
    source = eim if eim is not None and eim.active_count else inverters
    eim_7d = eim.wh_last_seven_days if eim is not None else None
    eim_today = eim.wh_today if eim is not None else None
    return SystemEnergy(
        watt_hours_lifetime=round(_need(source.wh_lifetime, path, "whLifetime")),
        watt_hours_last_7_days=round(eim_7d or inverters.wh_last_seven_days or 0),
        watt_hours_today=round(eim_today or inverters.wh_today or 0),
        watts_now=round(_need(source.w_now, path, "wNow")),
    )


def _line_energy(line: ProductionLine) -> SystemEnergy:
    return SystemEnergy(
        watt_hours_lifetime=round(line.wh_lifetime or 0),
        watt_hours_last_7_days=round(line.wh_last_seven_days or 0),
        watt_hours_today=round(line.wh_today or 0),
        watts_now=round(line.w_now or 0),
    )


def production_phases(
    doc: ProductionDoc, path: str, has_production_ct: bool, phase_count: int
) -> PhaseEnergy:
    """Return per-phase production from the eim ``lines`` (only for phases that exist)."""
    if phase_count <= 1:
        return {}
    eim = _eim(doc, path, has_production_ct)
    if eim is None or (has_production_ct and not eim.active_count) or not eim.lines:
        return {}
    lines = eim.lines
    return {PHASE_NAMES[i]: _line_energy(lines[i]) for i in range(min(phase_count, len(lines)))}


def _consumption_entry(doc: ProductionDoc, path: str, segment: int) -> ProductionEntry:
    entries = doc.consumption or []
    if segment >= len(entries):
        raise EnvoyMalformedResponse(path, f"consumption[{segment}] is missing")
    return entries[segment]


def _strict_energy(entry: ProductionEntry | ProductionLine, path: str, what: str) -> SystemEnergy:
    return SystemEnergy(
        watt_hours_lifetime=round(_need(entry.wh_lifetime, path, f"{what}.whLifetime")),
        watt_hours_last_7_days=round(
            _need(entry.wh_last_seven_days, path, f"{what}.whLastSevenDays")
        ),
        watt_hours_today=round(_need(entry.wh_today, path, f"{what}.whToday")),
        watts_now=round(_need(entry.w_now, path, f"{what}.wNow")),
    )


def consumption(doc: ProductionDoc, path: str, segment: int) -> SystemEnergy:
    """Return ``consumption[segment]`` (0: total, 1: net; position-based like pyenphase)."""
    return _strict_energy(_consumption_entry(doc, path, segment), path, f"consumption[{segment}]")


def consumption_phases(
    doc: ProductionDoc, path: str, segment: int, phase_count: int
) -> PhaseEnergy:
    """Return per-phase values of ``consumption[segment]`` for the phases that exist."""
    if phase_count <= 1:
        return {}
    lines = _consumption_entry(doc, path, segment).lines or []
    return {
        PHASE_NAMES[i]: _strict_energy(lines[i], path, f"consumption[{segment}].lines[{i}]")
        for i in range(min(phase_count, len(lines)))
    }


def acb_power(doc: ProductionDoc, path: str) -> ACBPower:
    """Return the legacy AC Battery aggregate from ``storage[0]``."""
    if not doc.storage:
        raise EnvoyMalformedResponse(path, "storage[0] is missing")
    acb = doc.storage[0]
    if acb.state is None:
        raise EnvoyMalformedResponse(path, "storage[0].state is missing")
    return ACBPower(
        power=round(_need(acb.w_now, path, "storage[0].wNow")),
        charge_wh=round(_need(acb.wh_now, path, "storage[0].whNow")),
        state_of_charge=round(_need(acb.percent_full, path, "storage[0].percentFull")),
        state=acb.state,
        batteries=round(_need(acb.active_count, path, "storage[0].activeCount")),
    )


def copied_from_net(total: SystemEnergy, net: SystemEnergy) -> bool:
    """Return True when total-consumption carries net-consumption's lifetime and power."""
    return (total.watt_hours_lifetime, total.watts_now) == (net.watt_hours_lifetime, net.watts_now)


def add_production(total: SystemEnergy, production: SystemEnergy) -> None:
    """Turn a net value into a total one: total = net + production (lifetime and power)."""
    total.watt_hours_lifetime += production.watt_hours_lifetime
    total.watts_now += production.watts_now
