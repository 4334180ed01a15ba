"""Every option of every command is shown in ``--help``; nothing is hidden."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from envoy2mqtt.cli import build_parser


def walk(
    parser: argparse.ArgumentParser, path: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The parser and every sub-command parser below it, with the command path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, f"{path} {name}")


PARSERS = dict(walk(build_parser()[0], "envoy2mqtt"))


def test_the_tree_has_every_command() -> None:
    names = {path.split()[-1] for path in PARSERS if " " in path}
    assert {"run", "check-config", "probe", "dump", "simulate", "demo"} <= names


@pytest.mark.parametrize("path", sorted(PARSERS))
def test_no_option_is_suppressed_and_each_is_in_the_help_text(path: str) -> None:
    parser = PARSERS[path]
    text = parser.format_help()
    hidden = [
        "/".join(action.option_strings) or action.dest
        for action in parser._actions
        if action.help == argparse.SUPPRESS
    ]
    assert hidden == [], f"{path}: hidden from --help: {hidden}"
    for action in parser._actions:
        for option in action.option_strings:
            assert option in text, f"{path}: {option} missing from --help"
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            assert (action.metavar or action.dest) in text
        if action.option_strings and action.help is None and action.dest != "help":
            pytest.fail(f"{path}: {action.option_strings[0]} has no help text")
