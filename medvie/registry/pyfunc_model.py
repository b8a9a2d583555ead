"""The registered model, logged as code (`python_model=<this file>`).

Artifacts: `model` (a model directory: checkpoint, or pointer + adapter + base) and `recipe` (JSON,
`medvie.registry.recipe.Recipe`: prompt, OCR, image and generation settings and the schema, as the
model was evaluated). Versions registered before recipes carry `schema` and `settings` instead.
Input: a DataFrame (or records) with an `image` column (path, bytes or base64) and optional `keys`,
`language` and `text_lines` (see `medvie.registry.service`).
Output: one `{"ok", "result", "error", "raw"}` per row; `result` is the extracted JSON.
"""

from __future__ import annotations

import json
from typing import Any

import mlflow
from mlflow.pyfunc import PythonModel

OPTIONAL_COLUMNS = ("keys", "language", "text_lines")


def input_rows(model_input: Any) -> list[dict]:
    """Rows from a DataFrame, a list of dicts / strings, one dict or one string."""
    if hasattr(model_input, "to_dict"):
        return model_input.to_dict(orient="records")
    if isinstance(model_input, dict):
        if isinstance(model_input.get("image"), list):  # column-oriented
            images = model_input["image"]
            rows = [{"image": im} for im in images]
            for col in OPTIONAL_COLUMNS:
                values = model_input.get(col)
                if values is None:
                    continue
                if not isinstance(values, list) or len(values) != len(images):
                    raise ValueError(f"column {col!r}: give one value per image ({len(images)})")
                for row, value in zip(rows, values, strict=True):
                    row[col] = value
            return rows
        return [model_input]
    if isinstance(model_input, (str, bytes)):
        return [{"image": model_input}]
    return [r if isinstance(r, dict) else {"image": r} for r in model_input]


class MedvieExtractor(PythonModel):
    def load_context(self, context) -> None:
        from medvie.env import apply_defaults

        apply_defaults()
        from medvie.registry.service import Extractor

        artifacts = context.artifacts
        if "recipe" in artifacts:
            self.extractor = Extractor.from_recipe(artifacts["model"], artifacts["recipe"])
        else:
            with open(artifacts["settings"], encoding="utf-8") as fh:
                settings = json.load(fh)
            self.extractor = Extractor.from_dir(artifacts["model"], artifacts["schema"], settings)

    def predict(self, context, model_input, params: dict[str, Any] | None = None) -> list[dict]:
        return self.extractor.extract(input_rows(model_input))


mlflow.models.set_model(MedvieExtractor())
