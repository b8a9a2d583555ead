"""DVC stage `ingest`: params `data.source` folder -> data/ingested/."""

from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.data.ingest import ingest

    ingest(root / params.data.source, root / "data" / "ingested", params.data, log=print)


if __name__ == "__main__":
    run(main)
