"""Two training processes under `accelerate launch` (torch.distributed on CPU, gloo): one MLflow run, one
run state, one published model, and it holds the weights the processes trained.

They start from configs/accelerate/cpu.yaml, params.yaml's train.launch: `accelerate launch --cpu` would
start a single process (its simple launcher needs an MPI hostfile for more), so the config names the
torchrun launcher (MULTI_GPU) with no GPU visible; train.grpo.use_cpu makes accelerate's state a
multi-CPU one on gloo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Each process runs `train_grpo` as the train stage would; a spy on GRPOTrainer.train keeps the weights
# each rank ends its training with (the LoRA weights, or the whole model), to compare with what was published.
ENTRY = """
import json, sys
from pathlib import Path

from medvie.env import apply_defaults

apply_defaults()

import torch
import trl
from peft import get_peft_model_state_dict

from medvie.settings import parse_params
from medvie.training.train import train_grpo

root = Path(sys.argv[1])
params = parse_params(json.loads(Path(sys.argv[2]).read_text()))
_train = trl.GRPOTrainer.train


def train(self, *args, **kwargs):
    out = _train(self, *args, **kwargs)
    model = self.accelerator.unwrap_model(self.model)
    weights = get_peft_model_state_dict(model) if hasattr(model, "peft_config") else model.state_dict()
    torch.save({k: v.detach().cpu().clone() for k, v in weights.items()},
               root / f"trained-rank{self.args.process_index}.pt")
    return out


trl.GRPOTrainer.train = train
summary = train_grpo(params, root)
(root / f"summary-rank{torch.distributed.get_rank()}.json").write_text(json.dumps(summary, default=str))
"""


@pytest.fixture
def two_process_run(project, grpo_recipe):
    def launch(lora: bool = True, **grpo) -> subprocess.CompletedProcess:
        # params.yaml's CPU recipe; 2 processes x 4 completions = 2 prompts x 4 rollouts a step
        recipe = {**grpo_recipe, "max_completion_length": 8, "per_device_train_batch_size": 4, **grpo}
        params = {"train": {"grpo": recipe, "lora": {"enabled": lora}}}
        (project / "params.json").write_text(json.dumps(params))
        (project / "entry.py").write_text(ENTRY)
        accelerate = Path(sys.executable).with_name("accelerate")
        cmd = [
            str(accelerate),
            "launch",
            "--config_file",
            str(REPO / "configs" / "accelerate" / "cpu.yaml"),  # the CPU default's train.launch
            str(project / "entry.py"),
            str(project),
            str(project / "params.json"),
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
        # a session of its own: on a timeout the launcher and both workers are stopped together
        proc = subprocess.Popen(
            cmd,
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)

    return launch


def _one_run(project, steps: int) -> str:
    """The MLflow run both processes name, checked to be the only one, finished, with one curve."""
    from mlflow import MlflowClient

    summaries = [json.loads((project / f"summary-rank{r}.json").read_text()) for r in (0, 1)]
    run_id = summaries[0]["run_id"]
    assert summaries[1]["run_id"] == run_id  # every process knows the one run
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [r.info.run_id for r in runs] == [run_id]
    assert runs[0].info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run_id, "reward")] == list(range(1, steps + 1))
    assert runs[0].data.params["train.grpo.num_generations"] == "4"

    state = json.loads((project / "build" / "train" / "run_state.json").read_text())
    assert state == {
        "fingerprint": state["fingerprint"],
        "mlflow_run_id": run_id,
        "finished": True,
        "global_step": steps,
    }
    out = project / "models" / "grpo"
    assert json.loads((out / "mlflow_run.json").read_text())["run_id"] == run_id
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == steps
    # nothing left half-published by another process
    assert sorted(p.name for p in (project / "models").iterdir()) == ["grpo", "warmstart"]
    assert not (project / "build" / "train" / "final").exists()
    return run_id


def test_two_processes_track_and_publish_once(project, two_process_run):
    import torch
    from safetensors.torch import load_file

    from medvie.modeling.loading import load

    done = two_process_run(max_steps=2, save_steps=1)
    assert done.returncode == 0, done.stderr[-4000:]
    _one_run(project, steps=2)

    out = project / "models" / "grpo"
    assert json.loads((out / "medvie_model.json").read_text()) == {
        "base": "../warmstart",
        "adapter": "adapter",
    }
    assert sorted(p.name for p in (out / "adapter").iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    published = load_file(str(out / "adapter" / "adapter_model.safetensors"))
    trained = [torch.load(project / f"trained-rank{r}.pt") for r in (0, 1)]
    assert set(published) == set(trained[0]) and published
    for name, value in published.items():
        assert torch.equal(value, trained[0][name]), name
        assert torch.equal(value, trained[1][name]), name  # DDP kept the processes in step

    model, _ = load(str(out))  # the published model loads (base + adapter, merged)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_two_processes_publish_one_full_fine_tuned_model(project, two_process_run):
    import torch

    from medvie.modeling.loading import load

    done = two_process_run(lora=False, max_steps=1, save_steps=1, max_completion_length=4)
    assert done.returncode == 0, done.stderr[-4000:]
    _one_run(project, steps=1)

    out = project / "models" / "grpo"
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()
    assert not (out / "medvie_model.json").exists() and not (out / "training_args.bin").exists()
    model, _ = load(str(out))
    loaded = model.state_dict()
    trained = torch.load(project / "trained-rank0.pt")
    assert set(loaded) == set(trained)
    for name, value in trained.items():
        assert torch.equal(loaded[name], value), name
