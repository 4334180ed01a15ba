"""Allow ``python -m envoy2mqtt``."""

from envoy2mqtt.cli import main

raise SystemExit(main())
