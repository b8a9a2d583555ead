"""DVC stage `ingest`: params `data.source` folder -> data/ingested/."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.data.pipeline import run_ingest

    run_ingest(params.data, **STAGES["ingest"].resolve(root, params))


if __name__ == "__main__":
    run(main)
