"""train.launch: `python -m stages.train` and `medvie train` start GRPO's processes from the named
accelerate config; the processes of a launch train in place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from medvie.errors import ConfigError
from medvie.training import launch

REPO = Path(__file__).resolve().parents[2]


class Execd(Exception):
    pass


@pytest.fixture
def outside_a_launch(monkeypatch):
    for key in (launch.LAUNCHED, "WORLD_SIZE", "ACCELERATE_MIXED_PRECISION"):
        monkeypatch.delenv(key, raising=False)
    calls = []

    def execve(path, argv, env):
        calls.append((path, argv, env))
        raise Execd

    monkeypatch.setattr(launch.os, "execve", execve)
    return calls


def test_outside_a_launch_the_command_is_started_again_under_accelerate(outside_a_launch):
    with pytest.raises(Execd):
        launch.relaunch("configs/accelerate/cpu.yaml", REPO, ["-m", "stages.train"])
    [(path, argv, env)] = outside_a_launch
    assert Path(path).name == "accelerate" and argv[0] == path
    assert argv[1:] == [
        "launch",
        "--config_file",
        str(REPO / "configs/accelerate/cpu.yaml"),
        "-m",
        "stages.train",
    ]
    assert env[launch.LAUNCHED] == "1"  # its processes do not launch again


@pytest.mark.parametrize("marker", [launch.LAUNCHED, "WORLD_SIZE", "ACCELERATE_MIXED_PRECISION"])
def test_inside_a_launch_it_trains_in_place(outside_a_launch, monkeypatch, marker):
    monkeypatch.setenv(marker, "1")
    launch.relaunch("configs/accelerate/cpu.yaml", REPO, ["-m", "stages.train"])
    assert outside_a_launch == []


def test_a_missing_config_is_one_line_naming_the_param(outside_a_launch, tmp_path):
    with pytest.raises(ConfigError) as exc:
        launch.relaunch("configs/accelerate/nope.yaml", tmp_path, ["-m", "stages.train"])
    message = str(exc.value)
    assert "\n" not in message and message.startswith("train.launch: configs/accelerate/nope.yaml not found")
    assert outside_a_launch == []


def test_a_config_that_is_not_yaml_mapping_is_one_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="is not an accelerate config"):
        launch.processes("bad.yaml", tmp_path)


def test_the_default_recipe_makes_two_prompts_of_four_rollouts_a_step():
    from medvie.settings import load_params
    from medvie.training.grpo import validate

    params = load_params(REPO / "params.yaml")
    n = launch.processes(params.train.launch, REPO)
    grpo = params.train.grpo
    assert n == 2 and grpo["per_device_train_batch_size"] * n == 2 * grpo["num_generations"]
    validate(params.train, processes=n, check_runtime=False)


def test_every_preset_names_a_shipped_launch():
    for path in sorted((REPO / "configs" / "presets").glob("*.yaml")):
        name = yaml.safe_load(path.read_text())["train"]["launch"]
        assert launch.processes(name, REPO) >= 1, path.name
        assert os.path.dirname(name) == "configs/accelerate", path.name
