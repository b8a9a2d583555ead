"""The GRPO stage: TRL GRPOTrainer (+ PEFT LoRA) on the query data set, tracked in MLflow, resumable.

Checkpoints live in `train.work_dir/checkpoints`, outside the DVC output (DVC deletes outputs
before a stage runs). A re-run continues from the last checkpoint when the configuration still
matches (only step counts and logging/saving cadence may change), and logs into the same MLflow run.

Under `accelerate launch` every process runs this stage; only the main process decides about the work
dir, tracks in MLflow, writes the run state and publishes the model. The others take its decisions
(checkpoint to resume from, run id) from it, join the collective weight gathering of the final save
(`Trainer.save_model`: ZeRO-3 / FSDP shards) and return once the model is published.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import statistics
from pathlib import Path
from typing import Any

from medvie.errors import ConfigError, DataError, MedvieError
from medvie.io import atomic_dir, read_json, write_json
from medvie.paths import PARAMS, STAGES
from medvie.training.grpo import build_grpo_config, lora_config, validate, world_size
from medvie.training.pointers import resolve_base, write_pointer
from medvie.training.tracking import (
    TrackingServerDown,
    log_params,
    mlflow_callback,
    open_run,
    params_to_log,
    provenance,
    sha256_file,
    write_curves,
)

log = logging.getLogger(__name__)

# changing these continues a run instead of starting over
RESUMABLE_KEYS = {
    "max_steps",
    "num_train_epochs",
    "save_steps",
    "save_total_limit",
    "logging_steps",
    "log_completions",
    "num_completions_to_print",
    "dataloader_num_workers",
}
STATE_FILE = "run_state.json"
TRAINING_ARGS = "training_args.bin"  # Trainer.save_model writes it beside the weights; not published
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json")
FINAL_DIR = "final"  # in work_dir: the trained weights as Trainer saves them, before they are published


def fingerprint(params, train_file: Path, model_dir: Path) -> str:
    """What a checkpoint must agree with to be resumed."""
    cfg = params.train
    grpo = {k: v for k, v in sorted(cfg.grpo.items()) if k not in RESUMABLE_KEYS}
    base = Path(resolve_base(model_dir))
    files = (
        sorted((p.name, p.stat().st_size) for p in base.iterdir() if p.is_file())
        if base.is_dir()
        else str(base)
    )
    blob = {
        "grpo": grpo,
        "processes": world_size(),  # a step's completions are split across them
        "lora": cfg.lora.model_dump(mode="json"),
        "seed": cfg.seed,
        "reward": params.reward.model_dump(mode="json"),
        "model": params.model.model_dump(mode="json"),
        "data": sha256_file(train_file),
        "base": files,
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _last_checkpoint(ckpt_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None


def _checkpoint_done(checkpoint: str) -> bool:
    """Whether a checkpoint holds all the steps its run was asked for (for run states without `finished`)."""
    path = Path(checkpoint) / "trainer_state.json"
    try:
        state = read_json(path) if path.exists() else {}
    except (OSError, ValueError):
        return False
    steps, target = state.get("global_step"), state.get("max_steps")
    return isinstance(steps, int) and isinstance(target, int) and 0 < target <= steps


def _prepare_work_dir(work_dir: Path, fp: str, resume: str) -> tuple[str | None, str | None]:
    """(checkpoint to resume from, MLflow run id to continue); stale checkpoints are removed.

    Only an unfinished run is resumed: once a training completed (the run state says `finished`), a re-run
    (e.g. `dvc repro -f train`) starts over in a new MLflow run instead of adding steps to the published one.
    """
    ckpt_dir = work_dir / "checkpoints"
    state_path = work_dir / STATE_FILE
    state = read_json(state_path) if state_path.exists() else {}
    last = _last_checkpoint(ckpt_dir)
    finished = state.get("finished")
    if finished is None and last:
        finished = _checkpoint_done(last)
    if resume == "auto" and last and state.get("fingerprint") == fp and not finished:
        return last, state.get("mlflow_run_id")
    if ckpt_dir.exists():
        if last:
            if resume == "never":
                why = "train.resume is never"
            elif state.get("fingerprint") != fp:
                why = "the configuration, data or base model changed"
            else:
                why = f"its training finished in MLflow run {state.get('mlflow_run_id')}; a new run begins"
            log.info("train: not resuming from %s (%s); starting over", last, why)
        shutil.rmtree(ckpt_dir)
    return None, None


def _write_state(
    work_dir: Path, fp: str, run_id: str, *, finished: bool, global_step: int | None = None
) -> None:
    state: dict[str, Any] = {"fingerprint": fp, "mlflow_run_id": run_id, "finished": finished}
    if global_step is not None:
        state["global_step"] = global_step
    write_json(work_dir / STATE_FILE, state)


def _load_dataset(queries_dir: Path, split: str):
    from medvie.queries.dataset import load_queries

    path = queries_dir / f"{split}.jsonl"
    if not path.exists():
        raise DataError(f"{path}: not found; run the queries stage first (dvc repro queries)")
    ds = load_queries(path)
    if len(ds) == 0:
        raise DataError(f"{path}: no queries to train on")
    return ds, path


def training_dtype(params) -> str:
    """The dtype training loads the model in: model.dtype, else bfloat16 with train.grpo.bf16."""
    if params.model.dtype != "auto":
        return params.model.dtype
    return "bfloat16" if params.train.grpo.get("bf16") else "float32"


def train_grpo(
    params,
    root: Path,
    *,
    queries_dir: Path | None = None,
    model_dir: Path | None = None,
    out_dir: Path | None = None,
    plots_dir: Path | None = None,
    work_dir: Path | None = None,
    tracking_uri: str | None = None,
    artifact_uri: str | None = None,
    params_file: Path | None = None,
) -> dict[str, Any]:
    """The `train` stage: GRPO from `model_dir` on `queries_dir`; write `out_dir` (adapter, pointer,
    trainer_state.json, mlflow_run.json) and the curves in `plots_dir`. Paths not given are the
    train stage's (`medvie.paths`) under `root`, the project whose MLflow store is used."""
    from medvie.env import mlflow_uris

    root = Path(root)
    cfg = params.train
    where = STAGES["train"].resolve(
        root, params, queries_dir=queries_dir, model_dir=model_dir, out_dir=out_dir, plots_dir=plots_dir
    )
    queries_dir, model_dir, out_dir, plots_dir = (
        where[k] for k in ("queries_dir", "model_dir", "out_dir", "plots_dir")
    )
    work_dir = Path(work_dir or root / cfg.work_dir)
    default_tracking, default_artifacts = mlflow_uris(root)
    tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking
    artifact_uri = artifact_uri or default_artifacts

    # everything that can be wrong in the config fails here, before the model is loaded
    validate(cfg)
    from medvie.rewards.registry import build_reward_funcs

    funcs, weights = build_reward_funcs(params.reward)
    if not funcs:
        raise ConfigError("reward: no reward functions configured")
    args = build_grpo_config(cfg, work_dir / "checkpoints", reward_weights=weights)
    dataset, train_file = _load_dataset(queries_dir, cfg.split)
    validate(cfg, n_prompts=len(dataset), check_runtime=False)
    if not model_dir.exists():
        raise DataError(f"{model_dir}: model not found; run the warmstart stage first (dvc repro warmstart)")

    # GRPOConfig set up the processes of this launch (accelerate's PartialState): one, or one per GPU
    dist = args.distributed_state
    main = dist is None or dist.is_main_process
    client = None
    plan: dict[str, Any] | None = None
    if main:
        try:
            fp = fingerprint(params, train_file, model_dir)
            resume_from, run_id = _prepare_work_dir(work_dir, fp, cfg.resume)
            shutil.rmtree(work_dir / FINAL_DIR, ignore_errors=True)

            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
            run_id, exp_id = open_run(client, run_id, artifact_uri, run_name=f"grpo-{fp[:8]}")
            _write_state(work_dir, fp, run_id, finished=False)
            plan = {"fingerprint": fp, "resume_from": resume_from, "run_id": run_id, "experiment_id": exp_id}
        except BaseException as exc:
            _from_main(dist, {"error": f"{exc.__class__.__name__}: {exc}".splitlines()[0]})
            raise
    # the other processes wait here until the main one has prepared the work dir and opened the run
    plan = _from_main(dist, plan)
    if "error" in plan:
        raise MedvieError(f"train: the main process failed before training ({plan['error']})")
    fp, resume_from, run_id, exp_id = (
        plan[k] for k in ("fingerprint", "resume_from", "run_id", "experiment_id")
    )
    run_info = {"run_id": run_id, "experiment_id": exp_id, "tracking_uri": tracking_uri}
    status = "FAILED"
    try:
        if client is not None:
            prov_params, tags = provenance(root, queries_dir)
            log_params(client, run_id, {**params_to_log(params), **prov_params, "train.fingerprint": fp})
            for key, value in tags.items():
                client.set_tag(run_id, key, value)
            if resume_from:
                client.set_tag(run_id, "resumed_from", Path(resume_from).name)
        summary = _fit(
            params,
            args,
            funcs,
            dataset,
            model_dir,
            out_dir,
            plots_dir,
            resume_from,
            callbacks=[mlflow_callback(client, run_id)] if client is not None else [],
            final_dir=work_dir / FINAL_DIR,
        )
        if client is not None:
            write_json(out_dir / "mlflow_run.json", run_info)
            _log_artifacts(client, run_id, out_dir, plots_dir, params_file or root / PARAMS, summary)
            _write_state(work_dir, fp, run_id, finished=True, global_step=summary["global_step"])
            log.info("train: %d steps, MLflow run %s", summary["global_step"], run_id)
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    except TrackingServerDown:
        status = ""  # nothing to tell a dead server: the run stays open and the re-run resumes into it
        raise
    finally:
        if client is not None and status:
            client.set_terminated(run_id, status)
    if dist is not None:
        dist.wait_for_everyone()  # every process returns once the model is published
    return {**summary, **run_info}


def _from_main(dist, payload: Any) -> Any:
    """The main process's `payload` on every process of the launch (the others wait for it)."""
    if dist is None or dist.num_processes == 1:
        return payload
    import torch.distributed

    box = [payload]
    torch.distributed.broadcast_object_list(box, src=0)  # the process group accelerate set up
    return box[0]


def rollout_dataset(args, dataset, processor):
    """`dataset` with its images fitted to the processor's pixel budget, the one every consumer obeys (vLLM
    reads the checkpoint's own budget otherwise); with vLLM rollouts and no `vllm_max_model_length`, that
    length set to the longest prompt + `max_completion_length`."""
    from medvie.modeling.processor import pixel_budget
    from medvie.queries.dataset import fit_images, longest_prompt

    dataset = fit_images(dataset, pixel_budget(processor))
    if getattr(args, "use_vllm", False) and args.vllm_max_model_length is None:
        args.vllm_max_model_length = longest_prompt(dataset, processor) + args.max_completion_length
        log.info("train: vllm_max_model_length %d (longest prompt + completion)", args.vllm_max_model_length)
    return dataset


def _fit(
    params,
    args,
    funcs,
    dataset,
    model_dir: Path,
    out_dir: Path,
    plots_dir: Path,
    resume_from: str | None,
    callbacks,
    final_dir: Path,
) -> dict[str, Any]:
    """Train; every process saves the weights as Trainer does (shards gathered), the main one publishes
    them in `out_dir` and writes the curves and the summary."""
    from trl import GRPOTrainer

    from medvie.modeling.loading import load

    model, processor = load(
        str(model_dir),
        device="cpu",
        dtype=training_dtype(params),
        attn_implementation=params.model.attn_implementation,
        min_pixels=params.model.min_pixels,
        max_pixels=params.model.max_pixels,
    )
    model.train()
    processor.tokenizer.padding_side = "left"
    dataset = rollout_dataset(args, dataset, processor)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        peft_config=lora_config(params.train),
        callbacks=callbacks,
    )
    start_step = 0
    if resume_from:
        start_step = read_json(Path(resume_from) / "trainer_state.json").get("global_step", 0)
        log.info("train: resuming from %s (step %d)", resume_from, start_step)
    trainer.train(resume_from_checkpoint=resume_from)

    lora = params.train.lora.enabled
    # collective under ZeRO-3 / FSDP (the full weights are gathered); only the main process writes
    trainer.save_model(str(final_dir))
    summary: dict[str, Any] = {"global_step": trainer.state.global_step, "resumed_from_step": start_step}
    if not trainer.accelerator.is_main_process:
        return summary
    with atomic_dir(out_dir) as tmp:
        if lora:
            _publish_files(final_dir, tmp / "adapter", lambda name: name.startswith("adapter_"))
            processor.save_pretrained(str(tmp))
            write_pointer(tmp, resolve_base(model_dir), "adapter", final_dir=out_dir)
        else:  # weights, config, generation config and the processor, as save_model wrote them
            _publish_files(final_dir, tmp, lambda name: name != TRAINING_ARGS)
        trainer.state.save_to_json(str(tmp / "trainer_state.json"))
    shutil.rmtree(final_dir, ignore_errors=True)
    curves = write_curves(trainer.state.log_history, plots_dir)

    step_times = [h["step_time"] for h in trainer.state.log_history if "step_time" in h]
    summary = {
        **summary,
        "lora": lora,
        "step_time_mean_s": round(statistics.mean(step_times), 4) if step_times else None,
        # Linux reports KiB
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "curves": [p.name for p in curves],
    }
    write_json(out_dir / "train_summary.json", summary)
    return summary


def _publish_files(src: Path, dst: Path, keep) -> None:
    """Move the files of `src` whose name `keep` accepts into `dst`; no weights among them is an error."""
    names = sorted(p.name for p in src.iterdir() if p.is_file() and keep(p.name)) if src.is_dir() else []
    if not any(name.endswith(WEIGHT_SUFFIXES) for name in names):
        raise MedvieError(
            f"train: the trained model in {src} has no weights file; under DeepSpeed ZeRO-3 set "
            "zero3_save_16bit_model: true in the accelerate config"
        )
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.move(str(src / name), str(dst / name))


def _log_artifacts(
    client, run_id: str, out_dir: Path, plots_dir: Path, params_file: Path, summary: dict
) -> None:
    if (out_dir / "adapter").is_dir():
        client.log_artifacts(run_id, str(out_dir / "adapter"), "adapter")
    for name in ("trainer_state.json", "train_summary.json", "medvie_model.json"):
        if (out_dir / name).exists():
            client.log_artifact(run_id, str(out_dir / name), "model")
    if params_file.exists():
        client.log_artifact(run_id, str(params_file), "params")
    if plots_dir.is_dir():
        client.log_artifacts(run_id, str(plots_dir), "plots/train")
    for key in ("step_time_mean_s", "peak_rss_mib"):
        if summary.get(key) is not None:
            client.log_metric(run_id, f"train.{key}", summary[key])
