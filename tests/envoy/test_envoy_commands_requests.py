"""Every command sends exactly the request the Envoy expects (captured by a real server)."""

from __future__ import annotations

import copy
import logging

import msgspec
import pytest

from envoy2mqtt.envoy import commands
from envoy2mqtt.envoy.command_types import SetDryContact, SetGridRelay, UpdateDryContactSettings
from envoy2mqtt.envoy.errors import EnvoyCommunicationError, EnvoyHTTPStatusError
from envoy2mqtt.envoy.updaters.tariff import SetChargeFromGrid, SetReserveSoc, SetStorageMode
from tests.envoy.test_envoy_commands_support import (
    load_data,
    load_probe,
    raw,
    recorder_and_fetcher,
)

FIXTURE = "7.3.517"  # Enpower, 3 IQ batteries, 4 dry contacts, tariff in backup mode


def _tariff_with(**storage_changes: object) -> dict[str, object]:
    """The fixture's tariff as the Envoy returned it, with some storage settings changed."""
    tariff = copy.deepcopy(raw(FIXTURE, "admin_lib_tariff")["tariff"])
    tariff["storage_settings"].update(storage_changes)
    return {"tariff": tariff}


def _relay_with(relay_id: str, **changes: object) -> dict[str, object]:
    """One relay's settings as the Envoy returned them, with some keys changed."""
    relays = raw(FIXTURE, "ivp_ss_dry_contact_settings")["dry_contacts"]
    relay = copy.deepcopy(next(r for r in relays if r["id"] == relay_id))
    relay.update(changes)
    return {"dry_contacts": relay}


CASES = [
    *[
        pytest.param(
            SetGridRelay(on_grid=on_grid),
            "POST",
            "/ivp/ensemble/relay",
            {"mains_admin_state": state},
            {"ensemble"},
            id=name,
        )
        for on_grid, state, name in ((True, "closed", "grid-on"), (False, "open", "grid-off"))
    ],
    *[
        pytest.param(
            SetDryContact(id=relay, closed=closed),
            "POST",
            "/ivp/ensemble/dry_contacts",
            {"dry_contacts": {"id": relay, "status": status}},
            {"dry_contacts"},
            id=name,
        )
        for relay, closed, status, name in (
            ("NC2", False, "open", "relay-open"),
            ("NO1", True, "closed", "relay-close"),
        )
    ],
    pytest.param(
        UpdateDryContactSettings(
            id="NC1",
            changes={
                "generator_action": "apply",
                "override": False,
                "soc_low": 10,
                "load_name": "Pool pump",
            },
        ),
        "POST",
        "/ivp/ss/dry_contact_settings",
        _relay_with(
            "NC1", gen_action="apply", override="false", soc_low=10.0, load_name="Pool pump"
        ),
        {"dry_contacts"},
        id="relay-settings",
    ),
    pytest.param(
        UpdateDryContactSettings(
            id="NO2",
            changes={
                "grid_action": "schedule",
                "micro_grid_action": "none",
                "manual_override": False,
                "mode": "soc",
                "soc_low": 20.5,
                "soc_high": 95,
            },
        ),
        "POST",
        "/ivp/ss/dry_contact_settings",
        _relay_with(
            "NO2",
            grid_action="schedule",
            micro_grid_action="none",
            manual_override="false",
            mode="soc",
            soc_low=20.5,
            soc_high=95.0,
        ),
        {"dry_contacts"},
        id="relay-settings-all-fields",
    ),
    pytest.param(
        SetStorageMode(mode="self-consumption"),
        "PUT",
        "/admin/lib/tariff",
        _tariff_with(mode="self-consumption"),
        {"tariff"},
        id="storage-mode",
    ),
    pytest.param(
        SetReserveSoc(value=35),
        "PUT",
        "/admin/lib/tariff",
        _tariff_with(reserved_soc=35.0),
        {"tariff"},
        id="reserve-soc",
    ),
    pytest.param(
        SetChargeFromGrid(enabled=False),
        "PUT",
        "/admin/lib/tariff",
        _tariff_with(charge_from_grid=False),
        {"tariff"},
        id="charge-from-grid",
    ),
]


@pytest.mark.parametrize(("command", "method", "path", "body", "groups"), CASES)
async def test_exact_request_is_sent_once(command, method, path, body, groups) -> None:
    data = load_data(FIXTURE)
    before = msgspec.to_builtins(data)
    async with recorder_and_fetcher() as (server, fetcher):
        result = await commands.execute(fetcher, command, load_probe(FIXTURE), data)
    assert result == groups
    assert len(server.requests) == 1
    sent = server.requests[0]
    assert (sent.method, sent.path) == (method, path)
    assert sent.json() == body
    # Key order and float formatting as the Envoy writes them (30.0, not 30).
    assert sent.body == msgspec.json.encode(body)
    # The device is the source of truth: the caller's data is re-read, never patched.
    assert msgspec.to_builtins(data) == before


async def test_reserve_soc_is_a_one_decimal_float_on_the_wire() -> None:
    async with recorder_and_fetcher() as (server, fetcher):
        await commands.execute(
            fetcher, SetReserveSoc(value=0), load_probe(FIXTURE), load_data(FIXTURE)
        )
    assert b'"reserved_soc":0.0,' in server.requests[0].body


@pytest.mark.parametrize("status", [400, 404, 500, 503])
async def test_non_2xx_raises_and_is_not_retried(status: int) -> None:
    data = load_data(FIXTURE)
    before = msgspec.to_builtins(data)
    async with recorder_and_fetcher() as (server, fetcher):
        server.status = status
        server.reply = b'{"error": "bad\nthing"}'
        with pytest.raises(EnvoyHTTPStatusError) as info:
            await commands.execute(fetcher, SetReserveSoc(value=50), load_probe(FIXTURE), data)
    assert info.value.status == status
    assert info.value.path == "/admin/lib/tariff"
    assert str(info.value) == f'HTTP {status} from /admin/lib/tariff: {{"error": "bad thing"}}'
    assert len(server.requests) == 1
    assert msgspec.to_builtins(data) == before


async def test_error_detail_is_bounded() -> None:
    async with recorder_and_fetcher() as (server, fetcher):
        server.status = 400
        server.reply = b"x" * 10_000
        with pytest.raises(EnvoyHTTPStatusError) as info:
            await commands.execute(
                fetcher, SetGridRelay(on_grid=True), load_probe(FIXTURE), load_data(FIXTURE)
            )
    assert len(str(info.value)) < 200


async def test_2xx_other_than_200_is_success() -> None:
    async with recorder_and_fetcher() as (server, fetcher):
        server.status = 204
        server.reply = b""
        groups = await commands.execute(
            fetcher, SetGridRelay(on_grid=False), load_probe(FIXTURE), load_data(FIXTURE)
        )
    assert groups == {"ensemble"}


async def test_transport_error_propagates_from_fetcher() -> None:
    class Failing:
        calls = 0

        async def request(self, method: str, path: str, *, body: bytes | None = None) -> None:
            Failing.calls += 1
            raise EnvoyCommunicationError("connection reset")

    with pytest.raises(EnvoyCommunicationError):
        await commands.execute(
            Failing(), SetGridRelay(on_grid=True), load_probe(FIXTURE), load_data(FIXTURE)
        )
    assert Failing.calls == 1


async def test_write_is_logged_as_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="envoy2mqtt.envoy.commands")
    async with recorder_and_fetcher() as (_, fetcher):
        await commands.execute(
            fetcher, SetDryContact(id="NC1", closed=True), load_probe(FIXTURE), load_data(FIXTURE)
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "envoy2mqtt.envoy.commands"]
    assert lines == [
        "envoy command sent command=dry_contact method=POST "
        "path=/ivp/ensemble/dry_contacts status=200"
    ]
