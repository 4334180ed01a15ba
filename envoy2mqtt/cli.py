"""Command line entry point; each sub-command lives in its own module under ``envoy2mqtt.cmd``.

A sub-command module exposes ``NAME: str``, ``HELP: str``, ``configure(parser)`` and
``run(args) -> int``; modules are discovered, so adding a command touches no shared file.
When the command line names a sub-command, only that module is imported: ``run`` then never
loads the simulator, the embedded broker or YAML writers the other commands need.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from envoy2mqtt import __version__, cmd


def _commands(only: str | None = None) -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(cmd.__path__))
    if only is not None and only.replace("-", "_") in names:
        module = importlib.import_module(f"{cmd.__name__}.{only.replace('-', '_')}")
        if getattr(module, "NAME", None) == only and hasattr(module, "run"):
            return [module]
    found = []
    for name in names:
        module = importlib.import_module(f"{cmd.__name__}.{name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found.append(module)
    return found


def _named_command(argv: Sequence[str]) -> str | None:
    """The first word that is not a global option (a guess: a wrong one loads every command)."""
    words = iter(argv)
    for word in words:
        if word == "--log-level":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(
    only: str | None = None,
) -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """Build the argument parser with every discovered sub-command (or just ``only``)."""
    parser = argparse.ArgumentParser(
        prog="envoy2mqtt",
        description="Enphase Envoy / IQ Gateway to MQTT bridge with Home Assistant discovery.",
    )
    parser.add_argument("--version", action="version", version=f"envoy2mqtt {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (debug shows each HTTP call and publish, secrets redacted)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, ModuleType] = {}
    for module in _commands(only):
        sp = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(sp)
        modules[module.NAME] = module
    return parser, modules


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the process exit code."""
    words = sys.argv[1:] if argv is None else argv
    parser, modules = build_parser(_named_command(words))
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return 2
    result: int = modules[args.command].run(args)
    return result
