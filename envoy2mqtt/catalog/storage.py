"""Battery storage settings (HA §5.1-5.3): topic ``storage``, from the ``tariff`` data group.

The controls sit on the Enpower when there is one, else on the gateway, as in HA. There
the reserve number would share its key with the Encharge-aggregate ``reserve_soc``
sensor, so its ids use ``reserve_soc_number``.
"""

from __future__ import annotations

from dataclasses import replace

from envoy2mqtt.catalog.controls import CHARGE_FROM_GRID, RESERVE_SOC, STORAGE_MODE, STORAGE_MODES
from envoy2mqtt.catalog.spec import Component, DeviceKind, EntitySpec

_BASE = EntitySpec(key="", component=Component.SWITCH, device=DeviceKind.STORAGE_OWNER,
                   topic="storage", value="", condition=CHARGE_FROM_GRID.requirement)  # fmt: skip

SPECS: tuple[EntitySpec, ...] = (
    replace(_BASE, key="charge_from_grid", value="charge_from_grid", name="Charge from grid",
            control=CHARGE_FROM_GRID),
    replace(_BASE, key="storage_mode", component=Component.SELECT, value="mode",
            name="Storage mode", options=tuple(STORAGE_MODES), control=STORAGE_MODE),
    replace(_BASE, key="reserve_soc", component=Component.NUMBER, value="reserved_soc",
            name="Reserve battery level", device_class="battery", unit="%",
            control=RESERVE_SOC, object_key="reserve_soc_number"),
)  # fmt: skip
