"""DVC stage `warmstart`: SFT of models/base → models/warmstart (or a pointer to the base when off)."""

from pathlib import Path

from stages._common import run


def stage(params, root: Path) -> None:
    from medvie.training.warmstart import run_warmstart

    summary = run_warmstart(
        params.warmstart,
        params.model,
        base_dir=root / "models" / "base",
        queries_dir=root / "data" / "queries",
        records_file=root / "data" / "ingested" / "records.jsonl",
        out_dir=root / "models" / "warmstart",
        work_dir=root / "build" / "warmstart",
    )
    print(f"warmstart: {'trained' if summary['enabled'] else 'off (pointer to models/base)'}")


if __name__ == "__main__":
    run(stage)
