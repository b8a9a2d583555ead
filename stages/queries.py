"""DVC stage `queries`: selected train records + val/test → data/queries/{train,val,test}.jsonl."""

from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.queries.pipeline import run_queries

    cfg = params.queries
    summary = run_queries(
        root / "data/ingested",
        root / "data/selected.jsonl",
        root / "data/queries",
        cfg,
        text_dir=root / "data/text",
        schema_path=root / cfg.schema_,
    )
    print("queries: " + ", ".join(f"{s} {summary[s]['queries']}" for s in ("train", "val", "test")))


if __name__ == "__main__":
    run(main)
