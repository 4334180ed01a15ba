"""Envoy endpoint paths (as data) and the firmware thresholds that gate them.

Every path the client reads or writes is named here once; which data group reads which
endpoints is declared in :mod:`envoy2mqtt.envoy.groups`.
"""

from __future__ import annotations

from typing import Final

from awesomeversion import AwesomeVersion

METERS: Final = "/ivp/meters"
METERS_READINGS: Final = "/ivp/meters/readings"
PRODUCTION_JSON: Final = "/production.json?details=1"
PRODUCTION: Final = "/production"
PRODUCTION_V1: Final = "/api/v1/production"
INVERTERS_V1: Final = "/api/v1/production/inverters"
DEVICE_DATA: Final = "/ivp/pdm/device_data"
ENSEMBLE_INVENTORY: Final = "/ivp/ensemble/inventory"
ENSEMBLE_POWER: Final = "/ivp/ensemble/power"
ENSEMBLE_SECCTRL: Final = "/ivp/ensemble/secctrl"
DRY_CONTACTS: Final = "/ivp/ensemble/dry_contacts"
DRY_CONTACT_SETTINGS: Final = "/ivp/ss/dry_contact_settings"
GEN_CONFIG: Final = "/ivp/ss/gen_config"
GENERATOR: Final = "/ivp/ensemble/generator"
GEN_SCHEDULE: Final = "/ivp/ss/gen_schedule"
GEN_MODE: Final = "/ivp/ss/gen_mode"
TARIFF: Final = "/admin/lib/tariff"
INVENTORY: Final = "/inventory.json?deleted=1"
INFO: Final = "/info"
HOME: Final = "/home"
LIVEDATA_STATUS: Final = "/ivp/livedata/status"
LIVEDATA_STREAM: Final = "/ivp/livedata/stream"
# Written only.
GRID_RELAY: Final = "/ivp/ensemble/relay"
ACB_CONFIG: Final = "/admin/lib/acb_config"

ENSEMBLE_MIN_VERSION: Final = AwesomeVersion("5.0.0")
"""Ensemble (batteries, system controller, generator) endpoints exist from here on."""
METERED_NOCT_V1_STALLED: Final = AwesomeVersion("8.2.4264")
"""From here ``/api/v1/production`` stalls on metered Envoys without CTs."""
TOTAL_IS_NET_CONSUMPTION: Final = AwesomeVersion("8.3.5433")
"""From here total-consumption may carry the net-consumption numbers."""
STORAGE_CT_ONE_CHANNEL_ZERO: Final = AwesomeVersion("8.3.6000")
"""From here one split-phase storage CT channel may intermittently read all zeros."""
LIVEDATA_MIN_VERSION: Final = AwesomeVersion("7.0.0")
"""Token firmware may offer ``/ivp/livedata/status``; older firmware never does."""
