"""Environment defaults for every flow module, applied before Prefect is imported.

Offline, no telemetry, MLflow URIs of this project (`medvie.env.apply_defaults`), and Prefect's
state kept in the project's `.prefect/` unless PREFECT_HOME is set: Prefect reads its settings
once, at import. A module of its own (not the package `__init__`) because an editable install
made before `flows/__init__.py` existed maps `flows` as a namespace package, skipping it.
"""

from __future__ import annotations

import os

from medvie.env import apply_defaults, project_root

apply_defaults()
os.environ.setdefault("PREFECT_HOME", str(project_root() / ".prefect"))
