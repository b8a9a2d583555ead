"""DVC stage `synth`: render the embedded default data set into data/synthetic (the user layout)."""

from pathlib import Path

from medvie.data.synth import write_dataset
from medvie.settings import Params
from stages._common import run

OUT = Path("data/synthetic")


def main(params: Params, root: Path) -> None:
    cfg = params.data.synthetic
    out = write_dataset(root / OUT, cfg.n, cfg.seed, cfg.preset, cfg.languages, progress=True)
    print(f"synth: {cfg.n} {cfg.preset} reports ({', '.join(cfg.languages)}) -> {out.relative_to(root)}")


if __name__ == "__main__":
    run(main)
