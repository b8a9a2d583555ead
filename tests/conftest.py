"""Suite-wide setup: offline, single-threaded, no telemetry — before any heavy import; and the one random
tiny checkpoint the suites share."""

from pathlib import Path

import pytest

from medvie.env import apply_defaults

apply_defaults()


@pytest.fixture(scope="session")
def untrained_tiny(tmp_path_factory) -> Path:
    """The smallest tiny Qwen2.5-VL, random weights, saved once for the session (copy it to change it)."""
    from medvie.modeling.processor import PIXELS_PER_TOKEN
    from medvie.modeling.tiny import TinySpec, build_tiny, save_tiny

    model, processor = build_tiny(
        spec=TinySpec.smallest(max_positions=1024),
        min_pixels=4 * PIXELS_PER_TOKEN,
        max_pixels=16 * PIXELS_PER_TOKEN,
    )
    return save_tiny(model, processor, tmp_path_factory.mktemp("untrained") / "tiny")
