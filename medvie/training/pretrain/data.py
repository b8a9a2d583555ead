"""Pretraining data: synthetic pages, the example kinds made of them, and padded batches."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

from medvie.training.pretrain.config import EVAL_SEED0, TRAIN_SEED0, PretrainConfig

TRANSCRIBE = "Transcribe the text in the image."
COPY = "Copy the text above, line by line."
FORMAT_SUFFIX = (
    "First output the thinking process in <think></think> tags, then the final answer in "
    "<answer></answer> tags; the final answer is JSON."
)
ROW_KEY = "Indicators"
THINK_TEXT = "I read the report and copy the asked fields."


# ---------------------------------------------------------------- pages and examples


def training_families(exclude: tuple[str, ...]) -> tuple[str, ...]:
    from medvie.data.families import FAMILY_NAMES, check_families

    check_families(exclude)
    kept = tuple(f for f in FAMILY_NAMES if f not in exclude)
    if not kept:
        from medvie.errors import ConfigError

        raise ConfigError("every report family is held out; keep at least one for pretraining")
    return kept


def default_renderer(
    preset: str, families: tuple[str, ...] | None = None, recombine: float = 0.0
) -> Callable[[int, str], Any]:
    from medvie.data.families import FAMILY_NAMES
    from medvie.data.synth import render_report

    families = families or FAMILY_NAMES

    def render(seed: int, language: str):
        # a seed the generator cannot lay out is skipped, not fatal: a long run must not die on one page
        for attempt in range(10):
            try:
                return render_report(
                    seed + attempt * 7_919_993, preset, language, families=families, recombine=recombine
                )
            except AssertionError:
                continue
        return render_report(seed, preset, language, families=families, recombine=recombine)

    return render


def _page(report) -> dict:
    meta = report.meta or {}
    lines = [ln for ln in meta.get("text_layer", []) if str(ln.get("text", "")).strip()]
    return {
        "image": report.image.convert("RGB"),
        "label": report.label,
        "doc_type": report.doc_type,
        "lines": lines,
        "family": meta.get("family"),
        # the traits it was printed with (a recombined form has no name to look up); a custom renderer's
        # reports may not say
        "form": getattr(report, "form", None),
    }


def join_lines(lines: list[dict]) -> str:
    """Text layer items as an OCR engine groups them: items on one visual row joined by a space (none where
    they touch, as "(3.5-9.5)" drawn in three runs), rows by newlines."""
    out, prev = [], None
    for ln in lines:
        x0, y0, x1, y1 = ln["box"]
        text = str(ln["text"])
        if prev is not None:
            px1, py0, py1, ptext = prev
            overlap = min(y1, py1) - max(y0, py0)
            if overlap <= 0.5 * min(y1 - y0, py1 - py0):
                out.append("\n")
            elif x0 - px1 > 0.12 * (y1 - y0) or text[:1].isspace() or ptext[-1:].isspace():
                out.append(" ")
        out.append(text.strip())
        prev = (x1, y0, y1, text)
    return "".join(out)


SYLLABLES = ("ka", "ro", "mi", "ten", "vo", "sal", "de", "qui", "lo", "bar", "nu", "fe", "zan", "to", "ri")


def novel_label(rng: random.Random) -> str:
    """A made-up label word ("Kamiro", "Ten Vosal"): nothing but the prompt can say which key it names."""
    words = [
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) for _ in range(rng.randint(1, 2))
    ]
    text = " ".join(w.capitalize() for w in words)
    return text.upper() if rng.random() < 0.2 else text


def relabel(page: dict, rng: random.Random) -> tuple[list[dict], dict[str, list[str]]]:
    """The page's text items with some printed key labels swapped for made-up words, and those words
    per key."""
    from medvie.data.families import family

    fam = page.get("form") or (family(page["family"]) if page.get("family") else None)
    if fam is None:
        return page["lines"], {}
    swap: dict[str, str] = {}
    extra: dict[str, list[str]] = {}
    for key in list(page["label"]) + ["Item Name", "Result", "Unit", "Reference Range", "Abnormal Mark"]:
        printed = fam.label(key, False) if key in fam.labels else fam.head(key, False)
        if printed and printed not in swap and rng.random() < 0.5:  # one word per printed label
            word = novel_label(rng)
            swap[printed] = word
            extra[key] = [word]
    lines = []
    for ln in page["lines"]:
        text = str(ln["text"])
        if ln.get("field") is None:
            for old, new in swap.items():
                if text == old or text.rstrip(" :=-") == old:
                    text = new + text[len(old) :]
                    break
        lines.append({**ln, "text": text})
    return lines, extra


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
    page: dict, kind: str, rng: random.Random, max_lines: int, schema, hints: float = 0.0, novel: float = 0.0
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
    hint = ""
    if lines and rng.random() < hints:
        if rng.random() < novel:
            lines, extra = relabel(page, rng)
            schema = schema.with_aliases(extra, "en")
        hint = hint_text(lines, rng)
    prompt, truth = sample_query(page["label"], rng, schema, hint)
    return {"image": page["image"], "text": prompt, "target": answer_text(truth), "truth": truth}


def echo_example(tokenizer, rng: random.Random, min_tokens: int = 8, max_tokens: int = 40) -> dict:
    """Random vocabulary pieces in rows, to be copied back.

    Nothing but copying predicts random text, so this is the purest signal for the attention that
    continues an earlier occurrence (an induction head), which value copying from the text hints needs
    and which page-text copying alone grew too slowly here."""
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


def collate(processor, examples: list[dict], max_target_tokens: int):
    """Right-padded batch; labels only on the completion (+ <|im_end|>), never on prompt or image tokens."""
    from medvie.queries.build import chat_prompt

    tok = processor.tokenizer
    prompts = [
        processor.apply_chat_template(
            chat_prompt(e["text"], e["image"] is not None), tokenize=False, add_generation_prompt=True
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
            text=[p + t for p, t in zip(prompts, targets, strict=True)],
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


def held_out(render, cfg: PretrainConfig) -> list[dict]:
    return [
        _page(render(EVAL_SEED0 + i, cfg.languages[i % len(cfg.languages)])) for i in range(cfg.eval_pages)
    ]


def unseen_family_pages(cfg: PretrainConfig) -> list[dict]:
    """Pages of the excluded families, only to draw their curve: checkpoints are never chosen by them."""
    if not cfg.exclude_families:
        return []
    render = default_renderer(cfg.preset, cfg.exclude_families)
    return [
        _page(render(EVAL_SEED0 + 50_000 + i, cfg.languages[i % len(cfg.languages)]))
        for i in range(cfg.eval_pages)
    ]


def _corpus(render, cfg: PretrainConfig, schema) -> list[str]:
    rng = random.Random(cfg.seed)
    texts = [TRANSCRIBE, FORMAT_SUFFIX]
    for i in range(cfg.corpus_pages):
        page = _page(render(TRAIN_SEED0 - 1 - i, cfg.languages[i % len(cfg.languages)]))
        texts.append(join_lines(page["lines"]))
        prompt, truth = sample_query(page["label"], rng, schema)
        texts += [prompt, answer_text(truth), json.dumps(page["label"], ensure_ascii=False)]
    return texts


def draw_examples(
    rng: random.Random, pool: list[dict], cfg: PretrainConfig, tokenizer, schema, max_lines: int
) -> list[dict]:
    """One batch's examples: an echo batch of its own (its short sequences would mostly be padding beside
    page-sized ones), else kinds drawn by `cfg.mix` over pages of the pool."""
    page_mix = {k: w for k, w in cfg.mix.items() if k != "echo" and w > 0}
    echo_share = cfg.mix.get("echo", 0.0) / sum(cfg.mix.values()) if page_mix else 1.0
    if echo_share and rng.random() < echo_share:
        return [echo_example(tokenizer, rng) for _ in range(cfg.batch_size * cfg.echo_batch_factor)]
    drawn = rng.choices(list(page_mix), list(page_mix.values()), k=cfg.batch_size)
    drawn = ["lines" if k == "page" and max_lines < cfg.page_from_level else k for k in drawn]
    return [
        make_example(rng.choice(pool), kind, rng, max_lines, schema, cfg.hints, cfg.novel_labels)
        for kind in drawn
    ]


class BatchStream:
    """Endless collated batches from worker processes (a torch IterableDataset's protocol): each worker
    renders its own pages, from seeds no other worker, evaluation or the pipeline uses."""

    def __init__(self, cfg: PretrainConfig, processor, schema, start_step: int, max_lines: int):
        self.cfg, self.processor, self.schema = cfg, processor, schema
        self.start_step, self.max_lines = start_step, max_lines

    def __iter__(self):
        import torch

        torch.set_num_threads(1)
        info = torch.utils.data.get_worker_info()
        wid = info.id if info is not None else 0
        cfg = self.cfg
        rng = random.Random(f"{cfg.seed}/{self.start_step}/{wid}")
        render = default_renderer(cfg.preset, training_families(cfg.exclude_families), cfg.recombine)
        base = TRAIN_SEED0 + 10**10 * (1 + wid) + 10**5 * self.start_step
        seen = 0

        def page() -> dict:
            nonlocal seen
            seen += 1
            return _page(render(base + seen, cfg.languages[seen % len(cfg.languages)]))

        pool = [page() for _ in range(min(cfg.pool_size, 2 * cfg.batch_size))]
        while True:
            for _ in range(cfg.refresh):
                pool[rng.randrange(len(pool))] = page()
            examples = draw_examples(rng, pool, cfg, self.processor.tokenizer, self.schema, self.max_lines)
            yield dict(collate(self.processor, examples, cfg.max_target_tokens))
