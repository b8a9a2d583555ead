"""The data stages as library calls: `synth` renders the default data set, `ingest` normalises a
labelled folder, `validate` checks the result. Each takes its params section(s) and its paths."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from medvie.data.config import DataConfig, SyntheticConfig, ValidateConfig
from medvie.data.records import SPLITS
from medvie.errors import DataError
from medvie.io import write_json, write_text
from medvie.log import shown

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def run_synth(cfg: SyntheticConfig, *, out: PathLike) -> Path:
    """Render `cfg.n` synthetic reports into `out` (the user layout: labels.jsonl + images/)."""
    from medvie.data.synth import write_dataset

    path = write_dataset(out, cfg.n, cfg.seed, cfg.preset, cfg.languages, cfg.families)
    log.info(
        "synth: %d %s reports (%s; %d families) -> %s",
        cfg.n,
        cfg.preset,
        ", ".join(cfg.languages),
        len(cfg.families),
        shown(path),
    )
    return path


def run_ingest(cfg: DataConfig, *, source: PathLike, out: PathLike) -> dict[str, Any]:
    """Ingest the labelled folder `source` into `out`; return the summary written there."""
    from medvie.data.ingest import ingest

    summary = ingest(source, out, cfg)
    counts = ", ".join(f"{s} {summary['splits'][s]}" for s in SPLITS)
    log.info(
        "ingested %d of %d records into %s (%s; %d rejected)",
        summary["n_kept"],
        summary["n_input"],
        shown(out),
        counts,
        summary["n_rejected"],
    )
    return summary


def run_validate(
    cfg: ValidateConfig,
    data: DataConfig,
    *,
    records: PathLike,
    schema: PathLike | None,
    report_json: PathLike,
    report_md: PathLike,
) -> dict[str, Any]:
    """Validate the ingested data set `records`, write both reports; a failed critical check raises
    DataError naming it (after the reports are written)."""
    from medvie.data.validation import critical_failures, render_markdown, validate_records

    start = time.perf_counter()
    report = validate_records(
        records,
        cfg,
        data.split,
        near_duplicate_distance=data.near_duplicate_distance,
        near_duplicate_confirm_distance=data.near_duplicate_confirm_distance,
        schema_path=schema,
    )
    write_json(report_json, report)
    write_text(report_md, render_markdown(report))
    if not report["success"]:
        raise DataError(
            f"{records}: critical data checks failed: {'; '.join(critical_failures(report))}; see {report_md}"
        )
    log.info(
        "validation passed: %d/%d expectations, %d warnings (%.1f s); see %s",
        report["n_passed"],
        report["n_expectations"],
        report["n_failed_warning"],
        time.perf_counter() - start,
        shown(report_md),
    )
    return report
