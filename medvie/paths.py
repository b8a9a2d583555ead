"""Where every stage reads and writes, relative to the project root: the one place these paths are named.

`dvc.yaml` lists the same deps and outs (tests/test_paths.py keeps the two in agreement); stages,
the CLI's defaults and the flows take them from here. A path written `${section.key}` is the value
of that key in params.yaml, exactly as dvc.yaml interpolates it.

Each `Stage` also maps its library function's path arguments to these paths, so a stage and the
CLI command of the same name call that function the same way:
`run_x(params.x, **STAGES["x"].resolve(root, params))`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARAMS = "params.yaml"
SCHEMA = "schemas/medical.json"
TINY_CHECKPOINT = "pretrained/tiny"

SYNTHETIC = "data/synthetic"
INGESTED = "data/ingested"
SELECTED = "data/selected.jsonl"
FEATURES = "data/features.npz"
TEXT = "data/text"
QUERIES = "data/queries"
TEST_QUERIES = f"{QUERIES}/test.jsonl"

MODELS = "models"
BASE_MODEL = f"{MODELS}/base"
WARMSTART_MODEL = f"{MODELS}/warmstart"
GRPO_MODEL = f"{MODELS}/grpo"
MLFLOW_RUN = f"{GRPO_MODEL}/mlflow_run.json"  # the training run that evaluation logs into

METRICS = "metrics"
DIVERSITY = f"{METRICS}/diversity.json"
EVAL_METRICS = f"{METRICS}/eval.json"

REPORTS = "reports"
VALIDATION_JSON = f"{REPORTS}/validation.json"
VALIDATION_MD = f"{REPORTS}/validation.md"
EVAL_REPORT = f"{REPORTS}/eval.md"
EVAL_ASSETS = f"{REPORTS}/eval_assets"  # thumbnails beside eval.md (`<report stem>_assets`)
PREDICTIONS = f"{REPORTS}/predictions"
EVAL_META = f"{REPORTS}/eval_meta.json"
REGISTRY = f"{REPORTS}/registry.json"

TRAIN_PLOTS = "plots/train"
EVAL_PLOTS = "plots/eval"  # dvc.yaml's top-level `plots:` read the CSV files here

BUILD = "build"  # scratch outside DVC's outputs (DVC deletes outputs before a stage runs)
WARMSTART_WORK = f"{BUILD}/warmstart"

_PARAM = re.compile(r"^\$\{([A-Za-z_][\w.]*)\}$")


@dataclass(frozen=True)
class Stage:
    """One stage's files. `deps`/`outs` are dvc.yaml's data deps and outs (metrics and plots
    included); `code` the library code it runs besides `stages/<name>.py`; `args` the path
    arguments of its library function: each a dep or out (or a file of dvc.yaml's top-level
    `plots:`), a folder holding one, a file inside one, or scratch under `build/`."""

    deps: tuple[str, ...] = ()
    outs: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    args: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, root: str | Path, params: Any = None, **given: str | Path | None) -> dict[str, Path]:
        """`args` as absolute paths under `root` (`${section.key}` read from `params`); `given` ones,
        relative to the working directory, win unless None."""
        out = {name: resolve(path, root, params) for name, path in self.args.items()}
        out.update({name: Path(path) for name, path in given.items() if path is not None})
        return out


def param_value(params: Any, dotted: str) -> Any:
    """The value of `section.key` in `params` (a `Params`), by the names params.yaml uses."""
    data: Any = params.model_dump(mode="json", by_alias=True)
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            raise KeyError(f"params have no '{dotted}'")
        data = data[part]
    return data


def resolve(path: str, root: str | Path, params: Any = None) -> Path:
    """`root / path`, where a `${section.key}` path is first looked up in `params` (default: the defaults)."""
    m = _PARAM.match(path)
    if m:
        if params is None:
            from medvie.settings import Params

            params = Params()
        path = str(param_value(params, m.group(1)))
    return Path(root) / path


STAGES: dict[str, Stage] = {
    "synth": Stage(
        outs=(SYNTHETIC,),
        code=("medvie/data/synth", "medvie/data/pipeline.py"),
        args={"out": SYNTHETIC},
    ),
    "ingest": Stage(
        deps=("${data.source}",),
        outs=(INGESTED,),
        code=(
            "medvie/data/ingest.py",
            "medvie/data/images.py",
            "medvie/data/records.py",
            "medvie/data/split.py",
            "medvie/data/pipeline.py",
        ),
        args={"source": "${data.source}", "out": INGESTED},
    ),
    "validate": Stage(
        deps=(INGESTED, "${validate.schema_path}"),
        outs=(VALIDATION_MD, VALIDATION_JSON),
        code=(
            "medvie/data/validation.py",
            "medvie/data/split.py",
            "medvie/data/records.py",
            "medvie/data/pipeline.py",
        ),
        args={
            "records": INGESTED,
            "schema": "${validate.schema_path}",
            "report_json": VALIDATION_JSON,
            "report_md": VALIDATION_MD,
        },
    ),
    "sample": Stage(
        deps=(INGESTED, VALIDATION_JSON),  # a failed validation stops the DAG before sampling
        outs=(SELECTED, FEATURES, DIVERSITY),
        code=("medvie/sampling",),
        args={"records": INGESTED, "out": SELECTED, "metrics": DIVERSITY, "cache": FEATURES},
    ),
    "ocr": Stage(
        deps=(INGESTED, SELECTED),
        outs=(TEXT,),
        # the val/test records OCR'd are those the queries stage caps (`eval_records`)
        code=("medvie/text", "medvie/queries/pipeline.py"),
        args={"records": INGESTED, "selected": SELECTED, "out": TEXT},
    ),
    "queries": Stage(
        deps=(INGESTED, SELECTED, TEXT, "${queries.schema}"),
        outs=(QUERIES,),
        code=("medvie/queries", "medvie/text", "medvie/sampling/features.py"),
        args={
            "records": INGESTED,
            "selected": SELECTED,
            "text": TEXT,
            "schema": "${queries.schema}",
            "out": QUERIES,
        },
    ),
    "model": Stage(
        deps=("${model.tiny_dir}",),
        outs=(BASE_MODEL,),
        code=("medvie/modeling",),
        args={"out": BASE_MODEL},
    ),
    "warmstart": Stage(
        deps=(QUERIES, INGESTED, BASE_MODEL),
        outs=(WARMSTART_MODEL,),
        code=("medvie/training",),
        args={
            "base_dir": BASE_MODEL,
            "queries_dir": QUERIES,
            "records_file": f"{INGESTED}/records.jsonl",
            "out_dir": WARMSTART_MODEL,
            "work_dir": WARMSTART_WORK,
        },
    ),
    "train": Stage(
        deps=(QUERIES, WARMSTART_MODEL, "${train.launch}"),
        outs=(GRPO_MODEL, TRAIN_PLOTS),
        code=("medvie/training", "medvie/rewards"),
        args={
            "queries_dir": QUERIES,
            "model_dir": WARMSTART_MODEL,
            "out_dir": GRPO_MODEL,
            "plots_dir": TRAIN_PLOTS,
        },
    ),
    "evaluate": Stage(
        deps=(
            "${evaluate.queries}",
            "${evaluate.records}",
            "${evaluate.text_dir}",
            BASE_MODEL,
            WARMSTART_MODEL,
            GRPO_MODEL,
            "${queries.schema}",
        ),
        outs=(EVAL_METRICS, EVAL_REPORT, EVAL_ASSETS, PREDICTIONS, EVAL_META),
        code=("medvie/evaluation", "medvie/rewards"),
        args={
            "queries": "${evaluate.queries}",
            "records": "${evaluate.records}",
            "text": "${evaluate.text_dir}",
            "schema": "${queries.schema}",
            "models": MODELS,
            "mlflow_run": MLFLOW_RUN,
            "metrics": EVAL_METRICS,
            "plots": EVAL_PLOTS,
            "report": EVAL_REPORT,
            "predictions": PREDICTIONS,
            "meta": EVAL_META,
        },
    ),
    "register": Stage(
        deps=(EVAL_METRICS, EVAL_META, GRPO_MODEL, QUERIES, "${queries.schema}"),
        outs=(REGISTRY,),
        code=("medvie/registry",),
    ),
}
