"""docs/entities.md is generated from the catalogue and must be current."""

from __future__ import annotations

from pathlib import Path

import pytest

from envoy2mqtt.catalog import docgen
from envoy2mqtt.catalog.registry import ALL_SPECS


def test_committed_doc_is_up_to_date() -> None:
    assert docgen.DOC_PATH.read_text(encoding="utf-8") == docgen.render(), (
        "docs/entities.md is stale: run python -m envoy2mqtt.catalog.docgen --write"
    )
    assert docgen.main(["--check"]) == 0


def test_doc_lists_every_base_row_and_control() -> None:
    text = docgen.render()
    for spec in ALL_SPECS:
        if spec.base_key is None:
            assert f"| `{spec.key}` | {spec.component.value} | {spec.device.value} |" in text
    for control in ("grid_relay", "dry_contact_settings", "storage_mode", "reserve_soc"):
        assert f"| `{control}` |" in text


def test_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "entities.md"
    stale.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(docgen, "DOC_PATH", stale)
    assert docgen.main(["--check"]) == 1
    assert docgen.main(["--write"]) == 0
    assert docgen.main(["--check"]) == 0
