"""DVC stage `sample`: data/ingested → data/selected.jsonl + metrics/diversity.json (features cached in data/features.npz)."""

from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.sampling.pipeline import run_sample

    report = run_sample(
        root / "data/ingested",
        params.sampling,
        out=root / "data/selected.jsonl",
        metrics=root / "metrics/diversity.json",
        cache_path=root / "data/features.npz",
    )
    chosen = report[params.sampling.strategy]
    print(
        f"sample: {chosen['n']} of {report['pool_size']} ({params.sampling.strategy}), "
        f"doc types {chosen['doc_types_covered']}/{report['pool_doc_types']}"
    )


if __name__ == "__main__":
    run(main)
