"""evaluate.workers: the models answer in processes of their own, with the answers they give one after
another; a model predictor travels to a worker as its directory and settings."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from medvie.evaluation.evaluate import evaluate
from medvie.evaluation.predictors import ModelPredictor

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_dirs(untrained_tiny) -> tuple[Path, Path]:
    """The embedded checkpoint and an untrained tiny one: two models that answer differently."""
    return REPO / "pretrained" / "tiny", untrained_tiny


@pytest.fixture
def rows(name_rows) -> list[dict]:
    texts = ["Give Name as JSON." + " Only the value." * i for i in range(4)]
    return [{**row, "strategy": "subset", "doc_type": "lab"} for row in name_rows(texts)]


def test_a_model_predictor_pickles_without_its_model(model_dirs):
    predictor = ModelPredictor(model_dirs[0], max_new_tokens=4, batch_size=2).load()
    copy = pickle.loads(pickle.dumps(predictor))
    assert copy._loaded is None and predictor._loaded is not None
    assert copy.model_dir == predictor.model_dir and copy.max_new_tokens == 4


def test_models_in_worker_processes_answer_as_one_after_another(model_dirs, rows):
    def predictors():
        models = {
            f"m{i}": ModelPredictor(d, max_new_tokens=6, batch_size=3) for i, d in enumerate(model_dirs)
        }
        return {**models, "echo": lambda rs: ['{"name": "P0"}'] * len(rs)}  # runs in this process

    alone = evaluate(predictors(), rows, workers=1)
    together = evaluate(predictors(), rows, workers=2)

    assert list(together) == ["m0", "m1", "echo"]
    for name in alone:
        assert together[name]["predictions"] == alone[name]["predictions"], name
        assert together[name]["metrics"]["f1"] == alone[name]["metrics"]["f1"]
    assert alone["m0"]["predictions"] != alone["m1"]["predictions"]  # two models, not one twice
