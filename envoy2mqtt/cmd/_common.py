"""Options shared by several sub-commands (no ``NAME``: not a command itself)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """Add the ``--config FILE`` option every configuration-reading command takes."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config file (default: config.yaml if present, else the environment only)",
    )
