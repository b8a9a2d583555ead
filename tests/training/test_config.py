"""train/warmstart params: GRPO keys checked by name, config errors before any model loads, presets,
accelerate. The GRPO recipe of these tests is params.yaml's (`grpo_recipe`), overridden per test."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from medvie.errors import ConfigError
from medvie.settings import PARAM_SECTIONS, dump_sections, load_params, parse_params
from medvie.training.config import TrainConfig, grpo_field_names
from medvie.training.grpo import LOSS_TYPES, build_grpo_config, validate

REPO = Path(__file__).resolve().parents[2]


def _train(recipe: dict, **grpo):
    return parse_params({"train": {"grpo": {**recipe, **grpo}}}).train


def test_field_list_matches_installed_trl():
    from trl import GRPOConfig

    installed = {f.name for f in dataclasses.fields(GRPOConfig) if f.init}
    assert grpo_field_names() == installed, "regenerate medvie/training/grpo_fields.json for this TRL"


def test_unknown_grpo_key_names_itself_and_suggests():
    with pytest.raises(
        ConfigError, match=r"train.grpo.*'num_generation' is not a GRPOConfig field.*num_generations"
    ):
        parse_params({"train": {"grpo": {"num_generation": 4}}})


@pytest.mark.parametrize("key", ["output_dir", "max_prompt_length", "report_to", "seed"])
def test_managed_keys_are_refused(key):
    with pytest.raises(ConfigError, match=f"'{key}' is set by medvie"):
        parse_params({"train": {"grpo": {key: 1}}})


def test_unknown_lora_key_is_an_error():
    with pytest.raises(ConfigError, match="train.lora.rank"):
        parse_params({"train": {"lora": {"rank": 8}}})


def test_batch_not_divisible_names_params(grpo_recipe):
    recipe = {**grpo_recipe, "num_generations": 4, "gradient_accumulation_steps": 1}
    with pytest.raises(
        ConfigError, match=r"not divisible by num_generations \(4\).*per_device_train_batch_size"
    ):
        validate(_train(recipe, per_device_train_batch_size=3), processes=1)
    # two processes of 2 make a generation batch of 4: fine
    validate(_train(recipe, per_device_train_batch_size=2), processes=2, check_runtime=False)


@pytest.mark.parametrize(
    ("grpo", "message"),
    [
        ({"epsilon": 0.3, "epsilon_high": 0.2}, "epsilon_high"),
        ({"loss_type": "ppo"}, "loss_type 'ppo'"),
        ({"save_steps": 0}, "save_steps"),
        ({"use_cpu": False, "bf16": True, "fp16": True}, "fp16"),
    ],
)
def test_config_errors(grpo, message, grpo_recipe):
    with pytest.raises(ConfigError, match=message):
        validate(_train(grpo_recipe, **grpo), processes=1)


@pytest.mark.parametrize(
    ("grpo", "message"),
    [
        ({"num_generations": 1, "per_device_train_batch_size": 1}, "at least 2 generations"),
        ({"num_generations": 0}, "num_generations and the batch sizes must be >= 1"),
        ({"generation_batch_size": 8, "steps_per_generation": 2}, "can not be both configured"),
        ({"generation_batch_size": 12, "per_device_train_batch_size": 8}, "divisible by the global batch"),
    ],
)
def test_grpo_config_checks_are_trls_and_still_fail_before_the_model(grpo, message, grpo_recipe, tmp_path):
    # validate leaves these to GRPOConfig; building it (train does, before the model) names the error
    cfg = _train(grpo_recipe, **grpo)
    validate(cfg, processes=1, check_runtime=False)
    with pytest.raises(ConfigError, match=rf"^train\.grpo: .*{message}"):
        build_grpo_config(cfg, tmp_path / "ckpt")


def test_a_key_left_out_takes_the_installed_trl_default():
    from trl import GRPOConfig

    defaults = {f.name: f.default for f in dataclasses.fields(GRPOConfig)}
    assert TrainConfig().grpo == {}  # the code holds no recipe: params.yaml and presets do
    per_device = defaults["per_device_train_batch_size"]
    odd = next(n for n in range(3, per_device + 2) if per_device % n)
    with pytest.raises(
        ConfigError, match=rf"= {per_device} × 1 × {defaults['gradient_accumulation_steps']} "
    ):
        validate(parse_params({"train": {"grpo": {"num_generations": odd}}}).train, processes=1)
    validate(parse_params({}).train, processes=1, check_runtime=False)  # TRL's defaults are consistent


def test_loss_types_are_the_installed_trls():
    import re

    from trl import GRPOConfig

    help_text = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(GRPOConfig)}["loss_type"]
    supported = re.search(r"Supported values are (.*?)\. ", help_text).group(1)
    assert set(re.findall(r"'(\w+)'", supported)) == set(LOSS_TYPES)


def test_params_yaml_recipe_reaches_grpo_config_unchanged(grpo_recipe, tmp_path):
    assert grpo_recipe["max_steps"] > 0 and grpo_recipe["use_cpu"]
    cfg = _train(grpo_recipe)
    validate(cfg, processes=1)
    args = build_grpo_config(cfg, tmp_path / "ckpt")
    for key, value in grpo_recipe.items():
        got = getattr(args, key)
        assert getattr(got, "value", got) == value, key


def test_too_few_prompts_for_a_generation_batch(grpo_recipe):
    with pytest.raises(ConfigError, match="needs 2 distinct prompts"):
        validate(
            _train(
                grpo_recipe, num_generations=4, per_device_train_batch_size=8, gradient_accumulation_steps=1
            ),
            n_prompts=1,
            check_runtime=False,
        )


def test_config_error_comes_before_the_model_loads(tmp_path, rewards_registry, grpo_recipe):
    from medvie.training.train import train_grpo

    params = parse_params({"train": {"grpo": {**grpo_recipe, "per_device_train_batch_size": 3}}})
    # nothing exists under tmp_path: the batch error must win over missing data or model
    with pytest.raises(ConfigError, match="per_device_train_batch_size"):
        train_grpo(params, tmp_path)


def test_warmstart_defaults_follow_the_model():
    from medvie.training.warmstart import is_enabled

    params = parse_params({})
    assert is_enabled(params.warmstart, "tiny")
    assert not is_enabled(params.warmstart, "Qwen/Qwen2.5-VL-7B-Instruct")
    forced = parse_params({"warmstart": {"enabled": True}}).warmstart
    assert is_enabled(forced, "Qwen/Qwen2.5-VL-7B-Instruct")
    with pytest.raises(ConfigError, match="warmstart.transcription_share"):
        parse_params({"warmstart": {"transcription_share": 1.5}})


@pytest.mark.parametrize("preset", ["qwen2.5-vl-7b", "single-gpu-lora"])
def test_presets_build_a_grpo_config_without_gpu(preset, tmp_path):
    from medvie.training.grpo import build_grpo_config
    from medvie.training.presets import load_with_preset

    params = load_with_preset(REPO / "params.yaml", preset, REPO)
    validate(params.train, check_runtime=False)
    args = build_grpo_config(params.train, tmp_path / "ckpt", dry_run=True)
    assert args.bf16 and args.loss_type == "dapo" and args.report_to == []
    assert args.generation_batch_size % args.num_generations == 0
    assert params.warmstart.enabled is False


def test_paper_preset_matches_the_paper(tmp_path):
    from medvie.training.grpo import build_grpo_config
    from medvie.training.presets import load_with_preset

    params = load_with_preset(REPO / "params.yaml", "qwen2.5-vl-7b", REPO)
    args = build_grpo_config(params.train, tmp_path / "ckpt", dry_run=True)
    assert (args.num_generations, args.beta, args.learning_rate) == (8, 0.04, 1e-6)
    assert (args.epsilon, args.epsilon_high, args.loss_type) == (0.2, 0.28, "dapo")
    assert args.lr_scheduler_type.value == "linear" and args.per_device_train_batch_size == 1
    assert args.use_vllm and args.vllm_mode == "colocate"
    assert not params.train.lora.enabled


def test_accelerate_configs_are_valid():
    from accelerate.commands.config.config_args import ClusterConfig

    allowed = {f.name for f in dataclasses.fields(ClusterConfig)}
    files = sorted((REPO / "configs" / "accelerate").glob("*.yaml"))
    assert {f.stem for f in files} >= {"zero3", "fsdp", "single_gpu"}
    for path in files:
        raw = yaml.safe_load(path.read_text())
        assert set(raw) <= allowed, f"{path.name}: {set(raw) - allowed}"
        ClusterConfig(**raw)  # the dataclass accept every value
        assert raw["distributed_type"] in {"DEEPSPEED", "FSDP", "NO", "MULTI_GPU"}
    zero3 = yaml.safe_load((REPO / "configs/accelerate/zero3.yaml").read_text())
    assert zero3["deepspeed_config"]["zero_stage"] == 3


def test_lora_targets_only_the_language_model():
    import re

    from medvie.training.grpo import lora_config

    cfg = lora_config(parse_params({}).train)
    pattern = re.compile(cfg.target_modules)
    assert pattern.fullmatch("model.language_model.layers.0.self_attn.q_proj")
    assert not pattern.fullmatch("model.visual.blocks.0.attn.qkv")
    assert lora_config(parse_params({"train": {"lora": {"enabled": False}}}).train) is None


def test_param_sections_dump_by_params_yaml_names():
    params = load_params(REPO / "params.yaml")
    dumped = dump_sections(params)
    assert tuple(dumped) == PARAM_SECTIONS and {"text", "train", "reward"} <= set(PARAM_SECTIONS)
    assert dumped["train"]["grpo"] == params.train.grpo
    assert dumped["reward"]["duplicate_keys"] == params.reward.duplicate_keys
    assert json.loads(json.dumps(dumped)) == dumped  # JSON types only: MLflow params and registry tags
    extra = dump_sections(params, (*PARAM_SECTIONS, "evaluate", "validate", "register"))
    assert extra["validate"] == params.validate_.model_dump(mode="json", by_alias=True)
    assert extra["register"]["name"] == params.register_.name


def test_exponent_floats_in_params_file_are_numbers(tmp_path):
    # `dvc exp run -S train.grpo.learning_rate=5e-5` writes `5e-05`, a string to YAML 1.1 readers
    from medvie.settings import load_params

    path = tmp_path / "params.yaml"
    path.write_text(
        "train:\n  grpo: {learning_rate: 5e-05, beta: 4e-2}\nwarmstart: {lr: 1e-3}\n", encoding="utf-8"
    )
    params = load_params(path)
    assert params.train.grpo["learning_rate"] == 5e-05 and params.train.grpo["beta"] == 0.04
    assert params.warmstart.lr == 1e-3
