"""A synthetic but realistic day of Envoy readings, derived from one fixture's data model.

The profile (all deterministic for a given seed):

* PV: zero from sunset to sunrise (06:30-19:30 UTC by default); by day a sine-shaped curve
  with clouds that change every 2-10 minutes; the peak is what the inverters can deliver.
* House load: a flat base load at night with a fridge/heat-pump cycle (a step up for 15
  minutes every 45 minutes, otherwise constant - the "mostly-flat night"); by day steps every
  1-5 minutes, an evening peak 18:00-22:00 with a step every minute.
* Meters report a fresh ``timestamp`` every reading (as real CT meters do); voltage rises with
  export and is otherwise constant (so it does not change at night).
* Inverters report every 5 minutes while producing and keep their last report at night.
* Batteries (if present) charge from PV surplus and discharge to cover the load down to the
  reserve; their ensemble devices report every 15 minutes.
* Energy counters integrate the powers; tariff, dry contacts, generator and inventory
  configuration never change during the day.

Everything works on the JSON-like builtins of ``EnvoyData`` (``msgspec.to_builtins``) so the
generator does not depend on the model's Python classes.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, field
from typing import Any

DAY_SECONDS = 86_400
DAY_START_EPOCH = 1_782_000_000 - (1_782_000_000 % DAY_SECONDS)  # a midsummer-ish UTC midnight
INVERTER_REPORT_S = 300
ENSEMBLE_REPORT_S = 900


def _phase_keys(block: dict[str, Any] | None) -> list[str]:
    return [k for k, v in (block or {}).items() if v is not None]


@dataclass
class _Steps:
    """A value that changes only at random step times (piecewise constant)."""

    rng: random.Random
    low: float
    high: float
    min_s: int
    max_s: int
    value: float = 0.0
    next_change: float = -1.0

    def at(self, t: float) -> float:
        if t >= self.next_change:
            self.value = self.rng.uniform(self.low, self.high)
            self.next_change = t + self.rng.randint(self.min_s, self.max_s)
        return self.value


@dataclass
class DayProfile:
    """Generates the "true" device state at time ``t`` (seconds after midnight)."""

    base: dict[str, Any]
    seed: int = 1
    sunrise_s: int = 6 * 3600 + 1800
    sunset_s: int = 19 * 3600 + 1800
    _rng: random.Random = field(init=False)
    _clouds: _Steps = field(init=False)
    _day_load: _Steps = field(init=False)
    _evening_load: _Steps = field(init=False)
    _state: dict[str, Any] = field(init=False)
    _last_t: float = field(init=False, default=0.0)
    _pv_peak_w: float = field(init=False)
    _soc: float = field(init=False, default=0.0)
    _energy: dict[tuple[int, str], float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # not crypto: a reproducible weather
        self._clouds = _Steps(self._rng, 0.35, 1.0, 120, 600)
        self._day_load = _Steps(self._rng, 300.0, 900.0, 60, 300)
        self._evening_load = _Steps(self._rng, 800.0, 2200.0, 60, 60)
        self._state = copy.deepcopy(self.base)
        inverters = self._state.get("inverters") or {}
        peak = sum(float(i.get("max_report_watts") or 300) for i in inverters.values())
        self._pv_peak_w = 0.85 * (peak or 3000.0)
        agg = self._state.get("encharge_aggregate")
        self._soc = float(agg["state_of_charge"]) if agg else 0.0
        self._reset_today()

    # ------------------------------------------------------------------ power curves

    def pv_watts(self, t: float) -> int:
        """PV production at ``t``: zero at night, a clouded sine by day."""
        if not self.sunrise_s < t < self.sunset_s:
            return 0
        x = (t - self.sunrise_s) / (self.sunset_s - self.sunrise_s)
        return int(self._pv_peak_w * math.sin(math.pi * x) ** 1.5 * self._clouds.at(t))

    def load_watts(self, t: float) -> int:
        """House load at ``t``: flat base + cycling appliance at night, steps by day."""
        hour = t / 3600
        if 18 <= hour < 22:
            return int(self._evening_load.at(t))
        if 7 <= hour < 18:
            return int(self._day_load.at(t))
        cycle_on = (int(t) // 900) % 3 == 0  # 15 min on, 30 min off
        return 250 + (120 if cycle_on else 0)

    # ------------------------------------------------------------------ state update

    def _reset_today(self) -> None:
        for key in ("system_production", "system_consumption", "system_net_consumption"):
            if self._state.get(key):
                self._state[key]["watt_hours_today"] = 0

    def advance(self, t: float) -> dict[str, Any]:
        """Move the device to time ``t`` (monotonic) and return its full state (a copy)."""
        dt = max(0.0, t - self._last_t)
        self._last_t = t
        pv, load = self.pv_watts(t), self.load_watts(t)
        battery_w = self._battery(pv, load, dt)  # + = discharging into the house
        epoch = DAY_START_EPOCH + int(t)
        self._systems(pv, load, dt)
        self._meters(pv, load, battery_w, dt, epoch)
        if pv > 0 and int(t) % INVERTER_REPORT_S == 0:
            self._inverters(pv, epoch)
        if int(t) % ENSEMBLE_REPORT_S == 0:
            self._ensemble_reports(epoch)
        return copy.deepcopy(self._state)

    def _battery(self, pv: int, load: int, dt: float) -> int:
        agg = self._state.get("encharge_aggregate")
        if not agg:
            return 0
        capacity_wh = float(agg.get("max_available_capacity") or 3500)
        reserve = float(agg.get("reserve_state_of_charge") or 0)
        want = load - pv  # >0: the house needs power
        if (want > 0 and self._soc <= reserve) or (want < 0 and self._soc >= 100):
            power = 0
        else:
            power = max(-3840, min(3840, want))
        self._soc = min(100.0, max(reserve, self._soc - power * dt / 3600 / capacity_wh * 100))
        soc = round(self._soc)
        agg["state_of_charge"] = soc
        agg["available_energy"] = int(capacity_wh * soc / 100)
        powers = self._state.get("encharge_power") or {}
        for item in powers.values():
            item["soc"] = soc
            item["real_power_mw"] = power * 1000 // max(1, len(powers))
            item["apparent_power_mva"] = abs(item["real_power_mw"])
        for item in (self._state.get("encharge_inventory") or {}).values():
            item["percent_full"] = soc
        return power

    def _add_energy(self, container: dict[str, Any], key: str, wh: float) -> None:
        """Integrate ``wh`` into an integer counter without losing the fractions."""
        slot = (id(container), key)
        total = self._energy.get(slot, float(container[key])) + wh
        self._energy[slot] = total
        container[key] = int(total)

    def _systems(self, pv: int, load: int, dt: float) -> None:
        net = load - pv
        for key, watts in (
            ("system_production", pv),
            ("system_consumption", load),
            ("system_net_consumption", net),
        ):
            block = self._state.get(key)
            if not block:
                continue
            wh = max(0.0, watts * dt / 3600)
            block["watts_now"] = watts
            for counter in ("watt_hours_today", "watt_hours_last_7_days", "watt_hours_lifetime"):
                self._add_energy(block, counter, wh)
            phases = self._state.get(f"{key}_phases")
            keys = _phase_keys(phases)
            for phase in keys:
                assert phases is not None
                phases[phase]["watts_now"] = watts // len(keys)

    def _meter(self, meter: dict[str, Any], watts: int, dt: float, epoch: int, share: int) -> None:
        watts //= share
        meter["timestamp"] = epoch
        meter["active_power"] = watts
        base_v = float(meter.get("voltage") or 230.0)
        # Export lifts the local voltage a little; at night it stays where it is.
        volts = round(base_v + (0.002 * -watts if watts < 0 else 0.0), 1)
        meter["current"] = round(abs(watts) / volts, 3) if volts else 0.0
        side = "energy_delivered" if watts >= 0 else "energy_received"
        self._add_energy(meter, side, abs(watts) * dt / 3600)

    def _meters(self, pv: int, load: int, battery: int, dt: float, epoch: int) -> None:
        powers = {
            "production": pv,
            "net-consumption": load - pv - battery,
            "total-consumption": load,
            "storage": battery,
        }
        ctmeters = self._state.get("ctmeters") or {}
        for ct, meter in ctmeters.items():
            if meter is None or ct not in powers:
                continue
            self._meter(meter, powers[ct], dt, epoch, 1)
            phases = (self._state.get("ctmeters_phases") or {}).get(ct) or {}
            keys = _phase_keys(phases)
            for phase in keys:
                self._meter(phases[phase], powers[ct], dt, epoch, len(keys))
        # The per-role attributes mirror the ctmeters entries.
        roles = (("production", "production"), ("consumption", None), ("storage", "storage"))
        for role, ct_name in roles:
            ct = ct_name or next((c for c in ctmeters if "consumption" in c), None)
            if ct and self._state.get(f"ctmeter_{role}") is not None:
                self._state[f"ctmeter_{role}"] = ctmeters.get(ct)
                ph = (self._state.get("ctmeters_phases") or {}).get(ct)
                if self._state.get(f"ctmeter_{role}_phases") is not None:
                    self._state[f"ctmeter_{role}_phases"] = ph

    def _inverters(self, pv: int, epoch: int) -> None:
        inverters = self._state.get("inverters") or {}
        if not inverters:
            return
        each = pv / len(inverters)
        for inv in inverters.values():
            watts = min(
                int(inv.get("max_report_watts") or each), int(each * self._rng.uniform(0.9, 1.1))
            )
            inv["last_report_date"] = epoch
            inv["last_report_watts"] = watts
            if inv.get("lifetime_energy") is not None:
                inv["lifetime_energy"] = (
                    int(inv["lifetime_energy"]) + watts * INVERTER_REPORT_S // 3600
                )
            if inv.get("energy_today") is not None:
                inv["energy_today"] = int(inv["energy_today"]) + watts * INVERTER_REPORT_S // 3600
            if inv.get("dc_voltage") is not None:
                inv["dc_voltage"] = round(30.0 + 10.0 * watts / max(1.0, each or 1.0), 3)
                inv["dc_current"] = round(watts / max(1.0, inv["dc_voltage"]), 3)
            if inv.get("ac_current") is not None and inv.get("ac_voltage"):
                inv["ac_current"] = round(watts / float(inv["ac_voltage"]), 3)

    def _ensemble_reports(self, epoch: int) -> None:
        for key in ("encharge_inventory",):
            for item in (self._state.get(key) or {}).values():
                item["last_report_date"] = epoch
        for key in ("enpower", "collar", "c6cc"):
            item = self._state.get(key)
            if item and "last_report_date" in item:
                item["last_report_date"] = epoch
