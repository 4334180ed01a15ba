"""The catalogue has every entity of HA's enphase_envoy integration, with the same metadata.

The reference is shared/docs/entity-catalogue.md (§3-§5); its tables are parsed here.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from envoy2mqtt.catalog.registry import ALL_SPECS
from envoy2mqtt.catalog.spec import Category, Component, DeviceKind, EntitySpec

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [
    ROOT.parent / "shared" / "docs" / "entity-catalogue.md",
    Path("/work/shared/docs/entity-catalogue.md"),
]

_SECTION_DEFAULTS: dict[str, tuple[Component, DeviceKind | None]] = {
    "3.1": (Component.SENSOR, DeviceKind.GATEWAY),
    "3.2": (Component.SENSOR, DeviceKind.GATEWAY),
    "3.3": (Component.SENSOR, DeviceKind.GATEWAY),
    "3.4": (Component.SENSOR, DeviceKind.GATEWAY),
    "3.5": (Component.SENSOR, DeviceKind.INVERTER),
    "3.6": (Component.SENSOR, DeviceKind.ENCHARGE),
    "3.7": (Component.SENSOR, DeviceKind.GATEWAY),
    "3.8": (Component.SENSOR, DeviceKind.ENPOWER),
    "3.9": (Component.SENSOR, None),
    "3.10": (Component.SENSOR, DeviceKind.GATEWAY),
    "3.11": (Component.SENSOR, DeviceKind.COLLAR),
    "3.12": (Component.SENSOR, DeviceKind.C6CC),
    "4": (Component.BINARY_SENSOR, None),
    "5.1": (Component.SWITCH, None),
    "5.2": (Component.SELECT, DeviceKind.RELAY),
    "5.3": (Component.NUMBER, None),
}
_DEVICES = {
    "Envoy": DeviceKind.GATEWAY,
    "ACB aggregate": DeviceKind.ACB,
    "Encharge": DeviceKind.ENCHARGE,
    "Enpower": DeviceKind.ENPOWER,
    "IQ Meter Collar": DeviceKind.COLLAR,
    "C6 Combiner": DeviceKind.C6CC,
    "Dry-contact relay": DeviceKind.RELAY,
    "Enpower, else Envoy": DeviceKind.STORAGE_OWNER,
}
_SC = {"M": "measurement", "TI": "total_increasing", "T": "total"}
_HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)[. ]")


def _doc() -> str:
    for path in CANDIDATES:
        if path.exists():
            return path.read_text(encoding="utf-8")
    pytest.skip("shared/docs/entity-catalogue.md not found beside the repository")


def _clean(cell: str) -> str | None:
    text = cell.replace("**", "").replace("`", "").strip()
    text = re.sub(r"\s*\(.*\)$", "", text).strip()  # "— (none set)", "Encharge (each)"
    return None if text in ("—", "") else text


def _tables(doc: str) -> list[tuple[str, dict[str, str]]]:
    rows: list[tuple[str, dict[str, str]]] = []
    section, header = "", None
    for line in doc.splitlines():
        if m := _HEADING.match(line):
            section, header = m.group(1), None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            rows.append((section, dict(zip(header, cells, strict=False))))
    return [(s, r) for s, r in rows if s in _SECTION_DEFAULTS and "key" in r]


def _expected_rows() -> list[tuple[Component, DeviceKind, dict[str, str]]]:
    result = []
    for section, row in _tables(_doc()):
        component, device = _SECTION_DEFAULTS[section]
        if "device" in row:
            device = _DEVICES[_clean(row["device"]) or ""]
        assert device is not None, row
        result.append((component, device, row))
    return result


def _find(component: Component, device: DeviceKind, key: str) -> EntitySpec:
    found = [
        s
        for s in ALL_SPECS
        if (s.key, s.component, s.device) == (key, component, device)
        and s.base_key is None
        and not s.extra
    ]
    assert len(found) == 1, f"{component} {device} {key}: {len(found)} rows in the catalogue"
    return found[0]


def _dc(cell: str | None) -> str | None:
    if cell is None:
        return None
    return "enum" if cell.startswith("enum") else cell


def test_every_reference_row_is_in_the_catalogue_with_the_same_metadata() -> None:
    rows = _expected_rows()
    assert len(rows) == 72 + 6 + 3 + 5 + 3  # the counts of entity-catalogue.md §11
    for component, device, row in rows:
        key = _clean(row["key"]) or ""
        spec = _find(component, device, key)
        where = f"{component}/{device}/{key}"
        assert spec.device_class == _dc(_clean(row.get("DC", "—"))), where
        if "SC" in row:
            sc = _clean(row["SC"])
            assert spec.state_class == (_SC[sc] if sc else None), where
        assert spec.unit == _clean(row.get("unit", "—")), where
        assert spec.suggested_unit == _clean(row.get("Sugg", "—")), where
        prec = _clean(row.get("Prec", "—"))
        assert spec.precision == (int(prec) if prec else None), where
        cat = {"D": Category.DIAGNOSTIC, "C": Category.CONFIG, None: None}[
            _clean(row.get("Cat", "—"))
        ]
        assert spec.category == cat, where
        assert spec.enabled == (_clean(row.get("En", "yes")) == "yes"), where


def test_counts_match_the_reference_summary() -> None:
    ha = [s for s in ALL_SPECS if not s.extra]
    base = Counter(s.component for s in ha if s.base_key is None)
    assert base == {
        Component.SENSOR: 72,
        Component.BINARY_SENSOR: 6,
        Component.SWITCH: 3,
        Component.SELECT: 5,
        Component.NUMBER: 3,
    }
    phases = [s for s in ha if s.base_key is not None]
    assert len(phases) == 102
    assert not any(s.enabled for s in phases)
    assert {s.key.rsplit("_", 1)[1] for s in phases} == {"l1", "l2", "l3"}
    disabled = [s for s in ha if s.base_key is None and not s.enabled]
    assert len(disabled) == 2 + 18 + 12  # balanced net, CT, inverter (§11)


def test_extras_are_marked_and_keys_unique_per_device() -> None:
    seen = Counter((s.device, s.key) for s in ALL_SPECS)
    assert [k for k, n in seen.items() if n > 1] == []
    extras = {s.key for s in ALL_SPECS if s.extra}
    assert {"firmware", "total_consumption_ct_power", "generator_oper_state"} <= extras
