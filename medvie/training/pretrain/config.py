"""Pretraining settings (the `medvie pretrain-tiny` flags) and the page seed ranges."""

from __future__ import annotations

from dataclasses import dataclass, field

from medvie.modeling.tiny import TinySpec

# The synth stage renders seeds `seed * 1_000_003 + i`: these ranges stay clear of any sensible
# data.synthetic.seed
TRAIN_SEED0 = 10**12
EVAL_SEED0 = 2 * 10**12


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
    # report families never drawn here (data.holdout_families): the pipeline scores the model on them as
    # forms it never saw
    exclude_families: tuple[str, ...] = ()
    # share of hinted extraction examples whose printed labels are swapped for made-up words that the prompt
    # lists as the key's aliases: the model must find a key by the labels the prompt names, not by memory
    novel_labels: float = 0.0
    # share of pages printed in a form recombined from the drawn families' traits, a headed table's columns
    # shuffled (`medvie.data.families.recombine`): the task is reading labels and headers, not known forms
    recombine: float = 0.0
    echo_batch_factor: int = 4  # an `echo` batch holds this many times batch_size (its sequences are short)
    threads: int = 1
    # processes that render pages and build batches (0: the training process does it); a GPU needs many
    workers: int = 0
    device: str = "cpu"
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
