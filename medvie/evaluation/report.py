"""Evaluation outputs: DVC plots, per-model predictions and a readable Markdown report."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medvie.io import atomic_dir, write_jsonl, write_text


def _f(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _key_f1(vals: Any) -> Any:
    return vals.get("f1", "") if isinstance(vals, Mapping) else vals


def write_plots(results: Mapping[str, dict], out_dir: Path) -> None:
    """per_key_f1.csv (key + one F1 column per model) and precision_recall.csv
    (one row per model/strategy)."""
    models = list(results)
    keys = sorted({k for r in results.values() for k in r["metrics"].get("per_key", {})})
    table = [["key", *models]]
    for key in keys:
        table.append(
            [key, *(_f(_key_f1(results[m]["metrics"].get("per_key", {}).get(key, ""))) for m in models)]
        )
    pr = [["model", "strategy", "precision", "recall", "f1"]]
    for m in models:
        met = results[m]["metrics"]
        pr.append(
            [m, "overall", _f(met.get("precision", 0.0)), _f(met.get("recall", 0.0)), _f(met.get("f1", 0.0))]
        )
        for strategy, sm in met.get("by_strategy", {}).items():
            pr.append(
                [m, strategy, _f(sm.get("precision", 0.0)), _f(sm.get("recall", 0.0)), _f(sm.get("f1", 0.0))]
            )
    write_text(out_dir / "per_key_f1.csv", _csv(table))
    write_text(out_dir / "precision_recall.csv", _csv(pr))


def _answer_text(pred: Any) -> str:
    if isinstance(pred, str):
        return pred
    return json.dumps(pred, ensure_ascii=False)


def write_predictions(results: Mapping[str, dict], rows: Sequence[dict], out_dir: Path) -> None:
    for name, res in results.items():
        per_query = res["metrics"].get("per_query", [None] * len(rows))
        write_jsonl(
            out_dir / f"{name}.jsonl",
            (
                {
                    "id": r["id"],
                    "record_id": r.get("record_id"),
                    "strategy": r["strategy"],
                    "doc_type": r["doc_type"],
                    "keys": r["keys"],
                    "f1": f1,
                    "prediction": _answer_text(p),
                    "truth": r["truth"],
                }
                for r, p, f1 in zip(rows, res["predictions"], per_query, strict=True)
            ),
        )


def _thumbnail(src: str, dst: Path, side: int) -> bool:
    from PIL import Image

    try:
        with Image.open(src) as im:
            im = im.convert("RGB")
            im.thumbnail((side, side))
            im.save(dst, format="PNG", optimize=True)
        return True
    except OSError:
        return False


def _block(text: str, limit: int = 1500) -> str:
    text = text if len(text) <= limit else text[:limit] + " …"
    return "```\n" + text.replace("```", "'''") + "\n```"


def write_report(
    results: Mapping[str, dict],
    rows: Sequence[dict],
    report: Path,
    *,
    worst: int = 8,
    thumb_side: int = 192,
    header: Mapping[str, Any] | None = None,
) -> None:
    """reports/eval.md: a summary table, then the worst queries of each model with thumbnails."""
    assets_name = f"{report.stem}_assets"
    lines = ["# Evaluation", ""]
    for k, v in (header or {}).items():
        lines.append(f"- {k}: `{v}`")
    lines += [
        "",
        "| model | F1 | P | R | TED acc | JSON valid | halluc. | omission | n |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        m = res["metrics"]
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    *(
                        _f(m.get(k, ""))
                        for k in (
                            "f1",
                            "precision",
                            "recall",
                            "ted_accuracy",
                            "json_valid_rate",
                            "hallucination_rate",
                            "omission_rate",
                            "n",
                        )
                    ),
                ]
            )
            + " |"
        )
    lines += [
        "",
        "## By query strategy",
        "",
        "| model | strategy | F1 | P | R | n |",
        "|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        for s, m in res["metrics"].get("by_strategy", {}).items():
            lines.append(
                f"| {name} | {s} | "
                + " | ".join(_f(m.get(k, "")) for k in ("f1", "precision", "recall", "n"))
                + " |"
            )
    with atomic_dir(report.parent / assets_name) as assets:
        thumbs: dict[str, str] = {}
        for name, res in results.items():
            per_query = res["metrics"].get("per_query") or [0.0] * len(rows)
            order = sorted(range(len(rows)), key=lambda i: (per_query[i], rows[i]["id"]))[:worst]
            order = [i for i in order if per_query[i] is None or per_query[i] < 1.0]
            if not worst:
                continue
            lines += ["", f"## Worst cases: {name}", ""]
            if not order:
                lines += ["Every query scored F1 1.0.", ""]
            for i in order:
                r = rows[i]
                if r["image_path"] not in thumbs:
                    fname = f"{len(thumbs):04d}.png"
                    if _thumbnail(r["image_path"], assets / fname, thumb_side):
                        thumbs[r["image_path"]] = f"{assets_name}/{fname}"
                lines += [
                    f"### {r['id']} — F1 {_f(float(per_query[i]))} ({r['doc_type']}, {r['strategy']})",
                    "",
                ]
                if r["image_path"] in thumbs:
                    lines += [f"![{r['id']}]({thumbs[r['image_path']]})", ""]
                lines += [
                    f"Keys asked: {', '.join(map(str, r['keys']))}",
                    "",
                    "Prediction:",
                    "",
                    _block(_answer_text(res["predictions"][i])),
                    "",
                    "Truth:",
                    "",
                    _block(json.dumps(r["truth"], ensure_ascii=False)),
                    "",
                ]
    write_text(report, "\n".join(lines) + "\n")
