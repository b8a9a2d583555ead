"""DVC stage `evaluate`: models and baselines on the test queries -> metrics/eval.json, plots/eval/,
reports/eval.md (+ assets, predictions, eval_meta.json)."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.evaluation.pipeline import run_evaluate

    run_evaluate(params.evaluate, params.reward, **STAGES["evaluate"].resolve(root, params))


if __name__ == "__main__":
    run(main)
