"""Stage `evaluate`: models and baselines on the test queries -> metrics/eval.json, plots/eval/, reports/eval.md."""

from __future__ import annotations

import json
from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.evaluation.pipeline import run_evaluate

    body = run_evaluate(params.evaluate, root, reward_cfg=params.reward, schema=root / params.queries.schema_)
    print(
        json.dumps(
            {
                m: {k: v for k, v in b.items() if k in ("f1", "precision", "recall", "n")}
                for m, b in body.items()
            }
        )
    )


if __name__ == "__main__":
    run(main)
