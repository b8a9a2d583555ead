"""DVC stage `validate`: data/ingested/ -> reports/validation.{json,md}; fails on a critical expectation."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.data.pipeline import run_validate

    run_validate(params.validate_, params.data, **STAGES["validate"].resolve(root, params))


if __name__ == "__main__":
    run(main)
