"""Warm start: SFT that teaches a model to read (transcription) and to answer in the format (extraction).

A model that can neither read a page nor write `<think>…</think><answer>{json}</answer>` gets no
reward signal from GRPO. Transcription targets (the paper's OCR-SFT) come from the record's text
layer; extraction targets (JSON-SFT) are the queries' ground truth in the answer format. The mix is
`warmstart.transcription_share`: 0 gives the paper's JSON-SFT-100 baseline, 1 its OCR-SFT → RL
variant. By default (`enabled: auto`) only the tiny model is warm-started; for a real Qwen2.5-VL the
stage writes a pointer to the base (pure RL, as in the paper) so the DAG stays the same.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

from medvie.errors import DataError
from medvie.io import atomic_dir, read_jsonl, write_json
from medvie.log import shown
from medvie.training.config import WarmstartConfig
from medvie.training.pointers import resolve_base, write_pointer

log = logging.getLogger(__name__)

TRANSCRIBE_PROMPT = "Read out all the text of this document, line by line."


def is_enabled(cfg: WarmstartConfig, model_name: str) -> bool:
    return model_name == "tiny" if cfg.enabled == "auto" else bool(cfg.enabled)


def extraction_target(truth: Any, thinking: bool, think_text: str) -> str:
    import json

    answer = truth if isinstance(truth, str) else json.dumps(truth, ensure_ascii=False)
    return (
        f"<think>{think_text}</think><answer>{answer}</answer>" if thinking else f"<answer>{answer}</answer>"
    )


def transcription_target(text_layer: list[dict], max_chars: int) -> str:
    """The page's lines in reading order, cut at the last whole line within `max_chars`."""
    out: list[str] = []
    used = 0
    for item in text_layer:
        line = str(item.get("text", "")).strip()
        if not line:
            continue
        if used + len(line) + 1 > max_chars and out:
            break
        out.append(line[:max_chars])
        used += len(line) + 1
    return "\n".join(out)


def _text_layers(records_file: Path) -> dict[str, tuple[str, list[dict]]]:
    """record id → (image path, text layer) for records that carry one."""
    if not records_file.exists():
        return {}
    out = {}
    for rec in read_jsonl(records_file):
        layer = (rec.get("meta") or {}).get("text_layer")
        if layer:
            out[rec["id"]] = (str((records_file.parent / rec["image"]).resolve()), layer)
    return out


def build_examples(
    queries_file: Path, records_file: Path, cfg: WarmstartConfig
) -> tuple[list[dict], dict[str, int]]:
    """Prompt-completion examples (image as a path) mixing extraction and transcription; and their counts."""
    queries = read_jsonl(queries_file)
    rng = random.Random(cfg.seed)
    extraction = []
    for q in queries:
        extraction.append(
            {
                "prompt": q["prompt"],
                "completion": [
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "type": "text",
                                "text": extraction_target(
                                    q["truth"], bool(q.get("thinking", True)), cfg.think_text
                                ),
                            }
                        ],
                    }
                ],
                "image": str((queries_file.parent / q["image"]).resolve()),
            }
        )
    layers = _text_layers(records_file)
    wanted = {q.get("record_id") for q in queries}
    pool = [layers[r] for r in sorted(wanted) if r in layers]
    transcription = [
        {
            "prompt": [
                {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": TRANSCRIBE_PROMPT}]}
            ],
            "completion": [
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": transcription_target(layer, cfg.transcription_max_chars)}
                    ],
                }
            ],
            "image": image,
        }
        for image, layer in pool
    ]
    share = cfg.transcription_share
    if share > 0 and not transcription:
        raise DataError(
            f"{records_file}: no text layer for the records of {queries_file.name}; "
            "transcription needs one — set warmstart.transcription_share: 0"
        )
    if share >= 1:
        examples = transcription
    elif share <= 0:
        examples = extraction
    else:
        n_t = max(1, round(len(extraction) * share / (1 - share)))
        # cycle through the records so the share holds even when there are fewer pages than queries
        examples = extraction + [transcription[i % len(transcription)] for i in range(n_t)]
    if not examples:
        raise DataError(f"{queries_file}: no queries to warm-start on")
    rng.shuffle(examples)
    counts = {"extraction": sum(e in extraction for e in examples), "total": len(examples)}
    counts["transcription"] = counts["total"] - counts["extraction"]
    return examples, counts


def run_warmstart(
    cfg: WarmstartConfig,
    model_cfg,
    *,
    base_dir: Path,
    queries_dir: Path,
    records_file: Path,
    out_dir: Path,
    work_dir: Path,
) -> dict[str, Any]:
    """The `warmstart` stage: SFT `base_dir` → full checkpoint in `out_dir`; or, when disabled, a
    pointer to the base. `records_file` gives transcription targets (text layers); `work_dir` is scratch."""
    base_dir, queries_dir, records_file = Path(base_dir), Path(queries_dir), Path(records_file)
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    if not base_dir.exists():
        raise DataError(f"{base_dir}: base model not found; run the model stage first (dvc repro model)")
    if not is_enabled(cfg, model_cfg.name_or_path):
        with atomic_dir(out_dir) as tmp:
            write_pointer(tmp, resolve_base(base_dir), None, final_dir=out_dir)
            write_json(tmp / "warmstart.json", {"enabled": False})
        log.info("warmstart: off (pointer to %s)", shown(base_dir))
        return {"enabled": False}

    queries_file = queries_dir / f"{cfg.split}.jsonl"
    if not queries_file.exists():
        raise DataError(f"{queries_file}: not found; run the queries stage first (dvc repro queries)")
    examples, counts = build_examples(queries_file, records_file, cfg)
    model, processor, losses = _sft(cfg, model_cfg, base_dir, examples, work_dir)
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(str(tmp))
        processor.save_pretrained(str(tmp))
        summary = {
            "enabled": True,
            "examples": counts,
            "steps": cfg.steps,
            "transcription_share": cfg.transcription_share,
            "loss": losses,
        }
        write_json(tmp / "warmstart.json", summary)
    log.info("warmstart: trained %d steps on %d examples -> %s", cfg.steps, counts["total"], shown(out_dir))
    return summary


def _sft(cfg: WarmstartConfig, model_cfg, base_dir: Path, examples: list[dict], work_dir: Path):
    import datasets
    from trl import SFTConfig, SFTTrainer

    from medvie.modeling.loading import load

    model, processor = load(
        str(base_dir),
        device="cpu",
        dtype="bfloat16" if cfg.bf16 else "float32",
        attn_implementation=model_cfg.attn_implementation,
        min_pixels=model_cfg.min_pixels,
        max_pixels=model_cfg.max_pixels,
    )
    model.train()
    ds = datasets.Dataset.from_list(examples).cast_column("image", datasets.Image())
    args = SFTConfig(
        output_dir=str(work_dir),
        max_steps=cfg.steps,
        learning_rate=cfg.lr,
        lr_scheduler_type=cfg.lr_scheduler_type,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        use_cpu=cfg.use_cpu,
        bf16=cfg.bf16,
        activation_checkpointing=cfg.gradient_checkpointing,
        # image tokens sit in the prompt: truncation would cut them and break the model's input
        max_length=None,
        completion_only_loss=True,
        report_to="none",
        save_strategy="no",
        logging_steps=max(1, cfg.steps // 20),
        seed=cfg.seed,
    )
    peft_config = None
    if cfg.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            task_type="CAUSAL_LM",
            target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj)",
        )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=ds, processing_class=processor, peft_config=peft_config
    )
    trainer.train()
    trained: Any = trainer.model
    if cfg.lora:
        # GRPO adds its own adapter on top, so the SFT one is folded into the weights
        trained = trained.merge_and_unload()
    losses = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    return trained, processor, losses
