"""A tiny checkpoint laid out like the public Qwen/Qwen2.5-VL-7B-Instruct release, with random weights.

Everything a released snapshot brings along is there and the same shape where it matters: the real
Qwen2 vocabulary (151,665 tokens, special tokens at their released ids) in an embedding of 152,064
rows, head_dim 128 with the 7B's mrope sections, the vision tower's patching (14 px patches,
temporal patch 2, 2x2 merge) with window attention (112 px windows, full attention only in some
blocks), the release's file set (config.json in the flat pre-5.x layout, sharded safetensors with
the pre-5.x weight names and an index, tokenizer.json / tokenizer_config.json, chat_template.json,
preprocessor_config.json, generation_config.json with Qwen's sampling defaults). Only the widths
and depths are small, so code paths that a 7B run takes (loading, processor, LoRA targets,
generation, GRPO) can be exercised on a CPU in seconds, or on a GPU in bf16.

`install_in_hub_cache` puts such a folder into a local Hugging Face cache under a hub id, so
`from_pretrained("Org/Name")` resolves it offline.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from medvie.io import atomic_dir, write_json
from medvie.modeling.tokenizers import CHAT_TEMPLATE, QWEN2_PATTERN, SPECIAL_TOKENS, qwen_tiktoken_path

REAL_VOCAB = 151_665  # regular tokens + the 22 added ones
EMBED_ROWS = 152_064  # the released embedding / lm_head rows (padded to a multiple of 128)
HEAD_DIM = 128
MROPE_SECTION = [16, 24, 24]  # (time, height, width) shares of head_dim / 2 = 64
# added tokens that the release marks as not special (they stay in decoded text)
NOT_SPECIAL = {"<tool_call>", "</tool_call>"} | {
    t for t in SPECIAL_TOKENS if t.startswith(("<|fim", "<|repo", "<|file"))
}
IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073]
IMAGE_STD = [0.26862954, 0.26130258, 0.27577711]
# the release's pixel budget: 4 to 16384 image tokens of 28 x 28 pixels
RELEASE_MIN_PIXELS = 3136
RELEASE_MAX_PIXELS = 12_845_056
SHARD_PREFIXES = ("model.embed_tokens.", "lm_head.")  # first shard; the rest goes to the second


@dataclass(frozen=True)
class RealShapesSpec:
    """Widths and depths of the tiny stand-in; everything else is the 7B release's."""

    heads: int = 2
    kv_heads: int = 1  # grouped-query attention, like the 7B's 28 / 4
    layers: int = 2
    intermediate: int = 512
    vision_depth: int = 2
    vision_heads: int = 2
    vision_intermediate: int = 256
    fullatt_block_indexes: tuple[int, ...] = (1,)  # the 7B: every 8th block of 32; the others use windows
    tie_embeddings: bool = False  # the 7B keeps lm_head apart from the embedding

    @property
    def hidden(self) -> int:
        return self.heads * HEAD_DIM

    @property
    def vision_hidden(self) -> int:
        return self.vision_heads * 80  # the 7B's vision head_dim: 1280 / 16

    def __post_init__(self):
        if self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})")
        full = set(self.fullatt_block_indexes)
        if not full <= set(range(self.vision_depth)) or len(full) >= self.vision_depth:
            raise ValueError(
                f"fullatt_block_indexes {self.fullatt_block_indexes} must leave at least one of the "
                f"{self.vision_depth} vision blocks windowed"
            )


def release_config(spec: RealShapesSpec = RealShapesSpec()) -> dict:
    """config.json as the release writes it (flat text keys, `rope_scaling` of type mrope), tiny widths."""
    ids = {t: REAL_VOCAB - len(SPECIAL_TOKENS) + i for i, t in enumerate(SPECIAL_TOKENS)}
    return {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "attention_dropout": 0.0,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "vision_token_id": ids["<|vision_pad|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "hidden_act": "silu",
        "hidden_size": spec.hidden,
        "initializer_range": 0.02,
        "intermediate_size": spec.intermediate,
        "max_position_embeddings": 128000,
        "max_window_layers": 28,
        "model_type": "qwen2_5_vl",
        "num_attention_heads": spec.heads,
        "num_hidden_layers": spec.layers,
        "num_key_value_heads": spec.kv_heads,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "sliding_window": 32768,
        "tie_word_embeddings": spec.tie_embeddings,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.41.2",
        "use_cache": True,
        "use_sliding_window": False,
        "vision_config": {
            "depth": spec.vision_depth,
            "hidden_act": "silu",
            "hidden_size": spec.vision_hidden,
            "intermediate_size": spec.vision_intermediate,
            "num_heads": spec.vision_heads,
            "in_chans": 3,
            "out_hidden_size": spec.hidden,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "spatial_patch_size": 14,
            "window_size": 112,
            "fullatt_block_indexes": list(spec.fullatt_block_indexes),
            "tokens_per_second": 2,
            "temporal_patch_size": 2,
        },
        "rope_scaling": {"type": "mrope", "mrope_section": list(MROPE_SECTION)},
        "vocab_size": EMBED_ROWS,
    }


GENERATION_CONFIG = {
    "bos_token_id": 151643,
    "pad_token_id": 151643,
    "do_sample": True,
    "eos_token_id": [151645, 151643],
    "repetition_penalty": 1.05,
    "temperature": 0.1,
    "top_p": 0.001,
    "top_k": 1,
    "transformers_version": "4.37.0",
}

PREPROCESSOR_CONFIG = {
    "min_pixels": RELEASE_MIN_PIXELS,
    "max_pixels": RELEASE_MAX_PIXELS,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": IMAGE_MEAN,
    "image_std": IMAGE_STD,
    "image_processor_type": "Qwen2VLImageProcessor",
    "processor_class": "Qwen2_5_VLProcessor",
}


def release_tokenizer():
    """A `tokenizers.Tokenizer` like the release's tokenizer.json: Qwen2 BPE, NFC, 22 added tokens."""
    from tokenizers import AddedToken, normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    tok = TikTokenConverter(vocab_file=str(qwen_tiktoken_path()), pattern=QWEN2_PATTERN).converted()
    tok.normalizer = normalizers.NFC()
    for t in SPECIAL_TOKENS:  # one by one: the ids follow the regular vocabulary in this order
        tok.add_tokens([AddedToken(t, normalized=False, special=t not in NOT_SPECIAL)])
    if tok.get_vocab_size() != REAL_VOCAB:
        raise RuntimeError(f"the Qwen2 vocabulary has {tok.get_vocab_size()} tokens, not {REAL_VOCAB}")
    return tok


def _tokenizer_config(tok) -> dict:
    added = {
        str(tok.token_to_id(t)): {
            "content": t,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": t not in NOT_SPECIAL,
        }
        for t in SPECIAL_TOKENS
    }
    return {
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "additional_special_tokens": [t for t in SPECIAL_TOKENS[1:] if t not in NOT_SPECIAL],
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def build_real_shapes_model(spec: RealShapesSpec = RealShapesSpec(), seed: int = 0, dtype: str = "float32"):
    """The randomly initialised `Qwen2_5_VLForConditionalGeneration` of `release_config(spec)`."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    config = Qwen2_5_VLConfig(**release_config(spec))
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    return model.to(getattr(torch, dtype))


def _release_name(key: str) -> str:
    """A transformers-5 weight name as the release (transformers 4.x layout) spells it."""
    if key.startswith("model.language_model."):
        return "model." + key[len("model.language_model.") :]
    if key.startswith("model.visual."):
        return key[len("model.") :]
    return key


def _save_weights(model, out: Path, dtype: str) -> None:
    """Two safetensors shards + index, named as in the release (model-0000i-of-00002.safetensors)."""
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        name = _release_name(key)
        if name == "lm_head.weight" and model.config.tie_word_embeddings:
            continue
        tensors[name] = value.detach().to(getattr(torch, dtype)).contiguous()
    names = [f"model-0000{i}-of-00002.safetensors" for i in (1, 2)]
    shards: list[dict[str, torch.Tensor]] = [{}, {}]
    for name, value in tensors.items():
        shards[0 if name.startswith(SHARD_PREFIXES) else 1][name] = value
    weight_map = {}
    for fname, shard in zip(names, shards, strict=True):
        save_file(shard, str(out / fname), metadata={"format": "pt"})
        weight_map.update({k: fname for k in shard})
    total = sum(v.numel() * v.element_size() for v in tensors.values())
    write_json(
        out / "model.safetensors.index.json",
        {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
    )


def write_real_shapes(
    out_dir: str | Path, spec: RealShapesSpec = RealShapesSpec(), *, seed: int = 0, dtype: str = "bfloat16"
) -> Path:
    """Write the tiny release-shaped checkpoint into `out_dir` (replaced whole); weights saved in `dtype`."""
    model = build_real_shapes_model(spec, seed=seed)
    tok = release_tokenizer()
    with atomic_dir(out_dir) as tmp:
        write_json(tmp / "config.json", release_config(spec))
        write_json(tmp / "generation_config.json", GENERATION_CONFIG)
        write_json(tmp / "preprocessor_config.json", PREPROCESSOR_CONFIG)
        write_json(tmp / "chat_template.json", {"chat_template": CHAT_TEMPLATE})
        write_json(tmp / "tokenizer_config.json", _tokenizer_config(tok))
        tok.save(str(tmp / "tokenizer.json"))
        _save_weights(model, tmp, dtype)
    return Path(out_dir)


def _snapshot_hash(folder: Path) -> str:
    h = hashlib.sha1()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(str(path.stat().st_size).encode())
    return h.hexdigest()


def install_in_hub_cache(src_dir: str | Path, repo_id: str, cache_dir: str | Path) -> Path:
    """Place `src_dir`'s files as the `main` snapshot of model `repo_id` in the hub cache `cache_dir`.

    `cache_dir` is what HF_HUB_CACHE names (HF_HOME/hub by default). Files are hard-linked where the
    file system allows, copied otherwise. Returns the snapshot folder.
    """
    src = Path(src_dir)
    if len(repo_id.split("/")) != 2:
        raise ValueError(f"repo_id '{repo_id}' must look like Org/Name")
    repo = Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))
    if (repo / "blobs").is_dir():
        raise ValueError(f"{repo} holds a downloaded model; install the stand-in into another cache")
    revision = _snapshot_hash(src)
    snap = repo / "snapshots" / revision
    if snap.exists():
        shutil.rmtree(snap)
    snap.mkdir(parents=True)
    for path in src.iterdir():
        if not path.is_file():
            continue
        try:
            os.link(path, snap / path.name)
        except OSError:
            shutil.copy2(path, snap / path.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snap


def main(argv: list[str] | None = None) -> None:
    """`python -m medvie.modeling.real_shapes OUT_DIR [--hub-cache DIR --repo-id Org/Name]`."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--hub-cache", help="also install it into this Hugging Face hub cache")
    ap.add_argument("--repo-id", default="medvie-test/Qwen2.5-VL-real-shapes")
    args = ap.parse_args(argv)
    out = write_real_shapes(args.out_dir)
    print(f"wrote {out}")
    if args.hub_cache:
        print(f"installed as {args.repo_id}: {install_in_hub_cache(out, args.repo_id, args.hub_cache)}")


if __name__ == "__main__":
    main()
