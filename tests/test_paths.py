"""dvc.yaml and medvie/paths.py name the same files per stage; a stage and its CLI command call one
library function with those paths."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path, PurePosixPath

import pytest
import yaml

from medvie import paths
from medvie.paths import STAGES, Stage
from medvie.settings import Params, load_params

REPO = Path(__file__).resolve().parents[1]
CODE_ROOTS = ("medvie/", "stages/")

# stage -> (module, function) that `python -m stages.<stage>` and `medvie <stage>` both call
LIBRARY = {
    "synth": ("medvie.data.pipeline", "run_synth"),
    "ingest": ("medvie.data.pipeline", "run_ingest"),
    "validate": ("medvie.data.pipeline", "run_validate"),
    "sample": ("medvie.sampling.pipeline", "run_sample"),
    "ocr": ("medvie.text.pipeline", "run_ocr_stage"),
    "queries": ("medvie.queries.pipeline", "run_queries"),
    "model": ("medvie.modeling.pipeline", "run_model"),
    "warmstart": ("medvie.training.warmstart", "run_warmstart"),
    "train": ("medvie.training.train", "train_grpo"),
    "evaluate": ("medvie.evaluation.pipeline", "run_evaluate"),
    "register": ("medvie.registry.pipeline", "run_register"),
}
NO_CLI = {"register"}  # registered by the registry commands' own flow (`medvie models|promote|rollback`)


def _names(entries) -> list[str]:
    """dvc.yaml list entries: a path, or a one-key mapping {path: options}."""
    out = []
    for entry in entries or []:
        out += list(entry) if isinstance(entry, dict) else [entry]
    return out


@pytest.fixture(scope="module")
def dvc() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))


def _inside(a: str, b: str) -> bool:
    """`a` is `b` or a path under it."""
    return a == b or PurePosixPath(b) in PurePosixPath(a).parents


def test_every_dvc_stage_is_declared_and_runs_its_stage_module(dvc):
    assert list(dvc["stages"]) == list(STAGES)
    for name, stage in dvc["stages"].items():
        assert stage["cmd"] == f"python -m stages.{name}"
        assert (REPO / "stages" / f"{name}.py").is_file()


@pytest.mark.parametrize("name", list(STAGES))
def test_dvc_deps_and_outs_are_the_declared_paths(dvc, name):
    stage, declared = dvc["stages"][name], STAGES[name]
    deps = _names(stage.get("deps"))
    data = [d for d in deps if not d.startswith(CODE_ROOTS)]
    code = [d for d in deps if d.startswith(CODE_ROOTS)]
    assert sorted(data) == sorted(declared.deps), f"{name}: dvc.yaml deps vs medvie/paths.py"
    assert sorted(code) == sorted([*declared.code, f"stages/{name}.py"]), f"{name}: code deps"
    outs = [o for kind in ("outs", "metrics", "plots") for o in _names(stage.get(kind))]
    assert sorted(outs) == sorted(declared.outs), f"{name}: dvc.yaml outs vs medvie/paths.py"


def test_stage_arguments_are_declared_files(dvc):
    top_plots = _names(dvc.get("plots"))
    assert top_plots and all(_inside(p, paths.EVAL_PLOTS) for p in top_plots)
    for name, stage in STAGES.items():
        tracked = [*stage.deps, *stage.outs, *top_plots]
        for arg, path in stage.args.items():
            ok = _inside(path, paths.BUILD) or any(_inside(path, t) or _inside(t, path) for t in tracked)
            assert ok, f"{name}: argument {arg}={path} is not among the stage's deps or outs"


def test_param_paths_resolve_against_params():
    project = load_params(REPO / paths.PARAMS)
    for name, stage in STAGES.items():
        for path in [*stage.deps, *stage.args.values()]:
            for params in (Params(), project):
                resolved = paths.resolve(path, REPO, params)
                assert "${" not in str(resolved), f"{name}: {path}"
    custom = Params.model_validate({"queries": {"schema": "elsewhere/s.json"}})
    where = STAGES["queries"].resolve("/p", custom, out="q")
    assert where["schema"] == Path("/p/elsewhere/s.json") and where["out"] == Path("q")
    assert where["records"] == Path("/p") / paths.INGESTED
    assert STAGES["queries"].resolve("/p", custom, out=None)["out"] == Path("/p") / paths.QUERIES
    with pytest.raises(KeyError, match="nope.path"):
        paths.resolve("${nope.path}", "/p", custom)


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_and_cli_call_one_library_function(dvc, name):
    module_name, function = LIBRARY[name]
    module = importlib.import_module(module_name)
    source = Path(inspect.getsourcefile(module)).resolve().relative_to(REPO).as_posix()
    code = [*STAGES[name].code, f"stages/{name}.py"]
    assert any(_inside(source, c) for c in code), f"{name}: {source} is not among its code deps"
    params = inspect.signature(getattr(module, function)).parameters
    assert set(STAGES[name].args) <= set(params), f"{name}: {function} lacks a declared path argument"

    stage_source = (REPO / "stages" / f"{name}.py").read_text(encoding="utf-8")
    assert f"from {module_name} import {function}" in stage_source
    if name in NO_CLI:
        return
    from medvie.cli import app

    commands = {c.name or c.callback.__name__: c.callback for c in app.registered_commands}
    assert name in commands, f"no `medvie {name}` command"
    assert function in inspect.getsource(commands[name]), f"`medvie {name}` does not call {function}"


def test_a_stage_declares_nothing_twice():
    for name, stage in STAGES.items():
        assert isinstance(stage, Stage)
        for group in (stage.deps, stage.outs, stage.code):
            assert len(group) == len(set(group)), name
