"""The exported checkpoint: weights, processor, metrics.json and a README with the curve."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from medvie.io import write_json, write_text
from medvie.training.pretrain.config import EVAL_SEED0, TRAIN_SEED0, PretrainConfig


def _export(model, processor, cfg: PretrainConfig, record: dict) -> None:
    from medvie.modeling.tiny import save_tiny

    save_tiny(model, processor, cfg.out_dir, extra={"spec": asdict(cfg.spec), "tokenizer": cfg.tokenizer})
    write_json(Path(cfg.out_dir) / "metrics.json", record)
    write_text(Path(cfg.out_dir) / "README.md", readme(record))


KIND_TEXT = {
    "lines": "transcription of crops of 1..k text items (k grows by one whenever held-out single-item exact "
    "accuracy reaches `level_up_exact` at a checkpoint)",
    "page": "whole-page transcription",
    "extract": "extraction in the answer format for random key subsets (a share of them with the page's text "
    "lines heading the prompt, as the queries stage's text hints)",
    "copy": "copying the page's text lines back (text only)",
    "echo": "copying random vocabulary text back (text only, batches of their own)",
}


def readme(record: dict) -> str:
    cur = record["history"]
    best = record["best"]
    rows = "\n".join(
        f"| {h['step']} | {h['minutes']:.1f} | {h['loss']:.3f} | {h['line_exact']:.2f} | "
        f"{h['line_char_acc']:.2f} | {h['extract_f1']:.2f} | {_unseen(h)} | {h['json_valid']:.2f} |"
        for h in cur
    )
    cfg = record["config"]
    runs = record.get("runs") or [{"step": 0, "args": record.get("command_args", "")}]
    run_rows = "\n".join(f"| {r['step']} | `medvie pretrain-tiny {r['args']}` |" for r in runs)
    kinds = "\n".join(f"- `{k}`: {KIND_TEXT.get(k, k)}" for k in KIND_TEXT)
    return f"""# The embedded tiny Qwen2.5-VL

A `Qwen2_5_VLForConditionalGeneration` of {record["params"]:,} parameters with a {record["vocab"]}-token
byte-level BPE vocabulary (digits one per token; Qwen2.5-VL special tokens and chat template),
pretrained on synthetic report pages by `medvie pretrain-tiny`, in these runs (each resumes the
state the one before left; a run's `--mix` weights the example kinds below):

| from step | command |
|---|---|
{run_rows}

Example kinds:
{kinds}

Languages {", ".join(cfg["languages"])}, preset `{cfg["preset"]}`. \
Training seeds start at {TRAIN_SEED0}; held-out
pages use seeds from {EVAL_SEED0}, disjoint from the pipeline's synthetic data.{_lineage(cfg)}

Exported checkpoint: step {best["step"]} after {best["minutes"]:.1f} minutes — held-out extraction F1
{best["extract_f1"]:.2%} on {cfg["eval_pages"]} held-out pages (text hints from the text layer), single-line
transcription from pixels exact {best["line_exact"]:.2%} (character accuracy {best["line_char_acc"]:.2%}).
{_families(cfg, best)}
## Curve (held-out; {cfg["eval_lines"]} line crops, {cfg["eval_pages"]} pages)

| step | minutes | train loss | line exact | line char acc | extraction F1 | unseen-family F1 | JSON valid |
|---|---|---|---|---|---|---|---|
{rows}
"""


def _unseen(h: dict) -> str:
    return f"{h['unseen_family_f1']:.2f}" if "unseen_family_f1" in h else "–"


def _families(cfg: dict, best: dict) -> str:
    excluded = cfg.get("exclude_families") or []
    if not excluded:
        return ""
    return f"""
Report families never drawn here: {", ".join(excluded)} (`data.holdout_families`). Their pages
are scored at each checkpoint for the curve only (unseen-family F1 {_unseen(best)} at the exported step);
checkpoints are chosen by the in-family pages.
"""


# ---------------------------------------------------------------- the loop


def _lineage(cfg: dict) -> str:
    start = cfg.get("init_from")
    return (
        f" This run started from the weights of an earlier export ({start}), not from random init."
        if start
        else ""
    )


def _cfg_dict(cfg: PretrainConfig) -> dict:
    d = asdict(cfg)
    d["languages"] = list(cfg.languages)
    return d
