"""Held-out measurements at each pretraining checkpoint: line transcription and extraction F1."""

from __future__ import annotations

import random

from medvie.queries.build import chat_prompt
from medvie.training.pretrain.config import PretrainConfig
from medvie.training.pretrain.data import TRANSCRIBE, crop_lines, hint_text, sample_query


def evaluate(
    model, processor, pages: list[dict], cfg: PretrainConfig, schema, other_pages: list[dict] | None = None
) -> dict:
    """Held-out single-line transcription (exact, char accuracy) and extraction F1 on whole pages."""
    from rapidfuzz.distance import Levenshtein

    from medvie.modeling.loading import generate

    rng = random.Random(12345)
    model.eval()
    crops, refs = [], []
    for i in range(cfg.eval_lines):
        page = pages[i % len(pages)]
        if page["lines"]:
            ln = rng.choice(page["lines"])
            crops.append(crop_lines(page["image"], [ln]))
            refs.append(str(ln["text"]).strip())
    outs = generate(
        model, processor, crops, [chat_prompt(TRANSCRIBE)] * len(crops), max_new_tokens=48, batch_size=16
    )
    exact = sum(o.strip() == r for o, r in zip(outs, refs, strict=True)) / max(1, len(refs))
    char = sum(
        Levenshtein.normalized_similarity(o.strip(), r) for o, r in zip(outs, refs, strict=True)
    ) / max(1, len(refs))

    prec, rec, f1, valid, outs = extraction(model, processor, pages, cfg, schema, rng)
    unseen = {}
    if other_pages:
        unseen = {
            "unseen_family_f1": round(extraction(model, processor, other_pages, cfg, schema, rng)[2], 4)
        }
    model.train()
    return {
        "line_exact": round(exact, 4),
        "line_char_acc": round(char, 4),
        "extract_f1": round(f1, 4),
        "extract_precision": round(prec, 4),
        "extract_recall": round(rec, 4),
        "json_valid": round(valid / max(1, len(pages)), 4),
        **unseen,
        "sample": outs[0][:200],
    }


def extraction(model, processor, pages: list[dict], cfg: PretrainConfig, schema, rng: random.Random):
    """(precision, recall, F1, valid JSON count, outputs) of extraction on whole pages; with hints on,
    measured with them (as the pipeline will query), else from the image alone."""
    from medvie.modeling.loading import generate
    from medvie.rewards.flatten import flatten
    from medvie.rewards.parse import extract_json

    asked = [
        sample_query(p["label"], rng, schema, hint_text(p["lines"], rng) if cfg.hints > 0 else "")
        for p in pages
    ]
    outs = generate(
        model,
        processor,
        [p["image"] for p in pages],
        [chat_prompt(prompt) for prompt, _ in asked],
        max_new_tokens=cfg.max_target_tokens // 2,
        batch_size=8,
    )
    n_match = n_pred = n_true = valid = 0
    for out, (_, truth) in zip(outs, asked, strict=True):
        pred, _ = extract_json(out)
        valid += pred is not None
        p, t = set(flatten(pred or {})), set(flatten(truth))
        n_match, n_pred, n_true = n_match + len(p & t), n_pred + len(p), n_true + len(t)
    prec, rec = n_match / max(1, n_pred), n_match / max(1, n_true)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, valid, outs
