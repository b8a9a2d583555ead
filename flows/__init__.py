"""Prefect flows and deployments that drive the DVC pipeline; nothing in `medvie` imports them."""

from flows import _setup  # noqa: F401
