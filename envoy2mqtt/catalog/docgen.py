"""Render ``docs/entities.md`` from the catalogue (``python -m envoy2mqtt.catalog.docgen``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from envoy2mqtt.catalog.controls import CONTROLS
from envoy2mqtt.catalog.registry import DOMAINS
from envoy2mqtt.catalog.spec import (
    BoolSchema,
    EntitySpec,
    EnumSchema,
    IntRangeSchema,
    PayloadSchema,
)

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "entities.md"

_INTRO = """\
# Entities (generated)

Generated from `envoy2mqtt/catalog/` by `python -m envoy2mqtt.catalog.docgen --write`;
do not edit by hand (a test fails when this file and the catalogue disagree).

* One row per entity description. Devices with many members (inverters, batteries,
  relays) get every row of their table once per member.
* **topic** is the state topic `<base>/<sn>/<topic>` (`{id}` = sanitised serial or relay
  id); **value** is the JSON key in that payload. Phase variants read
  `phases.<l1|l2|l3>.<value>` of the same payload.
* Every value template is exactly `{{ value_json.<value> }}` (phase variants:
  `{{ value_json.phases.<phase>.<value> }}`), so any template engine renders it (Home
  Assistant's Jinja2, openHAB's Jinjava or its port of HA's template code). The payload
  always has the key: `null` when the Envoy did not report the value (Home Assistant
  shows *unknown*). Where Home Assistant's state is not the Envoy's raw value, the
  payload carries the converted value under its own key next to the raw one (the note
  after the key: timestamps as ISO 8601, milli-units as units, a count of flags). Binary
  sensors and switches compare the JSON value with `payload_on`/`payload_off`
  (`state_on`/`state_off`), given as the same JSON values (`true`/`false`, or
  `closed`/`open` for relays).
* Selects read the command word (the option name); the Envoy's own word is beside it as
  `envoy_<value>` (`storage.envoy_mode` = `self-consumption` while `storage.mode` =
  `self_consumption`). A control's `/set` takes every value its state shows, verbatim.
* `unique_id` = `<sn>_<device>_<key>` where `<device>` is `envoy`, `inverter_<sn>`,
  `encharge_<sn>`, `enpower_<sn>`, `relay_<id>`, `collar_<sn>`, `c6cc_<sn>` or `acb`
  (all sanitised). Storage controls belong to the Enpower when there is one, else to
  the gateway, as in Home Assistant's own integration; on a system with an Enpower they
  are announced once its data has arrived, never first on the gateway (a component that
  moves between devices is a removal plus a new entity to Home Assistant).
* **prec** is HA's suggested display precision in the **sugg** unit; MQTT sensors cannot
  suggest a unit, so discovery sends the precision converted to the native unit
  (3 decimals of kW = 0 decimals of W).
* Columns: DC device class, SC state class, cat entity category, en enabled by default,
  extra = not in HA's `enphase_envoy` (our addition). Controls whose `controls.*` flag is
  off get no entity; the grid relay and dry contacts are off by default.
"""

_HEADER = (
    "| key | platform | device | topic | value | name | DC | SC | unit | sugg | prec "
    "| cat | en | extra | created when |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def _cell(value: object) -> str:
    if value is None or value == "":
        return "—"
    return str(value).replace("|", "\\|")


def _value(spec: EntitySpec) -> str:
    if spec.derived is None:
        return f"`{spec.value}`"
    return f"`{spec.value}` = {spec.derived.doc}"


def _row(spec: EntitySpec) -> str:
    name = "(device name)" if spec.device_name_only else spec.name or f"({spec.device_class})"
    cells = (
        f"`{spec.key}`", spec.component.value, spec.device.value, f"`{spec.topic}`",
        _value(spec), name, spec.device_class, spec.state_class, spec.unit,
        spec.suggested_unit, spec.precision, spec.category.value if spec.category else None,
        "yes" if spec.enabled else "no", "yes" if spec.extra else "", spec.condition.doc,
    )  # fmt: skip
    return "| " + " | ".join(_cell(c) for c in cells) + " |\n"


def _domain(name: str, specs: Sequence[EntitySpec]) -> str:
    base = [s for s in specs if s.base_key is None]
    phased = [s for s in specs if s.base_key is not None]
    text = f"\n## {name}\n\n" + _HEADER + "".join(_row(s) for s in base)
    if phased:
        keys = sorted({s.base_key for s in phased if s.base_key is not None})
        text += (
            f"\nPhase variants ({len(phased)}, disabled by default): `<key>_l1`…`_l3` for "
            + ", ".join(f"`{k}`" for k in keys)
            + "; created per phase present in the data.\n"
        )
    return text


def _schema(schema: PayloadSchema) -> str:
    if isinstance(schema, BoolSchema):
        words = f", {schema.words[0]}/{schema.words[1]}" if schema.words else ""
        return f"ON/OFF, true/false{words}, 1/0 (any case)"
    if isinstance(schema, EnumSchema):
        return ", ".join(f"`{ha}` (Envoy `{envoy}`)" for ha, envoy in schema.mapping.items())
    if isinstance(schema, IntRangeSchema):
        return f"integer {schema.minimum} to {schema.maximum}"
    return (
        "JSON object: subset of mode, grid/microgrid/generator action, soc_low/high, "
        "load_name, override"
    )


def _controls() -> str:
    text = "\n## Controls (`<base>/<sn>/<topic>/set`)\n\n"
    text += "| control | topic | payload | config flag | dangerous | requires |\n"
    text += "|---|---|---|---|---|---|\n"
    for spec in CONTROLS.values():
        cells = (
            f"`{spec.name}`", f"`{spec.topic}`", _schema(spec.schema),
            f"`controls.{spec.flag.value}`", "yes" if spec.dangerous else "no",
            spec.requirement.doc,
        )  # fmt: skip
        text += "| " + " | ".join(_cell(c) for c in cells) + " |\n"
    return text


def render() -> str:
    """Return the full Markdown document."""
    body = "".join(_domain(name, specs) for name, specs in DOMAINS.items())
    return _INTRO + body + _controls()


def main(argv: Sequence[str] | None = None) -> int:
    """Print the document, write it (``--write``) or check it is current (``--check``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"write {DOC_PATH}")
    group.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC_PATH.write_text(text, encoding="utf-8")
    elif args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        return 0 if current == text else 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
