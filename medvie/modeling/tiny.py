"""The embedded tiny Qwen2.5-VL: a real `Qwen2_5_VLForConditionalGeneration`, just small enough for
one CPU core."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from medvie.modeling.processor import MERGE, PATCH, build_processor
from medvie.modeling.tokenizers import build_bpe_tokenizer, build_qwen_tokenizer


@dataclass(frozen=True)
class TinySpec:
    """Sizes of the tiny model.

    Defaults were chosen by short measured runs (see pretrained/tiny/README.md)."""

    hidden: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 384
    vision_hidden: int = 96
    vision_depth: int = 2
    vision_heads: int = 2
    vision_intermediate: int = 256
    tie_embeddings: bool = True
    max_positions: int = 4096

    @classmethod
    def smallest(cls, **changes) -> TinySpec:
        """The smallest sizes that still exercise every part (tests of plumbing, not of learning)."""
        sizes = dict(hidden=32, layers=1, heads=2, kv_heads=1, intermediate=64, vision_hidden=32)
        return cls(**{**sizes, "vision_depth": 1, "vision_heads": 1, "vision_intermediate": 64, **changes})

    def __post_init__(self):
        head_dim = self.hidden // self.heads
        if head_dim % 8:
            raise ValueError(f"hidden/heads must be a multiple of 8 (got head_dim {head_dim})")


def _mrope_section(head_dim: int) -> list[int]:
    # Qwen2.5-VL splits rotary frequencies over (time, height, width) as 16:24:24 of head_dim/2 = 64
    half = head_dim // 2
    t = half // 4
    h = (half - t) // 2
    return [t, h, half - t - h]


def tiny_config(tokenizer, spec: TinySpec = TinySpec()):
    from transformers import Qwen2_5_VLConfig

    ids = tokenizer.convert_tokens_to_ids
    head_dim = spec.hidden // spec.heads
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": spec.hidden,
        "intermediate_size": spec.intermediate,
        "num_hidden_layers": spec.layers,
        "num_attention_heads": spec.heads,
        "num_key_value_heads": spec.kv_heads,
        "max_position_embeddings": spec.max_positions,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 10000.0,
            "mrope_section": _mrope_section(head_dim),
        },
        "bos_token_id": ids("<|endoftext|>"),
        "eos_token_id": ids("<|im_end|>"),
        "pad_token_id": ids("<|endoftext|>"),
        "tie_word_embeddings": spec.tie_embeddings,
    }
    vision = {
        "depth": spec.vision_depth,
        "hidden_size": spec.vision_hidden,
        "intermediate_size": spec.vision_intermediate,
        "num_heads": spec.vision_heads,
        "patch_size": PATCH,
        "spatial_merge_size": MERGE,
        "temporal_patch_size": 2,
        "out_hidden_size": spec.hidden,
        "window_size": 112,
        # every block attends over the whole page: pages are small and rows span its width
        "fullatt_block_indexes": list(range(spec.vision_depth)),
    }
    return Qwen2_5_VLConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
        tie_word_embeddings=spec.tie_embeddings,
    )


def default_corpus() -> list[str]:
    """Text a tokenizer can be learnt from when no synthetic pages are at hand: the schema, the answer
    format."""
    import json

    from medvie.env import project_root

    texts = [
        '<think>The report shows the asked fields.</think><answer>{"Name": "Li Wei", "Age": "45"}</answer>'
    ]
    schema = project_root() / "schemas" / "medical.json"
    if schema.exists():
        texts.append(schema.read_text(encoding="utf-8"))
    texts += [json.dumps({"Result": f"{i / 7:.2f}", "Unit": "mmol/L"}) for i in range(200)]
    texts += [
        "Extract the fields as JSON. first output the thinking process in <think></think> tags, then the "
        "final answer in <answer></answer> tags; the final answer is JSON"
    ] * 5
    return texts


def build_tokenizer(kind: str = "bpe", corpus: Iterable[str] | None = None, vocab_size: int = 512):
    if kind == "qwen":
        return build_qwen_tokenizer()
    if kind == "bpe":
        return build_bpe_tokenizer(corpus if corpus is not None else default_corpus(), vocab_size=vocab_size)
    raise ValueError(f"unknown tokenizer kind {kind!r} (use 'bpe' or 'qwen')")


def build_tiny(tokenizer=None, spec: TinySpec = TinySpec(), seed: int = 0, **processor_kwargs):
    """A randomly initialised tiny Qwen2.5-VL and its processor (float32)."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    tokenizer = tokenizer if tokenizer is not None else build_tokenizer("bpe")
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(tiny_config(tokenizer, spec))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.do_sample = False
    return model, build_processor(tokenizer, **processor_kwargs)


def save_tiny(model, processor, out_dir: str | Path, extra: dict | None = None) -> Path:
    """Save model + processor (safetensors) into `out_dir` atomically, with the spec used in
    `medvie_tiny.json`."""
    from medvie.io import atomic_dir, write_json

    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        if extra is not None:
            write_json(tmp / "medvie_tiny.json", extra)
    return Path(out_dir)


def spec_dict(spec: TinySpec) -> dict:
    return asdict(spec)
