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


def _eim_and_inverters(
    doc: ProductionDoc, path: str, has_production_ct: bool
) -> tuple[ProductionEntry | None, ProductionEntry | None]:
    """Return the first ``eim`` and the first ``inverters`` entry of the production list."""
    entries = doc.production
    if entries is None:
        raise EnvoyMalformedResponse(path, "production list is missing")
    eim = inverters = None
    for entry in entries:
        kind = entry.type
        if kind == "eim":
            if eim is None:
                eim = entry
        elif kind == "inverters" and inverters is None:
            inverters = entry
    # Non-metered Envoys have no eim entry; with a production CT it must be there.
    if eim is None and has_production_ct:
        raise EnvoyMalformedResponse(path, "production eim entry is missing")
    return eim, inverters


def system_production(
    doc: ProductionDoc, path: str, has_production_ct: bool, phase_count: int
) -> tuple[SystemEnergy | None, PhaseEnergy]:
    """Return solar production and its phases (the eim ``lines``, for phases that exist).

    Production is the eim (CT) entry when active, else the inverters entry. With a production
    CT an inactive eim entry is bogus (FW 5.3.5528+), so None (and no phases) is returned
    rather than silently switching to the differently-valued inverters entry.
    """
    eim, inverters = _eim_and_inverters(doc, path, has_production_ct)
    if inverters is None:
        raise EnvoyMalformedResponse(path, "production inverters entry is missing")
    eim_active = eim is not None and bool(eim.active_count)
    if has_production_ct and eim is not None and not eim_active:
        return None, {}
    source = eim if eim is not None and eim_active else inverters
    eim_7d = eim.wh_last_seven_days if eim is not None else None
    eim_today = eim.wh_today if eim is not None else None
    lifetime = round(_need(source.wh_lifetime, path, "whLifetime"))
    last_7_days = round(eim_7d or inverters.wh_last_seven_days or 0)
    today = round(eim_today or inverters.wh_today or 0)
    energy = SystemEnergy(
        watt_hours_lifetime=lifetime,
        watt_hours_last_7_days=last_7_days,
        watt_hours_today=today,
        watts_now=round(_need(source.w_now, path, "wNow")),
    )
    if phase_count <= 1 or eim is None or not eim.lines:
        return energy, {}
    lines = eim.lines
    return energy, {
        PHASE_NAMES[i]: _line_energy(lines[i]) for i in range(min(phase_count, len(lines)))
    }


def _line_energy(line: ProductionLine) -> SystemEnergy:
    return SystemEnergy(
        watt_hours_lifetime=round(line.wh_lifetime or 0),
        watt_hours_last_7_days=round(line.wh_last_seven_days or 0),
        watt_hours_today=round(line.wh_today or 0),
        watts_now=round(line.w_now or 0),
    )


def _strict_energy(
    entry: ProductionEntry | ProductionLine, path: str, segment: int, line: int | None = None
) -> SystemEnergy:
    """Every value is required; the error names the first missing one (built only then)."""
    value = entry.wh_lifetime
    if value is None:
        raise _missing(path, segment, line, "whLifetime")
    lifetime = round(value)
    value = entry.wh_last_seven_days
    if value is None:
        raise _missing(path, segment, line, "whLastSevenDays")
    last_7_days = round(value)
    value = entry.wh_today
    if value is None:
        raise _missing(path, segment, line, "whToday")
    today = round(value)
    value = entry.w_now
    if value is None:
        raise _missing(path, segment, line, "wNow")
    return SystemEnergy(
        watt_hours_lifetime=lifetime,
        watt_hours_last_7_days=last_7_days,
        watt_hours_today=today,
        watts_now=round(value),
    )


def _missing(path: str, segment: int, line: int | None, key: str) -> EnvoyMalformedResponse:
    where = f"consumption[{segment}]" if line is None else f"consumption[{segment}].lines[{line}]"
    return EnvoyMalformedResponse(path, f"{where}.{key} is missing")


def consumption(
    doc: ProductionDoc, path: str, phase_count: int
) -> tuple[SystemEnergy, SystemEnergy, PhaseEnergy, PhaseEnergy]:
    """Return total and net consumption with their phases (phases only where they exist).

    ``consumption[0]`` is total and ``consumption[1]`` net: position-based like pyenphase.
    """
    entries = doc.consumption or []
    count = len(entries)
    if count < 1:
        raise EnvoyMalformedResponse(path, "consumption[0] is missing")
    total = _strict_energy(entries[0], path, 0)
    if count < 2:
        raise EnvoyMalformedResponse(path, "consumption[1] is missing")
    net = _strict_energy(entries[1], path, 1)
    if phase_count <= 1:
        return total, net, {}, {}
    return (
        total,
        net,
        _phases(entries[0], path, 0, phase_count),
        _phases(entries[1], path, 1, phase_count),
    )


def _phases(entry: ProductionEntry, path: str, segment: int, phase_count: int) -> PhaseEnergy:
    lines = entry.lines or []
    return {
        PHASE_NAMES[i]: _strict_energy(lines[i], path, segment, i)
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
