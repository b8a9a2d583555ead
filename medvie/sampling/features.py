"""Feature vectors for diversity sampling.

Image features (ink-density layout profiles, a grey thumbnail, a perceptual hash) are the slow part, so they
are cached per image sha256 in one `.npz` file. Label and metadata features are cheap and depend on the
vocabulary of the pool, so they are rebuilt on every run.

Every feature group is made of blocks; each block is scaled to unit total variance and each group to the
square of its weight, so a 256-pixel thumbnail and a 7-way doc-type one-hot weigh the same by default.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medvie.errors import DataError
from medvie.io import atomic_path

IMAGE_FEATURES_VERSION = 1
IMAGE_GROUPS = ("layout", "thumbnail", "phash")
# meta fields that identify a rendering rather than describe it
_META_SKIP = {"generator", "seed", "preset", "text_layer", "width", "height"}
_CJK = re.compile(r"[\u3400-\u9fff]")


# ---------------------------------------------------------------- image features


def image_features(path: str | Path, thumb_size: int = 16, bins: int = 32) -> dict[str, np.ndarray]:
    """Cheap layout/appearance features of one image, one float32 vector per group."""
    import imagehash
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.draft("RGB", (512, 512))  # JPEG decodes at reduced size; a no-op for PNG
            rgb = im.convert("RGB")
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read image ({exc}); re-run ingest") from None
    width, height = rgb.size
    rgb.thumbnail((384, 384))
    grey = rgb.convert("L")
    g = np.asarray(grey, dtype=np.float32) / 255.0
    background = float(np.median(g))
    ink = (g < min(0.5, 0.75 * background)).astype(np.float32)
    row = _resample(ink.mean(axis=1), bins)
    col = _resample(ink.mean(axis=0), bins)
    hsv = np.asarray(rgb.convert("HSV"), dtype=np.float32) / 255.0
    grad = np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean()
    stats = np.array(
        [
            math.log(width / height),
            math.log(width * height),
            float(g.mean()),
            float(g.std()),
            float(ink.mean()),
            float(grad),
            float(hsv[..., 1].mean()),  # colourful backgrounds, stamps, shadows
        ],
        dtype=np.float32,
    )
    thumb = np.asarray(grey.resize((thumb_size, thumb_size), Image.Resampling.BOX), dtype=np.float32) / 255.0
    bits = imagehash.phash(grey).hash.astype(np.float32).ravel()
    return {"layout": np.concatenate([row, col, stats]), "thumbnail": thumb.ravel(), "phash": bits}


def _resample(profile: np.ndarray, bins: int) -> np.ndarray:
    x = np.linspace(0, 1, len(profile))
    return np.interp(np.linspace(0, 1, bins), x, profile).astype(np.float32)


class FeatureCache:
    """Image features keyed by sha256, stored in one `.npz`; a change of settings invalidates it."""

    def __init__(self, path: str | Path | None, thumb_size: int = 16, bins: int = 32):
        self.path = Path(path) if path else None
        self.settings = {"version": IMAGE_FEATURES_VERSION, "thumb_size": thumb_size, "bins": bins}
        self.rows: dict[str, dict[str, np.ndarray]] = {}
        self.dirty = False
        if self.path and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as z:
                if json.loads(str(z["settings"])) != self.settings:
                    return
                keys = [str(k) for k in z["sha256"]]
                groups = {g: z[g] for g in IMAGE_GROUPS}
        except (OSError, ValueError, KeyError):
            return  # a corrupt or foreign cache is rebuilt, never trusted
        for i, key in enumerate(keys):
            self.rows[key] = {g: groups[g][i] for g in IMAGE_GROUPS}

    def get(self, records: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
        """Stacked image features of `records` (computing and remembering the missing ones)."""
        for rec in records:
            key = _sha(rec)
            if key not in self.rows:
                self.rows[key] = image_features(
                    _image_path(rec), self.settings["thumb_size"], self.settings["bins"]
                )
                self.dirty = True
        return {g: np.stack([self.rows[_sha(r)][g] for r in records]) for g in IMAGE_GROUPS}

    def save(self) -> None:
        if not (self.path and self.dirty):
            return
        keys = sorted(self.rows)
        arrays: dict[str, Any] = {g: np.stack([self.rows[k][g] for k in keys]) for g in IMAGE_GROUPS}
        with atomic_path(self.path, suffix=".npz") as tmp, tmp.open("wb") as fh:
            np.savez(fh, sha256=np.array(keys), settings=json.dumps(self.settings), **arrays)
        self.dirty = False


def _sha(rec: dict[str, Any]) -> str:
    key = rec.get("sha256")
    if not key:
        raise DataError(f"record {rec.get('id')!r}: no sha256; re-run ingest")
    return str(key)


def _image_path(rec: dict[str, Any]) -> Path:
    path = rec.get("image_path") or rec.get("image")
    if not path:
        raise DataError(f"record {rec.get('id')!r}: no image path")
    return Path(path)


# ---------------------------------------------------------------- label / meta features


def label_language(label: Any) -> str:
    """'zh' when CJK characters dominate the label's values, else 'en'."""
    text = "".join(_leaves(label))
    letters = sum(ch.isalpha() for ch in text)
    return "zh" if letters and len(_CJK.findall(text)) / letters > 0.3 else "en"


def record_language(rec: dict[str, Any]) -> str:
    lang = (rec.get("meta") or {}).get("language")
    return lang if isinstance(lang, str) and lang else label_language(rec.get("label"))


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif value is not None:
        yield str(value)


def flat_meta(meta: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """Scalar metadata as `path -> value`, without fields that only identify a rendering."""
    out: dict[str, Any] = {}
    for key, value in (meta or {}).items():
        if not prefix and key in _META_SKIP:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_meta(value, path + "."))
        elif isinstance(value, (str, bool, int, float)) and value is not None:
            out[path] = value
    return out


def label_blocks(records: Sequence[dict[str, Any]]) -> list[tuple[np.ndarray, bool]]:
    """Keys present, row fields present (multi-hot) and sizes (z-scored)."""
    keys = sorted({k for r in records for k in (r.get("label") or {})})
    fields = sorted(
        {
            f"{k}.{f}"
            for r in records
            for k, v in (r.get("label") or {}).items()
            if isinstance(v, list)
            for row in v
            if isinstance(row, dict)
            for f in row
        }
    )
    kidx = {k: i for i, k in enumerate(keys)}
    fidx = {k: i for i, k in enumerate(fields)}
    kh = np.zeros((len(records), len(keys)), np.float32)
    fh = np.zeros((len(records), len(fields)), np.float32)
    sizes = np.zeros((len(records), 4), np.float32)
    for i, rec in enumerate(records):
        label = rec.get("label") or {}
        rows = 0
        for k, v in label.items():
            kh[i, kidx[k]] = 1
            if isinstance(v, list):
                rows += len(v)
                for f in {f for row in v if isinstance(row, dict) for f in row}:
                    fh[i, fidx[f"{k}.{f}"]] = 1
        # the serialised label stands in for its text: same ordering of lengths and script, C speed
        text = json.dumps(label, ensure_ascii=False)
        sizes[i] = [len(label), math.log1p(rows), math.log1p(len(text)), len(_CJK.findall(text)) / len(text)]
    return [(kh, False), (fh, False), (sizes, True)]


def meta_blocks(records: Sequence[dict[str, Any]]) -> list[tuple[np.ndarray, bool]]:
    """Categorical metadata one-hot, numeric metadata z-scored; empty when no record has metadata."""
    flats = [flat_meta(r.get("meta")) for r in records]
    numeric = sorted(
        {k for f in flats for k, v in f.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    )
    cats = Counter(f"{k}={v}" for f in flats for k, v in f.items() if isinstance(v, (str, bool)))
    # one-off values (ids, file names) would make every record an outlier
    per_field = Counter(c.split("=", 1)[0] for c in cats)
    kept = sorted(c for c in cats if per_field[c.split("=", 1)[0]] <= max(20, len(records) // 2))
    cidx = {c: i for i, c in enumerate(kept)}
    nidx = {k: i for i, k in enumerate(numeric)}
    oh = np.zeros((len(records), len(kept)), np.float32)
    num = np.zeros((len(records), len(numeric)), np.float32)
    for i, f in enumerate(flats):
        for k, v in f.items():
            if isinstance(v, (str, bool)):
                j = cidx.get(f"{k}={v}")
                if j is not None:
                    oh[i, j] = 1
            else:
                num[i, nidx[k]] = float(v)
    return [(oh, False), (num, True)]


def doc_type_block(records: Sequence[dict[str, Any]]) -> list[tuple[np.ndarray, bool]]:
    types = sorted({str(r.get("doc_type") or "unknown") for r in records})
    idx = {t: i for i, t in enumerate(types)}
    oh = np.zeros((len(records), len(types)), np.float32)
    for i, r in enumerate(records):
        oh[i, idx[str(r.get("doc_type") or "unknown")]] = 1
    return [(oh, False)]


# ---------------------------------------------------------------- assembly


def normalise_group(blocks: Sequence[tuple[np.ndarray, bool]], weight: float) -> np.ndarray | None:
    """Concatenate blocks, each at unit total variance, the group at total variance weight**2."""
    parts = []
    for x, zscore in blocks:
        x = np.asarray(x, np.float32)
        if x.ndim != 2 or x.shape[1] == 0:
            continue
        mean = x.mean(axis=0, dtype=np.float64)
        std = np.sqrt(np.maximum((x * x).mean(axis=0, dtype=np.float64) - mean**2, 0))
        keep = std > 1e-6
        if not keep.any():
            continue
        scale = 1 / std[keep] if zscore else np.ones(int(keep.sum()))
        total_var = float(keep.sum()) if zscore else float((std[keep] ** 2).sum())
        scale = (scale / math.sqrt(total_var)).astype(np.float32)
        parts.append((x[:, keep] - mean[keep].astype(np.float32)) * scale)
    if not parts or weight == 0:
        return None
    return np.concatenate(parts, axis=1) * np.float32(weight / math.sqrt(len(parts)))


def build_matrix(
    records: Sequence[dict[str, Any]], image: dict[str, np.ndarray] | None, weights: dict[str, float]
) -> np.ndarray:
    """The standardised feature matrix (records x dims) that distances are measured in."""
    groups: dict[str, list[tuple[np.ndarray, bool]]] = {
        "label": label_blocks(records),
        "meta": meta_blocks(records),
        "doc_type": doc_type_block(records),
    }
    if image is not None:
        bins = (image["layout"].shape[1] - 7) // 2
        groups["layout"] = [(image["layout"][:, : 2 * bins], False), (image["layout"][:, 2 * bins :], True)]
        groups["thumbnail"] = [(image["thumbnail"], False)]
        groups["phash"] = [(image["phash"], False)]
    mats = [
        m
        for name, blocks in groups.items()
        if (m := normalise_group(blocks, weights.get(name, 1.0))) is not None
    ]
    if not mats:
        return np.zeros((len(records), 1), np.float32)
    return np.ascontiguousarray(np.concatenate(mats, axis=1))
