"""DVC stage `ocr`: OCR (cached per image) of the records that need it
→ data/text/<sha256>.json + manifest.json."""

from pathlib import Path

from medvie.paths import STAGES
from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.text.pipeline import run_ocr_stage

    run_ocr_stage(params.text, params.queries, params.evaluate, **STAGES["ocr"].resolve(root, params))


if __name__ == "__main__":
    run(main)
