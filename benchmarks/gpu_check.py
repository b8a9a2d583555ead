"""GPU check on the release-shaped tiny Qwen2.5-VL: one GRPO + LoRA run of a few steps and one greedy batch.

Builds `medvie.modeling.real_shapes` (the 7B release's vocabulary, files and attention layout, tiny widths)
into a private Hugging Face cache, loads it by hub id with the stock `AutoProcessor` (the torchvision
image processor where torchvision is installed), trains with TRL's GRPOTrainer + PEFT LoRA using the
single-GPU LoRA preset's settings (small batch and completion length), then generates one evaluation
batch greedily through `medvie.modeling.loading.generate`. Prints step times, peak GPU memory and
tokens/s, and one JSON line with all numbers.

Imports only torch, transformers, peft, trl, datasets, PIL, yaml and the medvie modules that need none
of MLflow, Prefect, DVC or pydantic, so it runs where only the ML stack is installed (see gpu_check.sh).
Dry run without a GPU: `python benchmarks/gpu_check.py --device cpu --dtype float32`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUB_ID = "medvie-test/Qwen2.5-VL-real-shapes"
PRESET = ROOT / "configs" / "presets" / "single-gpu-lora.yaml"
FORBIDDEN = ("mlflow", "prefect", "dvc", "pydantic")  # not installed where this runs


class _ImportWatch:
    """Records imports of FORBIDDEN packages made from medvie's code or this script (libraries may try
    optional ones: where those are missing they do without). Never changes what is imported."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in FORBIDDEN and top not in self.seen:
            frame = sys._getframe(1)
            while frame is not None:
                caller = frame.f_globals.get("__name__", "")
                if caller.startswith("medvie") or caller == "__main__":
                    self.seen.add(f"{top} (from {caller})")
                    break
                if not caller.startswith(("importlib", "_frozen_importlib")):
                    break  # imported by a library
                frame = frame.f_back
        return None


WATCH = _ImportWatch()
sys.meta_path.insert(0, WATCH)


def _args(argv: list[str] | None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda (the check) or cpu (a dry run of the same code)")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    ap.add_argument("--work", default=None, help="scratch folder (default: a fresh temporary one)")
    ap.add_argument(
        "--preset", default=str(PRESET), help="params preset whose train.lora / train.grpo are used"
    )
    ap.add_argument("--prompts", type=int, default=2, help="prompts per step")
    ap.add_argument("--generations", type=int, default=4, help="rollouts per prompt")
    ap.add_argument("--steps", type=int, default=3, help="optimizer steps (the first one warms up)")
    ap.add_argument("--max-completion-length", type=int, default=48)
    ap.add_argument("--eval-batch", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--page", default="896x672", help="page size in pixels, WxH")
    ap.add_argument("--heads", type=int, default=2, help="attention heads of 128 dims (hidden = 128 x heads)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--vision-depth", type=int, default=4)
    return ap.parse_args(argv)


def _env(work: Path) -> None:
    """Offline, with a private hub cache: set before transformers / huggingface_hub are imported."""
    os.environ["HF_HOME"] = str(work / "hf")
    os.environ["HF_HUB_CACHE"] = str(work / "hf" / "hub")
    for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ[key] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name in (
        "torch",
        "torchvision",
        "transformers",
        "trl",
        "peft",
        "accelerate",
        "datasets",
        "tokenizers",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def _preset(path: str) -> tuple[dict, dict]:
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    train = data.get("train", {})
    return dict(train.get("lora", {})), dict(train.get("grpo", {}))


def _lora_config(lora: dict):
    """peft.LoraConfig as `medvie.training.grpo.lora_config` builds it (language model layers only)."""
    from peft import LoraConfig

    names = lora.get("target_modules", ["q_proj", "k_proj", "v_proj", "o_proj"])
    target = (
        rf".*language_model.*\.({'|'.join(sorted(set(names)))})" if lora.get("language_only", True) else names
    )
    return LoraConfig(
        r=lora.get("r", 16),
        lora_alpha=lora.get("alpha", 32),
        lora_dropout=lora.get("dropout", 0.05),
        target_modules=target,
        task_type="CAUSAL_LM",
    )


def _page(i: int, size: tuple[int, int]):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    lines = ["LABORATORY REPORT", f"Name: Patient {i}", f"Age: {30 + i}", "Department: Hematology"]
    lines += [f"WBC {4 + i % 5}.{i % 10}  10^9/L  3.5-9.5" for _ in range(6)]
    for k, line in enumerate(lines):
        draw.text((24, 24 + 28 * k), line, fill="black")
    return img


PROMPT = (
    "Extract the following fields from the medical report as JSON: Name, Age, Department. First output the "
    "thinking process in <think></think> tags, then the final answer in <answer></answer> tags."
)


def _queries(work: Path, n: int, size: tuple[int, int]) -> Path:
    """data/queries-like train.jsonl + page images, in the project's query data set contract."""
    qdir = work / "queries"
    (qdir / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        _page(i, size).save(qdir / "images" / f"r{i}.png")
        rows.append(
            {
                "id": f"q{i}",
                "record_id": f"r{i}",
                "prompt": [
                    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": PROMPT}]}
                ],
                "image": f"images/r{i}.png",
                "truth": json.dumps({"Name": f"Patient {i}", "Age": str(30 + i), "Department": "Hematology"}),
            }
        )
    path = qdir / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


GROUPS: list[list[str]] = []


def _text(c) -> str:
    return c[0]["content"] if isinstance(c, list) else str(c)


def spread_reward(completions, **kwargs) -> list[float]:
    """A reward that differs between rollouts (so advantages and gradients are non-zero), from a hash."""
    texts = [_text(c) for c in completions]
    GROUPS.append(texts)
    return [int(hashlib.sha1(t.encode()).hexdigest()[:4], 16) / 65535 for t in texts]


def format_reward(completions, **kwargs) -> list[float]:
    return [float("<answer>" in _text(c)) for c in completions]


def _load(device: str, dtype: str):
    """Model and stock processor by hub id from the private cache; a CPU dry run without torchvision
    falls back to medvie's processor."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    try:
        proc = AutoProcessor.from_pretrained(HUB_ID)
    except ImportError as exc:
        if device.startswith("cuda"):
            raise
        from medvie.modeling.loading import load_processor

        proc = load_processor(HUB_ID)
        why = str(exc).strip().splitlines()[0]
        print(f"dry run: stock processor unavailable ({why}); {type(proc).__name__} instead")
    if not hasattr(proc, "image_processor"):
        raise SystemExit(f"AutoProcessor gave {type(proc).__name__}, without an image processor")
    model = AutoModelForImageTextToText.from_pretrained(
        HUB_ID, dtype=getattr(torch, dtype), attn_implementation="sdpa"
    )
    return model.to(device), proc


def main(argv: list[str] | None = None) -> dict:
    args = _args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="medvie-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    _env(work)
    t_start = time.perf_counter()
    import torch

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("no CUDA device; for a dry run pass --device cpu --dtype float32")
    versions = _versions()
    print("versions:", json.dumps(versions))

    from medvie.modeling.real_shapes import RealShapesSpec, install_in_hub_cache, write_real_shapes

    spec = RealShapesSpec(
        heads=args.heads,
        layers=args.layers,
        vision_depth=args.vision_depth,
        fullatt_block_indexes=(args.vision_depth - 1,),
    )
    t = time.perf_counter()
    ckpt = write_real_shapes(work / "Qwen2.5-VL-real-shapes", spec, dtype="bfloat16")
    install_in_hub_cache(ckpt, HUB_ID, work / "hf" / "hub")
    print(f"checkpoint: {ckpt} as {HUB_ID} ({time.perf_counter() - t:.1f}s)")

    model, processor = _load(args.device, args.dtype)
    print(f"processor: {type(processor).__name__} / {type(processor.image_processor).__name__}")
    lora, grpo = _preset(args.preset)
    if "max_pixels" in (yaml_model := _model_section(args.preset)):
        from medvie.modeling.processor import set_pixel_budget

        set_pixel_budget(processor, yaml_model.get("min_pixels"), yaml_model["max_pixels"])

    from medvie.queries.dataset import load_queries

    w, h = (int(x) for x in args.page.lower().split("x"))
    n_prompts = max(args.prompts * args.steps, args.eval_batch)
    dataset = load_queries(_queries(work, n_prompts, (w, h)))

    from trl import GRPOConfig, GRPOTrainer

    grpo.update(
        output_dir=str(work / "grpo"),
        report_to="none",
        save_strategy="no",
        seed=0,
        bf16=args.dtype == "bfloat16",
        use_cpu=not cuda,
        num_generations=args.generations,
        per_device_train_batch_size=args.prompts * args.generations,
        gradient_accumulation_steps=1,
        max_steps=args.steps,
        num_train_epochs=1,
        max_completion_length=args.max_completion_length,
        mask_truncated_completions=False,  # a random model never stops: keep its tokens in the loss
        logging_steps=1,
        log_completions=False,
        use_vllm=False,
        dataloader_num_workers=0,
    )
    for key in ("save_steps", "save_total_limit"):
        grpo.pop(key, None)
    config = GRPOConfig(**grpo)
    processor.tokenizer.padding_side = "left"
    model.train()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[spread_reward, format_reward],
        args=config,
        train_dataset=dataset,
        processing_class=processor,
        peft_config=_lora_config(lora),
    )
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t
    logs = [h for h in trainer.state.log_history if "step_time" in h]
    step_times = [round(h["step_time"], 3) for h in logs]
    tokens = [h.get("num_tokens") for h in logs]
    later = step_times[1:] or step_times
    step_s = sum(later) / len(later)
    peak_train = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    per_step_tokens = (tokens[-1] - tokens[-2]) if len(tokens) > 1 else (tokens[0] if tokens else 0)
    distinct = [
        len(set(g[i : i + args.generations])) for g in GROUPS for i in range(0, len(g), args.generations)
    ]

    from medvie.modeling.loading import generate

    trainer.model.eval()
    images = [_page(i, (w, h)) for i in range(args.eval_batch)]
    prompts = [dataset[i]["prompt"] for i in range(args.eval_batch)]
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    outs = generate(
        trainer.model,
        processor,
        images,
        prompts,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.eval_batch,
    )
    if cuda:
        torch.cuda.synchronize()
    eval_s = time.perf_counter() - t
    new_tokens = sum(len(processor.tokenizer(o, add_special_tokens=False)["input_ids"]) for o in outs)
    peak_eval = torch.cuda.max_memory_allocated() / 2**30 if cuda else None

    forbidden = sorted(WATCH.seen)
    result = {
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "dtype": args.dtype,
        "spec": {
            "hidden": spec.hidden,
            "heads": spec.heads,
            "layers": spec.layers,
            "vision_depth": spec.vision_depth,
        },
        "trainable_params": trainable,
        "steps": len(step_times),
        "step_time_s": step_times,
        "step_time_mean_after_first_s": round(step_s, 3),
        "train_tokens_per_step": per_step_tokens,
        "train_tokens_per_s": round(per_step_tokens / step_s, 1) if step_s else None,
        "distinct_rollouts_per_prompt": distinct,
        "train_wall_s": round(train_s, 2),
        "peak_gpu_mem_train_gib": round(peak_train, 3) if peak_train is not None else None,
        "eval_batch": args.eval_batch,
        "eval_s": round(eval_s, 3),
        "eval_new_tokens": new_tokens,
        "eval_tokens_per_s": round(new_tokens / eval_s, 1) if eval_s else None,
        "peak_gpu_mem_eval_gib": round(peak_eval, 3) if peak_eval is not None else None,
        "loss": [h.get("loss") for h in logs],
        "forbidden_imports": forbidden,
        "total_s": round(time.perf_counter() - t_start, 1),
        "versions": versions,
    }
    print(f"step time: {step_times} s (mean after the first {step_s:.3f} s)")
    peaks = result["peak_gpu_mem_train_gib"], result["peak_gpu_mem_eval_gib"]
    print(f"peak GPU memory: train {peaks[0]} GiB, eval {peaks[1]} GiB")
    print(f"tokens/s: train {result['train_tokens_per_s']}, greedy eval {result['eval_tokens_per_s']}")
    print(f"distinct rollouts per prompt (of {args.generations}): {distinct}")
    print("GPU_CHECK " + json.dumps(result))
    if forbidden:
        raise SystemExit(f"imported modules that the GPU machine lacks: {forbidden[:5]}")
    if any(d < 2 for d in distinct):
        raise SystemExit(
            "rollouts of a prompt are identical: sampling settings leak from generation_config.json"
        )
    return result


def _model_section(path: str) -> dict:
    import yaml

    return dict((yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("model", {}))


if __name__ == "__main__":
    main()
