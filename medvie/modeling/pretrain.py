"""`medvie pretrain-tiny`: teach the tiny Qwen2.5-VL to read synthetic report pages, in one plain PyTorch loop.

Why this exists: trained from scratch inside the pipeline on ~100 samples, a tiny model learns the
JSON format and the keys but never looks at the image. Reading has to come first, so the
curriculum is transcription-heavy: crops of 1..k text lines (k grows with the steps), whole pages,
and extraction in the answer format (`<think>…</think><answer>{json}</answer>`) for random key
subsets. Pages come from the synthetic generator with seeds disjoint from the pipeline's data.

The loop checkpoints every few minutes (atomically) and resumes from its last checkpoint when
re-run; at each checkpoint it measures held-out reading and extraction and exports the best
model so far (safetensors + processor + metrics.json + README.md) to `out_dir`.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from medvie.io import atomic_path, write_json, write_text
from medvie.modeling.tiny import TinySpec

# The synth stage renders seeds `seed * 1_000_003 + i`: these ranges stay clear of any sensible data.synthetic.seed
TRAIN_SEED0 = 10**12
EVAL_SEED0 = 2 * 10**12
TRANSCRIBE = "Transcribe the text in the image."
COPY = "Copy the text above, line by line."
FORMAT_SUFFIX = (
    "First output the thinking process in <think></think> tags, then the final answer in "
    "<answer></answer> tags; the final answer is JSON."
)
ROW_KEY = "Indicators"
THINK_TEXT = "I read the report and copy the asked fields."


@dataclass
class PretrainConfig:
    out_dir: str = "pretrained/tiny"
    work_dir: str = ".medvie/pretrain-tiny"
    languages: tuple[str, ...] = ("en",)
    preset: str = "tiny"
    spec: TinySpec = field(default_factory=TinySpec)
    tokenizer: str = "bpe"  # bpe | qwen
    vocab_size: int = 512
    corpus_pages: int = 200  # pages the BPE vocabulary is learnt from
    batch_size: int = 8
    lr: float = 1.5e-3
    warmup_steps: int = 200
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    pool_size: int = 400  # rendered pages kept in memory; `refresh` of them replaced each step
    refresh: int = 1
    mix: dict[str, float] = field(default_factory=lambda: {"lines": 0.5, "page": 0.15, "extract": 0.35})
    # Share of extraction examples whose prompt starts with the page's text lines, formatted as the queries
    # stage formats OCR hints (`queries.text_hints`): copying from the prompt is learnt long before reading.
    hints: float = 0.0
    echo_batch_factor: int = 4  # an `echo` batch holds this many times batch_size (its sequences are short)
    threads: int = 1
    init_from: str = ""  # an exported tiny checkpoint to start from (fresh optimizer); "" = random init
    # Curriculum level = the most text items a crop holds. It rises by one at a checkpoint whose held-out
    # single-item exact accuracy reaches `level_up_exact`: growing on a step schedule outran reading.
    level_up_exact: float = 0.6
    max_level: int = 12
    page_from_level: int = 4  # whole-page transcription joins the mix at this level (before: more crops)
    max_target_tokens: int = 384
    minutes: float = 0.0  # stop after this many minutes of this run (0: no limit)
    max_steps: int = 0  # stop at this global step (0: no limit)
    checkpoint_minutes: float = 5.0
    checkpoint_steps: int = 0  # also checkpoint every this many steps (0: off); tests use it
    eval_pages: int = 16
    eval_lines: int = 48
    seed: int = 0
    log_every: int = 20


# ---------------------------------------------------------------- pages and examples


def default_renderer(preset: str) -> Callable[[int, str], Any]:
    from medvie.data.synth import render_report

    def render(seed: int, language: str):
        # a seed the generator cannot lay out is skipped, not fatal: a long run must not die on one page
        for attempt in range(10):
            try:
                return render_report(seed + attempt * 7_919_993, preset=preset, language=language)
            except AssertionError:
                continue
        return render_report(seed, preset=preset, language=language)

    return render


def _page(report) -> dict:
    meta = report.meta or {}
    lines = [ln for ln in meta.get("text_layer", []) if str(ln.get("text", "")).strip()]
    return {
        "image": report.image.convert("RGB"),
        "label": report.label,
        "doc_type": report.doc_type,
        "lines": lines,
    }


def join_lines(lines: list[dict]) -> str:
    """Text layer items as text: items on the same visual row joined by a space, rows by newlines."""
    out, prev = [], None
    for ln in lines:
        x0, y0, x1, y1 = ln["box"]
        if prev is not None:
            py0, py1 = prev
            overlap = min(y1, py1) - max(y0, py0)
            out.append(" " if overlap > 0.5 * min(y1 - y0, py1 - py0) else "\n")
        out.append(str(ln["text"]).strip())
        prev = (y0, y1)
    return "".join(out)


def crop_lines(image, lines: list[dict], cell: int = 28, pad: int = 3):
    """The union box of `lines`, padded to whole 28-pixel cells with the page's background (no rescaling)."""
    import numpy as np
    from PIL import Image

    x0 = max(0, min(int(ln["box"][0]) for ln in lines) - pad)
    y0 = max(0, min(int(ln["box"][1]) for ln in lines) - pad)
    x1 = min(image.width, max(int(math.ceil(ln["box"][2])) for ln in lines) + pad)
    y1 = min(image.height, max(int(math.ceil(ln["box"][3])) for ln in lines) + pad)
    crop = image.crop((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)))
    w, h = max(cell, -(-crop.width // cell) * cell), max(cell * 2, -(-crop.height // cell) * cell)
    arr = np.asarray(crop)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    canvas = Image.new("RGB", (w, h), tuple(int(c) for c in np.median(border, axis=0)))
    canvas.paste(crop, ((w - crop.width) // 2, (h - crop.height) // 2))
    return canvas


def _schema():
    """The medical schema the queries stage uses, so pretraining prompts are the pipeline's prompts."""
    from medvie.env import project_root
    from medvie.queries.schema import load_schema

    return load_schema(project_root() / "schemas" / "medical.json")


def hint_text(lines: list[dict], rng: random.Random) -> str:
    """The page's text as the queries stage's hint block: mostly one row per line, as OCR engines group words,
    sometimes one text item per line, as a text layer lists them."""
    from medvie.text.store import format_hints

    rows = [{"text": t} for t in join_lines(lines).split("\n")] if rng.random() < 0.8 else lines
    return format_hints(rows)


def sample_query(label: dict, rng: random.Random, schema, hints: str = "") -> tuple[str, dict]:
    """(prompt, truth) as the queries stage builds them: mostly a random key subset, sometimes all keys."""
    from medvie.queries.build import ask_all, build_prompt, choose_subset, restrict
    from medvie.queries.config import QueriesConfig

    asked = ask_all(schema) if rng.random() < 0.2 else choose_subset(label, schema, QueriesConfig(), rng)
    return build_prompt(schema, asked, "en", thinking=True, hints=hints), restrict(label, asked, schema)


def answer_text(truth: dict) -> str:
    # the warm start's default <think> text, so the formats agree
    return f"<think>{THINK_TEXT}</think><answer>{json.dumps(truth, ensure_ascii=False)}</answer>"


def make_example(
    page: dict, kind: str, rng: random.Random, max_lines: int, schema, hints: float = 0.0
) -> dict:
    """One (image, user text, target) triple of the given kind."""
    lines = page["lines"]
    if kind == "lines" and lines:
        k = rng.randint(1, max(1, min(max_lines, len(lines))))
        start = rng.randrange(0, len(lines) - k + 1)
        chosen = lines[start : start + k]
        return {"image": crop_lines(page["image"], chosen), "text": TRANSCRIBE, "target": join_lines(chosen)}
    if kind == "page" and lines:
        return {"image": page["image"], "text": TRANSCRIBE, "target": join_lines(lines)}
    if kind == "copy" and lines:
        # text only and dense: nearly every target token is a copy of the prompt, the cheapest way we found to
        # grow the attention that finds a token's earlier occurrence and continues from there
        hint = hint_text(lines, rng)
        body = hint.split(":\n", 1)[1].rstrip("\n")
        return {"image": None, "text": hint + COPY, "target": body}
    hint = hint_text(lines, rng) if lines and rng.random() < hints else ""
    prompt, truth = sample_query(page["label"], rng, schema, hint)
    return {"image": page["image"], "text": prompt, "target": answer_text(truth), "truth": truth}


def echo_example(tokenizer, rng: random.Random, min_tokens: int = 8, max_tokens: int = 40) -> dict:
    """Random vocabulary pieces in rows, to be copied back. Nothing but copying predicts random text, so this is
    the purest signal for the attention that continues an earlier occurrence (an induction head), which value
    copying from the text hints needs and which page-text copying alone grew too slowly here."""
    pieces = _echo_pieces(tokenizer)
    rows = []
    for _ in range(rng.randint(1, 4)):
        n = rng.randint(min_tokens, max_tokens) // 2
        rows.append("".join(rng.choice(pieces) for _ in range(n)).strip() or "0")
    body = "\n".join(rows)
    return {
        "image": None,
        "text": f"Text read from the document (reading order, may contain errors):\n{body}\n\n{COPY}",
        "target": body,
    }


_ECHO_PIECES: dict[int, list[str]] = {}


def _echo_pieces(tokenizer) -> list[str]:
    key = id(tokenizer)
    if key not in _ECHO_PIECES:
        special = set(tokenizer.all_special_tokens)
        vocab = [
            tokenizer.decode([i])
            for i in range(len(tokenizer))
            if tokenizer.convert_ids_to_tokens(i) not in special
        ]
        _ECHO_PIECES[key] = [
            v for v in vocab if v.strip() and "<" not in v and "\ufffd" not in v and "\n" not in v
        ]
    return _ECHO_PIECES[key]


# ---------------------------------------------------------------- batches


def chat(text: str, image: bool = True) -> list[dict]:
    content = [{"type": "image"}] if image else []
    return [{"role": "user", "content": [*content, {"type": "text", "text": text}]}]


def collate(processor, examples: list[dict], max_target_tokens: int):
    """Right-padded batch; labels only on the completion (+ <|im_end|>), never on prompt or image tokens."""

    tok = processor.tokenizer
    prompts = [
        processor.apply_chat_template(
            chat(e["text"], e["image"] is not None), tokenize=False, add_generation_prompt=True
        )
        for e in examples
    ]
    images = [e["image"] for e in examples if e["image"] is not None]
    targets = []
    for e in examples:
        ids = tok(e["target"], add_special_tokens=False)["input_ids"][:max_target_tokens]
        targets.append(tok.decode(ids) + tok.eos_token)
    tok.padding_side = "right"
    try:
        batch = processor(
            text=[p + t for p, t in zip(prompts, targets)],
            images=images or None,
            padding=True,
            return_tensors="pt",
        )
    finally:
        tok.padding_side = "left"
    labels = batch["input_ids"].clone()
    start_id = tok.convert_tokens_to_ids("<|im_start|>")
    head = len(tok("assistant\n", add_special_tokens=False)["input_ids"]) + 1
    for i, row in enumerate(batch["input_ids"]):
        last = (row == start_id).nonzero()[-1].item()
        labels[i, : last + head] = -100
    labels[batch["attention_mask"] == 0] = -100
    batch["labels"] = labels
    return batch


# ---------------------------------------------------------------- evaluation


def held_out(render, cfg: PretrainConfig) -> list[dict]:
    return [
        _page(render(EVAL_SEED0 + i, cfg.languages[i % len(cfg.languages)])) for i in range(cfg.eval_pages)
    ]


def evaluate(model, processor, pages: list[dict], cfg: PretrainConfig, schema) -> dict:
    """Held-out single-line transcription (exact, char accuracy) and extraction F1 on whole pages."""
    from rapidfuzz.distance import Levenshtein

    from medvie.modeling.loading import generate
    from medvie.rewards.flatten import flatten
    from medvie.rewards.parse import extract_json

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
        model, processor, crops, [chat(TRANSCRIBE)] * len(crops), max_new_tokens=48, batch_size=16
    )
    exact = sum(o.strip() == r for o, r in zip(outs, refs)) / max(1, len(refs))
    char = sum(Levenshtein.normalized_similarity(o.strip(), r) for o, r in zip(outs, refs)) / max(
        1, len(refs)
    )

    # with hints on, extraction is measured with them (as the pipeline will query), else from the image alone
    asked = [
        sample_query(p["label"], rng, schema, hint_text(p["lines"], rng) if cfg.hints > 0 else "")
        for p in pages
    ]
    queries = [truth for _, truth in asked]
    prompts = [chat(prompt) for prompt, _ in asked]
    outs = generate(
        model,
        processor,
        [p["image"] for p in pages],
        prompts,
        max_new_tokens=cfg.max_target_tokens // 2,
        batch_size=8,
    )
    n_match = n_pred = n_true = valid = 0
    for out, truth in zip(outs, queries):
        pred, _ = extract_json(out)
        valid += pred is not None
        p, t = set(flatten(pred or {})), set(flatten(truth))
        n_match, n_pred, n_true = n_match + len(p & t), n_pred + len(p), n_true + len(t)
    prec, rec = n_match / max(1, n_pred), n_match / max(1, n_true)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    model.train()
    return {
        "line_exact": round(exact, 4),
        "line_char_acc": round(char, 4),
        "extract_f1": round(f1, 4),
        "extract_precision": round(prec, 4),
        "extract_recall": round(rec, 4),
        "json_valid": round(valid / max(1, len(pages)), 4),
        "sample": outs[0][:200],
    }


# ---------------------------------------------------------------- checkpoints


def _save_state(work: Path, model, opt, state: dict, processor) -> None:
    import torch

    work.mkdir(parents=True, exist_ok=True)
    proc_dir = work / "processor"
    if not proc_dir.exists():
        processor.save_pretrained(proc_dir)
    with atomic_path(work / "state.pt") as tmp:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), **state}, tmp)


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
        f"{h['line_char_acc']:.2f} | {h['extract_f1']:.2f} | {h['json_valid']:.2f} |"
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

Languages {", ".join(cfg["languages"])}, preset `{cfg["preset"]}`. Training seeds start at {TRAIN_SEED0}; held-out
pages use seeds from {EVAL_SEED0}, disjoint from the pipeline's synthetic data.{_lineage(cfg)}

Exported checkpoint: step {best["step"]} after {best["minutes"]:.1f} minutes — held-out extraction F1
{best["extract_f1"]:.2%} on {cfg["eval_pages"]} held-out pages (text hints from the text layer), single-line
transcription from pixels exact {best["line_exact"]:.2%} (character accuracy {best["line_char_acc"]:.2%}).

## Curve (held-out; {cfg["eval_lines"]} line crops, {cfg["eval_pages"]} pages)

| step | minutes | train loss | line exact | line char acc | extraction F1 | JSON valid |
|---|---|---|---|---|---|---|
{rows}
"""


# ---------------------------------------------------------------- the loop


def _lineage(cfg: dict) -> str:
    start = cfg.get("init_from")
    return (
        f" This run started from the weights of an earlier export ({start}), not from random init."
        if start
        else ""
    )


def _score(m: dict) -> float:
    return m["line_char_acc"] + m["line_exact"] + 2 * m["extract_f1"]


def _corpus(render, cfg: PretrainConfig, schema) -> list[str]:
    rng = random.Random(cfg.seed)
    texts = [TRANSCRIBE, FORMAT_SUFFIX]
    for i in range(cfg.corpus_pages):
        page = _page(render(TRAIN_SEED0 - 1 - i, cfg.languages[i % len(cfg.languages)]))
        texts.append(join_lines(page["lines"]))
        prompt, truth = sample_query(page["label"], rng, schema)
        texts += [prompt, answer_text(truth), json.dumps(page["label"], ensure_ascii=False)]
    return texts


def sample_losses(model, batch):
    """Mean token loss per sample, then averaged: a 3-token crop counts as much as a 150-token page."""
    import torch.nn.functional as F

    labels = batch.pop("labels")
    logits = model(**batch).logits[:, :-1].float()
    target = labels[:, 1:]
    tok_loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="none"
    ).view(target.shape)
    mask = (target != -100).float()
    per_sample = (tok_loss * mask).sum(1) / mask.sum(1).clamp(min=1)
    return per_sample.mean()


def pretrain(
    cfg: PretrainConfig,
    render: Callable[[int, str], Any] | None = None,
    fresh: bool = False,
    log: Callable[[str], None] = print,
    command_args: str = "",
) -> dict:
    """Run (or resume) pretraining until `cfg.minutes` / `cfg.max_steps`; return the last metrics record."""
    import torch

    from medvie.modeling.loading import load_processor
    from medvie.modeling.tiny import build_tiny, build_tokenizer

    torch.set_num_threads(cfg.threads)
    render = render or default_renderer(cfg.preset)
    work = Path(cfg.work_dir)
    schema = _schema()
    resume = (work / "state.pt").exists() and not fresh
    if resume:
        saved = torch.load(work / "state.pt", map_location="cpu", weights_only=False)
        cfg = replace(cfg, spec=TinySpec(**saved["spec"]), tokenizer=saved["tokenizer"])
        processor = load_processor(str(work / "processor"))
        model, _ = build_tiny(processor.tokenizer, cfg.spec)
        model.load_state_dict(saved["model"])
        state = {
            k: saved[k] for k in ("step", "minutes", "history", "best", "spec", "tokenizer", "pages_seen")
        }
        state["runs"] = saved.get("runs", [])
        state["level"] = saved.get("level", 1)
        random.setstate(saved["py_rng"])
        torch.set_rng_state(saved["torch_rng"])
        log(f"resumed from {work / 'state.pt'}: step {state['step']}, {state['minutes']:.1f} min")
    else:
        if fresh and work.exists():
            import shutil

            shutil.rmtree(work)
    if not resume and cfg.init_from:
        model, processor, cfg = _init_from(cfg)
        random.seed(cfg.seed)
        state = {
            "step": 0,
            "minutes": 0.0,
            "history": [],
            "best": None,
            "spec": asdict(cfg.spec),
            "tokenizer": cfg.tokenizer,
            "pages_seen": 0,
            "level": 1,
        }
        log(f"initialised from {cfg.init_from}")
    elif not resume:
        corpus = _corpus(render, cfg, schema) if cfg.tokenizer == "bpe" else None
        tok = build_tokenizer(cfg.tokenizer, corpus, vocab_size=cfg.vocab_size)
        model, processor = build_tiny(tok, cfg.spec, seed=cfg.seed)
        random.seed(cfg.seed)
        state = {
            "step": 0,
            "minutes": 0.0,
            "history": [],
            "best": None,
            "spec": asdict(cfg.spec),
            "tokenizer": cfg.tokenizer,
            "pages_seen": 0,
            "level": 1,
        }
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.98),
    )
    if resume:
        opt.load_state_dict(saved["opt"])
        del saved
    log(
        f"tiny Qwen2.5-VL: {n_params:,} parameters, vocab {len(processor.tokenizer)}, tokenizer {cfg.tokenizer}"
    )

    rng = random.Random(cfg.seed * 7919 + state["step"])
    langs = cfg.languages

    def fresh_page() -> dict:
        state["pages_seen"] += 1
        return _page(render(TRAIN_SEED0 + state["pages_seen"], langs[state["pages_seen"] % len(langs)]))

    pool = [fresh_page() for _ in range(min(cfg.pool_size, 32))]
    eval_pages = held_out(render, cfg)
    page_mix = {k: w for k, w in cfg.mix.items() if k != "echo" and w > 0}
    echo_share = cfg.mix.get("echo", 0.0) / sum(cfg.mix.values()) if page_mix else 1.0
    model.train()
    t_run = time.monotonic()
    t_ckpt = time.monotonic()
    base_minutes = state["minutes"]
    losses: list[float] = []

    def checkpoint(final: bool = False) -> dict:
        nonlocal t_ckpt
        state["minutes"] = base_minutes + (time.monotonic() - t_run) / 60
        metrics = evaluate(model, processor, eval_pages, cfg, schema)
        point = {
            "step": state["step"],
            "minutes": round(state["minutes"], 2),
            "loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4),
            **metrics,
        }
        state["history"].append({k: v for k, v in point.items() if k != "sample"})
        improved = state["best"] is None or _score(point) >= _score(state["best"])
        if improved:
            state["best"] = {k: v for k, v in point.items() if k != "sample"}
        point["level"] = state["level"]
        state["history"][-1]["level"] = state["level"]
        if metrics["line_exact"] >= cfg.level_up_exact and state["level"] < cfg.max_level:
            state["level"] += 1
        record = {
            "params": n_params,
            "vocab": len(processor.tokenizer),
            "config": _cfg_dict(cfg),
            "command_args": command_args,
            **state,
        }
        _save_state(
            work,
            model,
            opt,
            {**state, "py_rng": random.getstate(), "torch_rng": torch.get_rng_state()},
            processor,
        )
        if improved:
            _export(model, processor, cfg, record)
        log(
            f"checkpoint step {state['step']} {state['minutes']:.1f} min: {json.dumps(point, ensure_ascii=False)}"
            + (" (exported)" if improved else "")
        )
        t_ckpt = time.monotonic()
        return record

    state.setdefault("runs", [])
    if not state["runs"] or state["runs"][-1].get("args") != command_args:
        state["runs"].append({"step": state["step"], "args": command_args})
    record: dict = {}
    while True:
        elapsed = (time.monotonic() - t_run) / 60
        if (cfg.max_steps and state["step"] >= cfg.max_steps) or (cfg.minutes and elapsed >= cfg.minutes):
            break
        # the pool grows to its size first, then one page in `refresh` is replaced per step
        for _ in range(cfg.refresh):
            page = fresh_page()
            if len(pool) < cfg.pool_size:
                pool.append(page)
            else:
                pool[rng.randrange(len(pool))] = page
        max_lines = state["level"]
        if echo_share and rng.random() < echo_share:
            # a batch of its own: mixed with page-sized examples, the short sequences would mostly be padding
            examples = [
                echo_example(processor.tokenizer, rng) for _ in range(cfg.batch_size * cfg.echo_batch_factor)
            ]
        else:
            drawn = rng.choices(list(page_mix), list(page_mix.values()), k=cfg.batch_size)
            drawn = ["lines" if k == "page" and max_lines < cfg.page_from_level else k for k in drawn]
            examples = [
                make_example(rng.choice(pool), kind, rng, max_lines, schema, cfg.hints) for kind in drawn
            ]
        batch = collate(processor, examples, cfg.max_target_tokens)
        lr = cfg.lr * min(1.0, (state["step"] + 1) / cfg.warmup_steps)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = sample_losses(model, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        state["step"] += 1
        losses.append(loss.item())
        if state["step"] % cfg.log_every == 0:
            log(
                f"step {state['step']} loss {sum(losses[-cfg.log_every :]) / cfg.log_every:.4f} lr {lr:.2e} "
                f"level {max_lines} {(time.monotonic() - t_run) / 60 + base_minutes:.1f} min"
            )
        due_time = (time.monotonic() - t_ckpt) / 60 >= cfg.checkpoint_minutes
        due_step = cfg.checkpoint_steps and state["step"] % cfg.checkpoint_steps == 0
        if due_time or due_step:
            record = checkpoint()
    if not state["history"] or state["history"][-1]["step"] != state["step"]:
        record = checkpoint(final=True)
    return record


def _init_from(cfg: PretrainConfig):
    """Weights, processor and spec of an exported checkpoint; the optimizer starts fresh."""
    from medvie.errors import MedvieError
    from medvie.modeling.loading import load

    meta = Path(cfg.init_from) / "medvie_tiny.json"
    if not meta.exists():
        raise MedvieError(
            f"--init-from {cfg.init_from}: no medvie_tiny.json there; give a `pretrain-tiny` export dir"
        )
    info = json.loads(meta.read_text())
    model, processor = load(cfg.init_from)
    model.train()
    return (
        model,
        processor,
        replace(cfg, spec=TinySpec(**info["spec"]), tokenizer=info.get("tokenizer", "bpe")),
    )


def _cfg_dict(cfg: PretrainConfig) -> dict:
    d = asdict(cfg)
    d["languages"] = list(cfg.languages)
    return d
