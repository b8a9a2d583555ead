"""Synthetic medical reports with exact ground truth: the embedded default data set.

`render_report` draws one report (Pillow), `write_dataset` writes many in the user layout
(`labels.jsonl` + `images/`). Same seed → byte-identical images and labels.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from medvie.data.families import FAMILY_NAMES
from medvie.data.synth.render import LANGUAGES, PRESETS, SyntheticReport, check_args, render_report
from medvie.data.synth.values import DOC_TYPES

__all__ = [
    "DOC_TYPES",
    "LANGUAGES",
    "PRESETS",
    "SyntheticReport",
    "render_report",
    "write_dataset",
    "report_plan",
]


def report_plan(n: int, seed: int, languages: Sequence[str]) -> list[tuple[str, int, str, str]]:
    """(id, report seed, language, doc type) for each of n reports: every language × doc type in turn."""
    out = []
    for i in range(n):
        language = languages[i % len(languages)]
        doc_type = DOC_TYPES[(i // len(languages)) % len(DOC_TYPES)]
        out.append((f"synth-{seed}-{i:05d}", seed * 1_000_003 + i, language, doc_type))
    return out


def write_dataset(
    out_dir: str | os.PathLike[str],
    n: int,
    seed: int,
    preset: str = "tiny",
    languages: Sequence[str] = ("en", "zh"),
    families: Sequence[str] = FAMILY_NAMES,
) -> Path:
    """Render n reports of `families` into out_dir (replaced whole, atomically) as labels.jsonl + images/."""
    from medvie.errors import ConfigError
    from medvie.io import atomic_dir, write_jsonl
    from medvie.log import progress

    languages = tuple(languages)
    if not languages:
        raise ConfigError("synthetic languages is empty; list at least one of en, zh")
    for lang in languages:
        check_args(preset, lang, None)
    if n < 1:
        raise ConfigError(f"synthetic n must be at least 1, got {n}")
    out_dir = Path(out_dir)
    plan = progress(report_plan(n, seed, languages), desc="synth", total=n, unit="img")
    with atomic_dir(out_dir) as tmp:
        (tmp / "images").mkdir()
        rows = []
        for rid, rseed, language, doc_type in plan:
            rep = render_report(rseed, preset, language, doc_type, families)
            rel = f"images/{rid}{rep.extension}"
            if rep.encoded is not None:
                (tmp / rel).write_bytes(rep.encoded)
            else:
                buf = io.BytesIO()
                rep.image.save(buf, "PNG")
                (tmp / rel).write_bytes(buf.getvalue())
            rows.append(
                {"id": rid, "image": rel, "label": rep.label, "doc_type": rep.doc_type, "meta": rep.meta}
            )
        write_jsonl(tmp / "labels.jsonl", rows)
    return out_dir
