"""`medvie` commands of the registry area: `extract`, `models`, `promote`, `rollback`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

NAME_HELP = "registered model name (default: register.name of params.yaml)"


def _name(name: str | None) -> str:
    if name:
        return name
    from medvie.registry.promotion import register_config

    return register_config().name


def extract(
    images: list[Path] = typer.Argument(..., help="report images"),
    model: str = typer.Option(None, help="MLflow model URI (default models:/<register.name>@champion)"),
    keys: str = typer.Option(
        "",
        help="schema keys to extract, comma-separated (default: all), or a JSON object "
        '{"Indicators": ["Item Name", "Result"], "Name": null} that also picks the fields of list rows',
    ),
    language: str = typer.Option(
        None, help="key language for a model trained with queries.key_language auto (default: the page's)"
    ),
    raw: bool = typer.Option(False, "--raw", help="also print the model's whole answer ('raw')"),
) -> None:
    """Print one JSON line per image: {"image", "ok", "result", "error"}; a bad image does not stop the batch.

    The model is asked exactly as its evaluation asked it (the prompt recipe registered with it)."""
    import mlflow

    uri = model or f"models:/{_name(None)}@champion"
    try:
        pm = mlflow.pyfunc.load_model(uri)
    except mlflow.exceptions.MlflowException as exc:
        from medvie.errors import MedvieError

        raise MedvieError(
            f"model {uri}: cannot be loaded ({str(exc).splitlines()[0]}); see `medvie models`"
        ) from None
    rows = [{"image": str(p), "keys": keys or None, "language": language} for p in images]
    failed = 0
    for path, res in zip(images, pm.predict(rows), strict=True):
        failed += not res["ok"]
        line = {"image": str(path), "ok": res["ok"], "result": res["result"], "error": res["error"]}
        if raw:
            line["raw"] = res["raw"]
        typer.echo(json.dumps(line, ensure_ascii=False))
    if failed == len(images):
        raise typer.Exit(1)


def models(
    name: str = typer.Option(None, help=NAME_HELP), as_json: bool = typer.Option(False, "--json")
) -> None:
    """List registered versions with aliases and test metrics, newest first."""
    from medvie.registry.promotion import list_versions

    rows = list_versions(_name(name))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'version':>7}  {'aliases':22} {'f1':>7} {'P':>7} {'R':>7}  {'test set':16}  created")

    def fmt(v) -> str:
        return f"{v:7.4f}" if isinstance(v, float) else f"{'-':>7}"

    for r in rows:
        typer.echo(
            f"{r['version']:>7}  {','.join(r['aliases']) or '-':22} {fmt(r['f1'])} {fmt(r['precision'])} "
            f"{fmt(r['recall'])}  {r['test_set_hash'] or '-':16}  {r['created']}"
        )


def promote(
    version: str = typer.Argument(..., help="version to move the alias to"),
    reason: str = typer.Option(..., help="why (recorded in the version's tags and the alias history)"),
    alias: str = typer.Option("champion"),
    name: str = typer.Option(None, help=NAME_HELP),
) -> None:
    """Point an alias (default champion) at a version, with a recorded reason."""
    from medvie.registry.promotion import run_action

    event = run_action("promote", _name(name), alias=alias, version=version, reason=reason)
    typer.echo(json.dumps(event["result"]))


def rollback(
    reason: str = typer.Option(..., help="why"), name: str = typer.Option(None, help=NAME_HELP)
) -> None:
    """Put champion back on the previous champion."""
    from medvie.registry.promotion import run_action

    typer.echo(json.dumps(run_action("rollback", _name(name), reason=reason)["result"]))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("extract")(extract)
    app.command("models")(models)
    app.command("promote")(promote)
    app.command("rollback")(rollback)
