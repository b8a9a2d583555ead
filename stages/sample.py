"""DVC stage `sample`: data/ingested → data/selected.jsonl + metrics/diversity.json
(features cached in data/features.npz)."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.sampling.pipeline import run_sample

    run_sample(params.sampling, **STAGES["sample"].resolve(root, params))


if __name__ == "__main__":
    run(main)
