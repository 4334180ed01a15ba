"""The legacy (FW 3.x) HTML production page parser."""

from __future__ import annotations

import pytest

from envoy2mqtt.envoy.models.data import SystemEnergy
from envoy2mqtt.envoy.updaters.legacy_html import parse_production_page

PAGE = b"""<h1>System Energy Production</h1><table>
<tr><td>Currently</td><td> 950 W</td></tr><tr><td>Today</td><td> 1.25 kWh</td></tr>
<tr><td>Past Week</td><td>  87.5 kWh</td></tr><tr><td>Since Installation</td><td> 1.5 MWh</td></tr>
</table>"""


def test_units_are_scaled_to_watts_and_watt_hours() -> None:
    assert parse_production_page(PAGE) == SystemEnergy(
        watts_now=950,
        watt_hours_today=1250,
        watt_hours_last_7_days=87500,
        watt_hours_lifetime=1500000,
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>Page Not Found</body></html>",
        PAGE.replace(b"Past Week", b"Last Week"),  # a figure is missing
        PAGE.replace(b"1.25 kWh", b"1.25 kW"),  # energy given as power
        PAGE.replace(b"950 W", b"lots"),
        PAGE + b" " * (300 * 1024),  # oversized
    ],
    ids=["empty", "404-page", "missing-label", "wrong-unit", "not-a-number", "oversized"],
)
def test_pages_without_the_four_figures_give_none(body: bytes) -> None:
    assert parse_production_page(body) is None


def test_entities_and_scripts_are_inert() -> None:
    page = PAGE.replace(b"<h1>", b"<script>alert(1)</script><h1>&lt;&amp;")
    result = parse_production_page(page)
    assert result is not None
    assert result.watts_now == 950
