"""The `ocr` stage as a library call: OCR text (cached per image) of just the records that need it.

Text hints (`queries.text_hints: ocr`) need the selected train records and the val/test records the
queries stage asks about; the OCR baseline (`text.for_baseline`) needs val/test records.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from medvie.evaluation.config import EvaluateConfig
from medvie.queries.config import QueriesConfig
from medvie.queries.pipeline import eval_records, selected_records
from medvie.text.config import TextConfig

log = logging.getLogger(__name__)

OCR_BASELINE = "ocr_baseline"


def records_needing_ocr(
    records: list[dict[str, Any]],
    selected: list[dict[str, Any]],
    tcfg: TextConfig,
    qcfg: QueriesConfig,
    baseline: bool = False,
) -> tuple[list[dict[str, Any]], str]:
    """Records to OCR and why: the prompts' records when queries ask for OCR text hints, and val/test
    records for the OCR baseline (`baseline`: evaluation runs it)."""
    evals = eval_records(records, qcfg)
    need: dict[str, dict[str, Any]] = {}
    reasons = []
    if qcfg.text_hints == "ocr":
        reasons.append("queries.text_hints=ocr")
        for rec in [*selected, *evals["val"], *evals["test"]]:
            need[str(rec["id"])] = rec
    if tcfg.for_baseline == "always" or (tcfg.for_baseline == "auto" and baseline):
        lacking = [
            r
            for r in [*evals["val"], *evals["test"]]
            if tcfg.for_baseline == "always" or not (r.get("meta") or {}).get("text_layer")
        ]
        if lacking:
            reasons.append(f"OCR baseline (text.for_baseline={tcfg.for_baseline})")
        for rec in lacking:
            need[str(rec["id"])] = rec
    return list(need.values()), ", ".join(reasons)


def run_ocr_stage(
    cfg: TextConfig,
    queries: QueriesConfig,
    evaluate: EvaluateConfig,
    *,
    records: str | os.PathLike[str],
    selected: str | os.PathLike[str],
    out: str | os.PathLike[str],
) -> dict[str, Any]:
    """OCR the records that need it into `out` (one `<sha256>.json` each + manifest.json; files of
    images no longer needed are removed); with nothing to do, a manifest-only `out`. Returns the manifest."""
    from medvie.data.records import load_records
    from medvie.text.store import ocr_records

    baseline = OCR_BASELINE in evaluate.baselines
    needed: list[dict[str, Any]] = []
    reason = ""
    if (
        queries.text_hints == "ocr"
        or cfg.for_baseline == "always"
        or (cfg.for_baseline == "auto" and baseline)
    ):
        all_records = load_records(records)
        needed, reason = records_needing_ocr(
            all_records, selected_records(all_records, selected), cfg, queries, baseline
        )
    manifest = ocr_records(needed, out, cfg, reason=reason)
    log.info(
        "ocr: %d image(s), %d run, %d reused%s",
        manifest["images"],
        manifest["ocr_run"],
        manifest["reused"],
        f" ({manifest['reason']})" if manifest["reason"] else "",
    )
    return manifest
