"""Resolve a model directory / hub id to (model, processor), and batched generation."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from medvie.errors import ConfigError, MedvieError
from medvie.io import read_json, write_json
from medvie.modeling.processor import (
    MedvieQwen2_5_VLProcessor,
    fit_image,
    pixel_budget,
    register_processor,
    set_pixel_budget,
)

POINTER = "medvie_model.json"
_DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}
# image processor class names written by older transformers (released Qwen2.5-VL snapshots, fine-tunes
# saved with transformers 4.49-4.5x) that the pinned transformers no longer resolves
LEGACY_IMAGE_PROCESSORS = {
    "Qwen2_5_VLImageProcessor": "Qwen2VLImageProcessor",
    "Qwen2_5_VLImageProcessorFast": "Qwen2VLImageProcessorFast",
}
_PROCESSOR_CONFIGS = ("preprocessor_config.json", "processor_config.json")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".index.json")


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "/", "~"))


def resolve_base(name_or_path: str, relative_to: Path | None = None) -> str:
    """A local checkpoint dir for `name_or_path`; a hub id must already be in the local Hugging Face cache."""
    candidates = [Path(name_or_path).expanduser()]
    if relative_to is not None and not Path(name_or_path).is_absolute():
        candidates.insert(0, relative_to / name_or_path)
    for cand in candidates:
        if cand.is_dir():
            return str(cand.resolve())
    if not _looks_like_hub_id(name_or_path):
        raise ConfigError(
            f"model '{name_or_path}': no such directory; set model.name_or_path to a checkpoint "
            "dir, a hub id in the local cache, or 'tiny'"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(name_or_path, local_files_only=True)
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError):
        raise ConfigError(
            f"model '{name_or_path}' is not in the local Hugging Face cache and downloads are off; "
            f"pre-download it on a connected machine with `hf download {name_or_path}` (same HF_HOME), "
            "or set model.name_or_path to a local checkpoint dir"
        ) from None


def read_pointer(model_dir: str | Path) -> dict | None:
    """The `medvie_model.json` of `model_dir` ({"base", "adapter"}), or None for a plain checkpoint dir."""
    path = Path(model_dir) / POINTER
    if not path.exists():
        return None
    ptr = read_json(path)
    if not isinstance(ptr, dict) or not isinstance(ptr.get("base"), str):
        raise MedvieError(f"{path}: must be a JSON object with a string 'base' (and optional 'adapter')")
    return ptr


def _torch_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        return torch.float32 if str(device).startswith("cpu") else "auto"
    return getattr(torch, _DTYPES[dtype])


def _renamed_legacy_types(config: dict) -> bool:
    """Rename legacy image processor types in a (pre)processor config, in place; True if any was."""
    changed = False
    for section in (config, config.get("image_processor")):
        if isinstance(section, dict) and section.get("image_processor_type") in LEGACY_IMAGE_PROCESSORS:
            section["image_processor_type"] = LEGACY_IMAGE_PROCESSORS[section["image_processor_type"]]
            changed = True
    return changed


def _processor_source(path: str, stack: contextlib.ExitStack) -> str:
    """`path`, or a scratch copy of its processor files (no weights), legacy image processor types renamed."""
    folder = Path(path)
    fixed = {}
    for name in _PROCESSOR_CONFIGS:
        if (folder / name).is_file():
            try:
                config = json.loads((folder / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(config, dict) and _renamed_legacy_types(config):
                fixed[name] = config
    if not fixed:
        return path
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="medvie-processor-")))
    for item in folder.iterdir():
        if item.is_file() and not item.name.endswith(_WEIGHT_SUFFIXES) and item.name not in fixed:
            shutil.copy2(item, tmp / item.name)
    for name, config in fixed.items():
        write_json(tmp / name, config)
    return str(tmp)


def load_processor(path: str):
    """AutoProcessor, or medvie's torchvision-free processor when the stock one cannot be built here."""
    from transformers import AutoProcessor

    register_processor()
    with contextlib.ExitStack() as stack:
        src = _processor_source(path, stack)
        try:
            proc = AutoProcessor.from_pretrained(src)
        except (ImportError, ValueError, OSError):
            proc = None
        if proc is None or not hasattr(proc, "image_processor"):
            # e.g. a released Qwen2.5-VL names Qwen2_5_VLProcessor, which wants torchvision for its video part
            proc = MedvieQwen2_5_VLProcessor.from_pretrained(src)
    return proc


def load(
    path_or_id: str,
    *,
    device: str = "cpu",
    dtype: str = "auto",
    attn_implementation: str | None = "sdpa",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    merge_adapter: bool = True,
):
    """(model, processor) for a checkpoint dir, a `medvie_model.json` dir (base + adapter) or a hub id.

    The model is in eval mode on `device` (`auto`: spread over the GPUs by accelerate's `device_map`); an
    adapter is merged into its base unless `merge_adapter=False`.
    """
    from transformers import AutoModelForImageTextToText

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    src = Path(path_or_id)
    ptr = read_pointer(src) if src.is_dir() else None
    adapter = None
    if ptr is not None:
        if ptr.get("revision") or ptr.get("fingerprint"):  # a registered adapter's pinned base
            from medvie.modeling.pin import resolve_pinned

            base = resolve_pinned(ptr, src / POINTER)
        else:
            base = resolve_base(ptr["base"], relative_to=src)
        if ptr.get("adapter"):
            adapter = src / ptr["adapter"]
            if not adapter.is_dir():
                raise MedvieError(f"{src / POINTER}: adapter dir '{ptr['adapter']}' not found in {src}")
    else:
        base = resolve_base(str(path_or_id))

    processor_src = base
    # a fine-tuned model may ship its own processor (e.g. changed pixel budget) next to the pointer
    if ptr is not None and (src / "processor_config.json").exists():
        processor_src = str(src)
    processor = load_processor(processor_src)
    set_pixel_budget(processor, min_pixels, max_pixels)

    kwargs = {"dtype": _torch_dtype(dtype, device)}
    if device == "auto":  # accelerate spreads the layers over the GPUs there are (else the CPU)
        kwargs["device_map"] = "auto"
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    try:
        # Any: a PeftModel (merged or not) takes its place below
        model: Any = AutoModelForImageTextToText.from_pretrained(base, **kwargs)
    except ValueError as exc:
        raise MedvieError(
            f"model '{base}': cannot be loaded as an image-text-to-text model ({str(exc).splitlines()[0]})"
        ) from None
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
        if merge_adapter:
            model = model.merge_and_unload()
    if device != "auto":
        model.to(device)
    model.eval()
    return model, processor


# what a checkpoint's generation_config.json still decides under an explicit decoding config: its tokens
_TOKEN_FIELDS = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")


def decoding_config(model, settings: dict[str, Any], max_new_tokens: int):
    """A GenerationConfig holding `settings` (GenerationConfig fields) and the checkpoint's special tokens
    only, every other field at transformers' global default. It also replaces `model.generation_config`:
    `generate` fills the fields a passed config leaves unset from there, so the checkpoint's decoding
    choices (a repetition penalty, sampling) cannot come back in."""
    from transformers import GenerationConfig

    source = getattr(model, "generation_config", None)
    tokens = {k: getattr(source, k, None) for k in _TOKEN_FIELDS}
    config = GenerationConfig(
        **{k: v for k, v in tokens.items() if v is not None}, **settings, max_new_tokens=max_new_tokens
    )
    defaults = GenerationConfig._get_default_generation_params()
    # max_new_tokens bounds the answer; a max_length beside it makes generate warn every batch
    defaults.pop("max_length", None)
    config.update(**defaults, defaults_only=True)
    model.generation_config = config
    return config


def _apply_template(processor, prompt: list[dict]) -> str:
    return processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)


def generate(
    model,
    processor,
    images,
    prompts: list[list[dict]],
    *,
    max_new_tokens: int,
    do_sample: bool = False,
    batch_size: int = 8,
    generation_config=None,
    **gen_kwargs,
) -> list[str]:
    """Completions (special tokens stripped) for chat `prompts`, each with its image (`None` for text-only).

    Batched with left padding. With `generation_config` (see `decoding_config`) it decides the decoding
    and `do_sample` is not used; without, greedy unless `do_sample`, other settings from the checkpoint.
    """
    import copy

    import torch

    if len(images) != len(prompts):
        raise ValueError(f"{len(images)} images for {len(prompts)} prompts")
    tok = processor.tokenizer
    tok.padding_side = "left"
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    if generation_config is not None:
        generation_config = copy.deepcopy(generation_config)
        generation_config.max_new_tokens = max_new_tokens
        generation_config.pad_token_id = pad_id
        decoding: dict[str, Any] = {"generation_config": generation_config}
    else:
        decoding = {"max_new_tokens": max_new_tokens, "do_sample": do_sample, "pad_token_id": pad_id}
    device = next(model.parameters()).device
    budget = pixel_budget(processor)  # images as training saw them (`fit_image`)
    out: list[str] = []
    for start in range(0, len(prompts), batch_size):
        chunk_prompts = prompts[start : start + batch_size]
        chunk_images = images[start : start + batch_size]
        texts = [_apply_template(processor, p) for p in chunk_prompts]
        imgs = [fit_image(im.convert("RGB"), budget) for im in chunk_images if im is not None]
        if imgs and len(imgs) != len(chunk_images):
            # one processor call cannot mix image and text-only samples
            for p, im in zip(chunk_prompts, chunk_images, strict=True):
                out += generate(
                    model,
                    processor,
                    [im],
                    [p],
                    max_new_tokens=max_new_tokens,
                    do_sample=do_sample,
                    batch_size=1,
                    generation_config=generation_config,
                    **gen_kwargs,
                )
            continue
        inputs = processor(text=texts, images=imgs or None, padding=True, return_tensors="pt")
        inputs = {k: v.to(device) if hasattr(v, "to") else v for k, v in inputs.items()}
        with torch.inference_mode():
            seqs = model.generate(**inputs, **decoding, **gen_kwargs)
        new = seqs[:, inputs["input_ids"].shape[1] :]
        out += tok.batch_decode(new, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    return out
