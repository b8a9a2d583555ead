"""Things that answer evaluation queries: a model directory, or the OCR + rules baseline.

A predictor takes query rows (see `medvie.evaluation.evaluate.load_eval_queries`) and returns one
prediction per row: a completion string, or a dict for readers that produce JSON directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from medvie.errors import ConfigError, DataError, MedvieError
from medvie.evaluation.config import EvaluateConfig, GenerationSettings
from medvie.log import progress

Predictor = Callable[[Sequence[dict]], list[Any]]


def open_image(path: str | Path):
    """Open an image as RGB; a missing or unreadable file is a DataError naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"{path}: image not found; re-run the queries stage") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: unreadable image ({exc.__class__.__name__}); replace or drop it") from None


class ModelPredictor:
    """Batched generation with a model directory (HF checkpoint or medvie_model.json), loaded on `device` in
    `dtype`, decoding with `generation` (evaluate.generation; default: greedy) and never with the
    checkpoint's own generation_config.

    The model loads on first use (or `load()`); it pickles as its directory and settings, so a worker
    process of the evaluate stage loads its own copy."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        device: str = "cpu",
        max_new_tokens: int = 512,
        batch_size: int = 8,
        dtype: str = "auto",
        generation: GenerationSettings | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        if not self.model_dir.exists():
            raise MedvieError(
                f"{self.model_dir}: model directory not found; run its stage or drop it from evaluate.models"
            )
        if str(device).startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(
                    f"evaluate.device is {device} but this machine has no GPU; set evaluate.device: cpu "
                    "(and evaluate.dtype: auto)"
                )
        self.device, self.dtype = device, dtype
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.generation = generation or GenerationSettings()
        self._loaded: tuple[Any, Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_loaded": None}

    def load(self) -> ModelPredictor:
        if self._loaded is None:
            from medvie import modeling
            from medvie.modeling.loading import decoding_config

            model, processor = modeling.load(str(self.model_dir), device=self.device, dtype=self.dtype)
            gen_config = decoding_config(model, self.generation.as_kwargs(), self.max_new_tokens)
            self._loaded = (model, processor, gen_config)
        return self

    def __call__(self, rows: Sequence[dict]) -> list[Any]:
        from medvie import modeling

        model, processor, gen_config = self.load()._loaded  # type: ignore[misc]
        out: list[Any] = [None] * len(rows)
        # a batch decodes until its longest answer ends: batches of similar prompts (the asked keys'
        # descriptions make most of a prompt's length) spend fewer steps on padding and finished rows
        order = length_order(rows)
        size = self.batch_size
        for start in progress(
            range(0, len(order), size), desc=f"evaluate {self.model_dir.name}", unit="batch"
        ):
            chunk = [rows[i] for i in order[start : start + size]]
            # images are opened one chunk at a time so a large test set never sits decoded in memory
            images = [open_image(r["image_path"]) for r in chunk]
            answers = modeling.generate(
                model,
                processor,
                images,
                [r["prompt"] for r in chunk],
                max_new_tokens=self.max_new_tokens,
                batch_size=size,
                generation_config=gen_config,
            )
            for i, answer in zip(order[start : start + size], answers, strict=True):
                out[i] = answer
        return out


def model_predictor(model_dir: str | Path, **settings: Any) -> ModelPredictor:
    """A `ModelPredictor` with its model loaded (`predictor_settings` names the settings)."""
    return ModelPredictor(model_dir, **settings).load()


def length_order(rows: Sequence[dict]) -> list[int]:
    """Row indices by the length of their prompt's text, shortest first (stable).

    >>> length_order([{"prompt": [{"role": "user", "content": [{"type": "text", "text": "abc"}]}]},
    ...               {"prompt": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]}])
    [1, 0]
    """
    from medvie.evaluation.ocr_baseline import prompt_text

    return sorted(range(len(rows)), key=lambda i: len(prompt_text(rows[i]["prompt"])))


def predictor_settings(cfg: EvaluateConfig) -> dict[str, Any]:
    """`model_predictor`'s keyword arguments from the evaluate section: device, dtype, tokens, batch,
    decoding."""
    return {
        "device": cfg.device,
        "dtype": cfg.dtype,
        "max_new_tokens": cfg.max_new_tokens,
        "batch_size": cfg.batch_size,
        "generation": cfg.generation,
    }


def generation_tags(cfg: EvaluateConfig) -> dict[str, str]:
    """How the evaluate stage loads and decodes, as MLflow tags of the run it logs into (tags, not params:
    a re-evaluation with other settings logs into the same run)."""
    values = {k: v for k, v in predictor_settings(cfg).items() if k != "generation"}
    values.update({f"generation.{k}": v for k, v in cfg.generation.as_kwargs().items()})
    return {f"eval.{k}": str(v) for k, v in values.items()}


def ocr_predictor(
    records: Sequence[dict] | str | Path, text_dir: str | Path | None, schema: str | Path | None = None
) -> Predictor:
    """OCR lines of each record (else its synthetic text layer), read by the rule-based reader.

    `records` are ingested records (or their directory); queries find theirs by `record_id`.
    """
    from medvie.evaluation.ocr_baseline import SchemaNames, answer, prompt_text
    from medvie.text import load_text

    names = SchemaNames(schema)

    if isinstance(records, (str, Path)):
        from medvie.data.records import load_records

        records = load_records(records)
    by_id = {r["id"]: r for r in records}

    def predict(rows: Sequence[dict]) -> list[Any]:
        preds = []
        for r in rows:
            rec = by_id.get(r.get("record_id"))
            if rec is None:
                raise DataError(
                    f"query {r['id']}: record {r.get('record_id')!r} not in the ingested records; "
                    "re-run ingest and queries"
                )
            lines = load_text(rec, text_dir)
            preds.append(answer(lines, r["keys"], prompt_text(r["prompt"]), names))
        return preds

    return predict
