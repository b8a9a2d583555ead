"""DVC stage `queries`: selected train records + val/test → data/queries/{train,val,test}.jsonl."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.queries.pipeline import run_queries

    run_queries(params.queries, **STAGES["queries"].resolve(root, params))


if __name__ == "__main__":
    run(main)
