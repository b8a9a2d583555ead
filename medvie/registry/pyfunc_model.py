"""The registered model, logged as code (`python_model=<this file>`).

Artifacts: `model` (a model directory: checkpoint, or pointer + adapter + base), `schema` (the
schema file) and `settings` (JSON: thinking, key_language, max_new_tokens, batch_size, params).
Input: a DataFrame (or records) with an `image` column (path, bytes or base64) and optional `keys`.
Output: one `{"ok", "result", "error", "raw"}` per row; `result` is the extracted JSON.
"""

from __future__ import annotations

import json
from typing import Any

import mlflow
from mlflow.pyfunc import PythonModel


def input_rows(model_input: Any) -> list[dict]:
    """Rows from a DataFrame, a list of dicts / strings, one dict or one string."""
    if hasattr(model_input, "to_dict"):
        return model_input.to_dict(orient="records")
    if isinstance(model_input, dict):
        if isinstance(model_input.get("image"), list):  # column-oriented
            n = len(model_input["image"])
            keys = model_input.get("keys") or [None] * n
            return [{"image": im, "keys": k} for im, k in zip(model_input["image"], keys)]
        return [model_input]
    if isinstance(model_input, (str, bytes)):
        return [{"image": model_input}]
    return [r if isinstance(r, dict) else {"image": r} for r in model_input]


class MedvieExtractor(PythonModel):
    def load_context(self, context) -> None:
        from medvie.env import apply_defaults
        from medvie.registry.service import Extractor

        apply_defaults()
        with open(context.artifacts["settings"], encoding="utf-8") as fh:
            settings = json.load(fh)
        self.extractor = Extractor.from_dir(context.artifacts["model"], context.artifacts["schema"], settings)

    def predict(self, context, model_input, params: dict[str, Any] | None = None) -> list[dict]:
        return self.extractor.extract(input_rows(model_input))


mlflow.models.set_model(MedvieExtractor())
