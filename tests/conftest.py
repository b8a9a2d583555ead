"""Suite-wide setup: offline, single-threaded, no telemetry — before any heavy import."""

from medvie.env import apply_defaults

apply_defaults()
