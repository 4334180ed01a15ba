"""``envoy2mqtt check-config``: validate the configuration without connecting anywhere."""

from __future__ import annotations

import argparse
import sys

from envoy2mqtt.cmd._common import add_config_argument
from envoy2mqtt.settings import ConfigError, load_settings, summary

NAME = "check-config"
HELP = "validate the configuration file and environment overrides, print a summary"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``--config`` option."""
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Print ``config OK`` and a secret-free summary, or the problems (exit code 1)."""
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print("config OK")
    for line in summary(settings):
        print(f"  {line}")
    return 0
