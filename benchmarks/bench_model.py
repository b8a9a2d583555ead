"""Tiny Qwen2.5-VL on one CPU thread: parameters, tokens per sample, train step time and generation speed,
for both tokenizers (byte-level BPE learnt on synthetic pages vs the real Qwen2 vocabulary).

    OMP_NUM_THREADS=1 python benchmarks/bench_model.py [--steps 5] [--pages 40]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from medvie.env import apply_defaults

apply_defaults()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokenizers", default="bpe,qwen")
    args = ap.parse_args()

    import torch

    from medvie.modeling.loading import generate
    from medvie.modeling.tiny import build_tiny, build_tokenizer
    from medvie.queries.build import chat_prompt
    from medvie.training.pretrain import PretrainConfig
    from medvie.training.pretrain.config import TRAIN_SEED0
    from medvie.training.pretrain.data import (
        _corpus,
        _page,
        _schema,
        collate,
        default_renderer,
        make_example,
    )

    torch.set_num_threads(1)
    cfg = PretrainConfig()
    render = default_renderer("tiny")
    desc = _schema()
    pages = [_page(render(TRAIN_SEED0 + 10_000 + i, "en")) for i in range(args.pages)]
    for kind in args.tokenizers.split(","):
        corpus = _corpus(render, cfg, desc) if kind == "bpe" else None
        tok = build_tokenizer(kind, corpus, vocab_size=cfg.vocab_size)
        model, proc = build_tiny(tok, cfg.spec)
        n_params = sum(p.numel() for p in model.parameters())
        rng = random.Random(0)
        per_kind = {}
        for k in ("lines", "page", "extract"):
            ex = [make_example(p, k, rng, 3, desc) for p in pages]
            per_kind[k] = (
                statistics.mean(len(tok(e["target"])["input_ids"]) for e in ex),
                statistics.mean(len(tok(e["text"])["input_ids"]) for e in ex),
            )
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        times = []
        for step in range(args.steps + 1):
            ex = [
                make_example(
                    rng.choice(pages), rng.choices(list(cfg.mix), list(cfg.mix.values()))[0], rng, 3, desc
                )
                for _ in range(args.batch)
            ]
            t = time.perf_counter()
            batch = collate(proc, ex, cfg.max_target_tokens)
            loss = model(**batch).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step:
                times.append(time.perf_counter() - t)
        model.eval()
        t = time.perf_counter()
        generate(
            model,
            proc,
            [p["image"] for p in pages[:8]],
            [chat_prompt("Transcribe the text in the image.")] * 8,
            max_new_tokens=32,
            batch_size=8,
            min_new_tokens=32,
        )
        gen = time.perf_counter() - t
        print(
            f"[{kind}] params {n_params:,} (embeddings {model.get_input_embeddings().weight.numel():,}), "
            f"vocab {len(tok)}"
        )
        for k, (tgt, prm) in per_kind.items():
            print(f"[{kind}]   {k:8s} target tokens {tgt:6.1f}  prompt text tokens {prm:6.1f}")
        print(
            f"[{kind}] train step (batch {args.batch}) {statistics.mean(times):.2f} s; "
            f"generation {8 * 32 / gen:.1f} tokens/s (batch 8)"
        )


if __name__ == "__main__":
    main()
