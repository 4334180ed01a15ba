"""Command line entry point; each sub-command lives in its own module under ``envoy2mqtt.cmd``.

A sub-command module exposes ``NAME: str``, ``HELP: str``, ``configure(parser)`` and
``run(args) -> int``; modules are discovered, so adding a command touches no shared file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Sequence
from types import ModuleType

from envoy2mqtt import __version__, cmd


def _commands() -> list[ModuleType]:
    found = []
    for info in sorted(pkgutil.iter_modules(cmd.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{cmd.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found.append(module)
    return found


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """Build the argument parser with every discovered sub-command."""
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
    for module in _commands():
        sp = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(sp)
        modules[module.NAME] = module
    return parser, modules


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the process exit code."""
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    result: int = modules[args.command].run(args)
    return result
