"""DVC stage `ocr`: OCR (cached per image) of the records that need it → data/text/<sha256>.json + manifest.json."""

from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.queries.pipeline import run_ocr_stage

    manifest = run_ocr_stage(
        root / "data/ingested",
        root / "data/selected.jsonl",
        root / "data/text",
        params.text,
        params.queries,
        baseline="ocr_baseline" in params.evaluate.baselines,
        progress=True,
    )
    print(
        f"ocr: {manifest['images']} image(s), {manifest['ocr_run']} run, {manifest['reused']} reused"
        + (f" ({manifest['reason']})" if manifest["reason"] else "")
    )


if __name__ == "__main__":
    run(main)
