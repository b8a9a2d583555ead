"""`medvie` commands of the modeling area: `model`, `pretrain-tiny`, `model-info`."""

from __future__ import annotations

from pathlib import Path

import typer

from medvie import paths
from medvie.cli.common import PARAMS_HELP


def pretrain_tiny(
    out: str = typer.Option(paths.TINY_CHECKPOINT, help="where the best checkpoint so far is exported"),
    work_dir: str = typer.Option(".medvie/pretrain-tiny", help="resumable training state (not committed)"),
    minutes: float = typer.Option(0.0, help="stop after this many minutes of this run (0: until stopped)"),
    steps: int = typer.Option(0, help="stop at this global step (0: no limit)"),
    checkpoint_minutes: float = typer.Option(5.0, help="checkpoint + held-out evaluation every N minutes"),
    languages: str = typer.Option("en", help="comma-separated page languages: en, zh"),
    tokenizer: str = typer.Option(
        "bpe", help="bpe (learnt on synthetic pages) | qwen (the real Qwen2 vocabulary)"
    ),
    batch_size: int = typer.Option(8),
    lr: float = typer.Option(1.5e-3),
    level_up_exact: float = typer.Option(
        0.6, help="grow crops by one text item when held-out exact accuracy reaches this"
    ),
    hints: float = typer.Option(
        0.0,
        help="share of extraction prompts that start with the page's text lines "
        "(the queries stage's text hints)",
    ),
    mix: str = typer.Option("lines=0.5,page=0.15,extract=0.35", help="example kinds and their weights"),
    init_from: str = typer.Option(
        "", help="start from this exported checkpoint's weights (e.g. pretrained/tiny)"
    ),
    novel_labels: float = typer.Option(
        0.0,
        help="share of hinted extraction examples whose printed labels become made-up words the prompt lists",
    ),
    exclude_families: str = typer.Option(
        "params", help="report families never drawn: comma-separated, or 'params' for data.holdout_families"
    ),
    recombine: float = typer.Option(
        0.0,
        help="share of pages printed in a form recombined from the drawn families' traits "
        "(labels, separators, table styles, column order)",
    ),
    eval_pages: int = typer.Option(16, help="held-out pages per checkpoint evaluation"),
    threads: int = typer.Option(1, help="torch threads"),
    workers: int = typer.Option(0, help="processes rendering pages and building batches (0: none)"),
    refresh: int = typer.Option(1, help="pages replaced in the page pool per batch"),
    device: str = typer.Option("cpu", help="cpu | cuda"),
    fresh: bool = typer.Option(False, help="discard the saved state in --work-dir and start over"),
    seed: int = typer.Option(0),
) -> None:
    """Pretrain the embedded tiny Qwen2.5-VL to read synthetic pages (resumes from its last checkpoint)."""
    import shlex
    import sys

    from medvie.errors import ConfigError
    from medvie.training.pretrain import PretrainConfig, pretrain

    langs = tuple(x.strip() for x in languages.split(",") if x.strip())
    if not langs or set(langs) - {"en", "zh"}:
        raise ConfigError(f"--languages '{languages}': use en, zh or en,zh")
    if tokenizer not in ("bpe", "qwen"):
        raise ConfigError(f"--tokenizer '{tokenizer}': use bpe or qwen")
    try:
        weights = {
            k.strip(): float(v) for k, v in (part.split("=") for part in mix.split(",") if part.strip())
        }
    except ValueError:
        raise ConfigError(f"--mix '{mix}': use kind=weight pairs, e.g. lines=0.2,extract=0.8") from None
    if (
        not weights
        or set(weights) - {"lines", "page", "extract", "copy", "echo"}
        or min(weights.values()) < 0
        or sum(weights.values()) <= 0
    ):
        raise ConfigError(
            f"--mix '{mix}': kinds are lines, page, extract, copy, echo with weights >= 0, not all 0"
        )
    if not 0.0 <= hints <= 1.0:
        raise ConfigError(f"--hints {hints}: a share between 0 and 1")
    if not 0.0 <= novel_labels <= 1.0:
        raise ConfigError(f"--novel-labels {novel_labels}: a share between 0 and 1")
    if not 0.0 <= recombine <= 1.0:
        raise ConfigError(f"--recombine {recombine}: a share between 0 and 1")
    if exclude_families == "params":
        from medvie.settings import load_params

        excluded = tuple(load_params().data.holdout_families)
    else:
        from medvie.data.families import check_families

        excluded = check_families([f.strip() for f in exclude_families.split(",") if f.strip()])
    cfg = PretrainConfig(
        out_dir=out,
        work_dir=work_dir,
        minutes=minutes,
        max_steps=steps,
        languages=langs,
        checkpoint_minutes=checkpoint_minutes,
        tokenizer=tokenizer,
        batch_size=batch_size,
        lr=lr,
        level_up_exact=level_up_exact,
        seed=seed,
        hints=hints,
        mix=weights,
        init_from=init_from,
        threads=threads,
        novel_labels=novel_labels,
        exclude_families=excluded,
        recombine=recombine,
        eval_pages=eval_pages,
        workers=workers,
        refresh=refresh,
        device=device,
    )
    args = " ".join(shlex.quote(a) for a in sys.argv[2:])
    pretrain(cfg, fresh=fresh, command_args=args)


def model(
    out: Path = typer.Option(Path(paths.BASE_MODEL), help="base model folder, replaced whole"),
    params: Path | None = typer.Option(None, help=PARAMS_HELP),
) -> None:
    """Make the base model folder from params.model: a copy of the tiny checkpoint, or a pointer."""
    from medvie.cli.common import load_params
    from medvie.modeling.pipeline import run_model

    p, root = load_params(params)
    run_model(p.model, root=root, **paths.STAGES["model"].resolve(root, p, out=out))


def model_info(
    path: str = typer.Argument(paths.BASE_MODEL, help="a model dir, a medvie_model.json dir or a hub id"),
) -> None:
    """Print what a model dir resolves to: class, parameters, vocabulary, image token budget."""
    import json

    from medvie.modeling.loading import load

    model, processor = load(path)
    size = processor.image_processor.size
    info = {
        "class": type(model).__name__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab": len(processor.tokenizer),
        "dtype": str(next(model.parameters()).dtype),
        "min_pixels": size["shortest_edge"],
        "max_pixels": size["longest_edge"],
        "processor": type(processor).__name__,
    }
    typer.echo(json.dumps(info, indent=2))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("model")(model)
    app.command("pretrain-tiny")(pretrain_tiny)
    app.command("model-info")(model_info)
