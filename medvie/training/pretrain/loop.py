"""`medvie pretrain-tiny`: teach the tiny Qwen2.5-VL to read synthetic report pages, in one plain
PyTorch loop.

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
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from medvie.io import atomic_path
from medvie.modeling.tiny import TinySpec
from medvie.training.pretrain.config import TRAIN_SEED0, PretrainConfig
from medvie.training.pretrain.data import (
    BatchStream,
    _corpus,
    _page,
    _schema,
    collate,
    default_renderer,
    draw_examples,
    held_out,
    training_families,
    unseen_family_pages,
)
from medvie.training.pretrain.evaluate import evaluate
from medvie.training.pretrain.export import _cfg_dict, _export

log = logging.getLogger(__name__)


def _save_state(work: Path, model, opt, state: dict, processor) -> None:
    import torch

    work.mkdir(parents=True, exist_ok=True)
    proc_dir = work / "processor"
    if not proc_dir.exists():
        processor.save_pretrained(proc_dir)
    with atomic_path(work / "state.pt") as tmp:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), **state}, tmp)


def _score(m: dict) -> float:
    return m["line_char_acc"] + m["line_exact"] + 2 * m["extract_f1"]


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
    command_args: str = "",
) -> dict:
    """Run (or resume) pretraining until `cfg.minutes` / `cfg.max_steps`; return the last metrics record."""
    import torch

    from medvie.modeling.loading import load_processor
    from medvie.modeling.tiny import build_tiny, build_tokenizer

    torch.set_num_threads(cfg.threads)
    render_default = render is None
    render = render or default_renderer(cfg.preset, training_families(cfg.exclude_families))
    # training pages may be printed in recombined forms; the held-out pages of the curve are the families' own
    train_render = (
        default_renderer(cfg.preset, training_families(cfg.exclude_families), cfg.recombine)
        if render_default and cfg.recombine
        else render
    )
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
        log.info(f"resumed from {work / 'state.pt'}: step {state['step']}, {state['minutes']:.1f} min")
    else:
        if fresh and work.exists():
            import shutil

            shutil.rmtree(work)
    if not resume and cfg.init_from:
        model, processor, cfg = _init_from(cfg)
        random.seed(cfg.seed)
        state = _new_state(cfg)
        log.info(f"initialised from {cfg.init_from}")
    elif not resume:
        corpus = _corpus(render, cfg, schema) if cfg.tokenizer == "bpe" else None
        tok = build_tokenizer(cfg.tokenizer, corpus, vocab_size=cfg.vocab_size)
        model, processor = build_tiny(tok, cfg.spec, seed=cfg.seed)
        random.seed(cfg.seed)
        state = _new_state(cfg)
    model.to(cfg.device)
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
    log.info(
        f"tiny Qwen2.5-VL: {n_params:,} parameters, vocab {len(processor.tokenizer)}, "
        f"tokenizer {cfg.tokenizer}"
    )

    rng = random.Random(cfg.seed * 7919 + state["step"])
    langs = cfg.languages

    def fresh_page() -> dict:
        state["pages_seen"] += 1
        return _page(train_render(TRAIN_SEED0 + state["pages_seen"], langs[state["pages_seen"] % len(langs)]))

    pool = [] if cfg.workers else [fresh_page() for _ in range(min(cfg.pool_size, 32))]
    eval_pages = held_out(render, cfg)
    other_pages = unseen_family_pages(cfg) if render_default else []
    model.train()
    t_run = time.monotonic()
    t_ckpt = time.monotonic()
    base_minutes = state["minutes"]
    losses: list[float] = []

    def checkpoint(final: bool = False) -> dict:
        nonlocal t_ckpt
        state["minutes"] = base_minutes + (time.monotonic() - t_run) / 60
        metrics = evaluate(model, processor, eval_pages, cfg, schema, other_pages)
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
        log.info(
            f"checkpoint step {state['step']} {state['minutes']:.1f} min: "
            f"{json.dumps(point, ensure_ascii=False)}" + (" (exported)" if improved else "")
        )
        t_ckpt = time.monotonic()
        return record

    state.setdefault("runs", [])
    if not state["runs"] or state["runs"][-1].get("args") != command_args:
        state["runs"].append({"step": state["step"], "args": command_args})
    record: dict = {}
    stream = None
    if cfg.workers:
        from torch.utils.data import DataLoader, IterableDataset

        dataset = type("Stream", (BatchStream, IterableDataset), {})(
            cfg, processor, schema, state["step"], state["level"]
        )
        loader = DataLoader(dataset, batch_size=None, num_workers=cfg.workers, prefetch_factor=4)
        stream = iter(loader)
    while True:
        elapsed = (time.monotonic() - t_run) / 60
        if (cfg.max_steps and state["step"] >= cfg.max_steps) or (cfg.minutes and elapsed >= cfg.minutes):
            break
        if stream is None:  # the pool grows to its size first, then `refresh` pages are replaced per step
            for _ in range(cfg.refresh):
                page = fresh_page()
                if len(pool) < cfg.pool_size:
                    pool.append(page)
                else:
                    pool[rng.randrange(len(pool))] = page
        max_lines = state["level"]
        if stream is not None:
            batch = next(stream)
        else:
            examples = draw_examples(rng, pool, cfg, processor.tokenizer, schema, max_lines)
            batch = collate(processor, examples, cfg.max_target_tokens)
        batch = {k: v.to(cfg.device) for k, v in batch.items()}
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
            log.info(
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


def _new_state(cfg: PretrainConfig) -> dict:
    spec = asdict(cfg.spec)
    return {
        "step": 0,
        "minutes": 0.0,
        "history": [],
        "best": None,
        "spec": spec,
        "tokenizer": cfg.tokenizer,
        "pages_seen": 0,
        "level": 1,
    }


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
