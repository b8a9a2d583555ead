"""Text lines of a page as visual rows of cells, and the shapes of the values a results table holds.

Rows: OCR lines `[{"text", "box": [x0, y0, x1, y1]}]` are grouped into rows after undoing the page's
skew (estimated from neighbouring lines of one row), each row's cells sorted left to right. Without
boxes every line is a row of its own, in reading order. A line holding several cells (runs of two or
more spaces, or `|`) is split, its cells' x estimated from their character positions.

Shapes: `fold` gives a same-length lower-case form of a text for matching (full-width forms folded),
so offsets found in it slice the printed text; `tokens` splits a row into value-sized pieces (a range
such as "3.5 - 9.5" or "3.5 to 9.5" stays one piece) and `shape` says what a piece looks like.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    folded = folded.lower() if len(folded) == 1 else ch.lower()
    return folded if len(folded) == 1 else ch


def fold(text: str) -> str:
    """Lower-case, full-width forms folded ("：" → ":"), same length as `text`."""
    return "".join(_fold_char(ch) for ch in text)


@dataclass(frozen=True)
class Cell:
    text: str
    x0: float
    x1: float

    @property
    def mid(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Row:
    cells: list[Cell]
    boxed: bool  # cell x comes from boxes (not character counts)
    height: float = 1.0  # text height (characters when not boxed)

    @property
    def text(self) -> str:
        """The cells joined by tabs (a tab marks a gap between cells)."""
        return "\t".join(c.text for c in self.cells)


@dataclass
class _Item:
    text: str
    x: float  # deskewed centre
    y: float
    w: float  # deskewed size
    h: float


def _box(line: dict) -> list[float] | None:
    box = line.get("box")
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        return None
    return [x0, y0, x1, y1] if x1 > x0 and y1 > y0 else None


def skew(boxes: Sequence[list[float]]) -> float:
    """Slope of the text rows, from neighbouring lines (in reading order) of one visual row: a first
    estimate from pairs that are about level (or, failing that, tilted up to about 11 degrees), refined
    over the pairs that agree with it."""
    pairs = []
    for a, b in pairwise(boxes):
        h = max(a[3] - a[1], b[3] - b[1])
        dx = (b[0] + b[2]) / 2 - (a[0] + a[2]) / 2
        dy = (b[1] + b[3]) / 2 - (a[1] + a[3]) / 2
        if dx > 0 and -0.5 * h < b[0] - a[2] < 8 * h:
            pairs.append((dx, dy, h))

    def fit(tolerance, centre: float) -> float | None:
        slopes = [dy / dx for dx, dy, h in pairs if abs(dy - centre * dx) < tolerance(dx, h)]
        return statistics.median(slopes) if len(slopes) >= 3 else None

    first = fit(lambda dx, h: 0.6 * h, 0.0)
    if first is None:
        first = fit(lambda dx, h: 0.6 * h + 0.2 * dx, 0.0)
    if first is None:
        return 0.0
    refined = fit(lambda dx, h: 0.4 * h, first)
    return max(-0.3, min(0.3, first if refined is None else refined))


def _items(lines: Sequence[dict], boxes: list[list[float]]) -> list[_Item]:
    slope = skew(boxes)
    theta = math.atan(slope)
    c, s = math.cos(theta), math.sin(theta)
    det = c * c - s * s
    out = []
    for line, (x0, y0, x1, y1) in zip(lines, boxes, strict=True):
        bw, bh = x1 - x0, y1 - y0
        # an upright box of size (w, h) turned by theta spans (w c + h |s|, w |s| + h c)
        w = (bw * c - bh * abs(s)) / det
        h = (bh * c - bw * abs(s)) / det
        w = w if w > 0.3 * bw else bw
        h = h if h > 0.3 * bh else bh * 0.5
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        out.append(_Item(str(line["text"]).strip(), cx * c + cy * s, -cx * s + cy * c, w, h))
    return out


def _split_cells(text: str, x0: float, x1: float) -> list[Cell]:
    parts = [(m.start(), m.end()) for m in re.finditer(r"[^\t|]+", text) if m.group(0).strip()]
    pieces = []
    for start, end in parts:  # runs of 2+ spaces break cells too
        for m in re.finditer(r"\S+(?: \S+)*", text[start:end]):
            pieces.append((start + m.start(), start + m.end()))
    if len(pieces) <= 1:
        return [Cell(text.strip(" \t|"), x0, x1)]
    width = (x1 - x0) / max(len(text), 1)
    return [Cell(text[a:b], x0 + a * width, x0 + b * width) for a, b in pieces]


def rows(lines: Sequence[dict]) -> list[Row]:
    """Visual rows of the page, top to bottom, each row's cells left to right."""
    lines = [ln for ln in lines if isinstance(ln, dict) and str(ln.get("text", "")).strip()]
    boxes = [_box(ln) for ln in lines]
    if not lines:
        return []
    if any(b is None for b in boxes):
        out = []
        for ln in lines:
            text = str(ln["text"]).strip()
            out.append(Row(_split_cells(text, 0.0, float(len(text))), boxed=False))
        return out
    items = sorted(_items(lines, [b for b in boxes if b is not None]), key=lambda it: it.y)
    ref = statistics.median(it.h for it in items)
    groups: list[list[_Item]] = []
    for it in items:
        if groups:
            last = groups[-1]
            y = sum(i.y for i in last) / len(last)
            if abs(it.y - y) <= 0.45 * max(ref, min(it.h, 2 * ref)):
                last.append(it)
                continue
        groups.append([it])
    out = []
    for group in groups:
        cells = []
        for it in sorted(group, key=lambda i: i.x):
            cells.extend(_split_cells(it.text, it.x - it.w / 2, it.x + it.w / 2))
        out.append(Row(cells, boxed=True, height=statistics.median(i.h for i in group)))
    return out


# ----------------------------------------------------------------------------- value shapes

_NUM = r"[-+]?\d+(?:[.,]\d+)?"
_RANGE_CORE = (
    rf"{_NUM}\s*(?:-{{1,2}}|–|—|~|〜|to)\s*{_NUM}"  # 3.5-9.5, 3.5 - 9.5, 3.5~9.5, 3.5 to 9.5
    rf"|[<>≤≥]=?\s*{_NUM}"  # <5.0, ≥ 60
)
RANGE = re.compile(rf"[(\[]?\s*(?:{_RANGE_CORE})\s*[)\]]?")
_TOKEN = re.compile(rf"(?<!\S)[(\[]?\s*(?:{_RANGE_CORE})\s*[)\]]?(?!\S)|\S+")
NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
DATE = re.compile(
    r"(?<![\d.])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}\s*年|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}:\d{2})(?!\d)"
)
FLAG = re.compile(
    r"[↑↓]{1,2}|h|l|hh|ll|high|low|hi|lo|\*{1,3}|abn|abnormal|高|低|偏高|偏低|[(\[](?:h|l|high|low)[)\]]"
)
QUALITATIVE = re.compile(
    r"negative|positive|neg|pos|trace|nil|normal|reactive|non-reactive|nonreactive|detected|not detected"
    r"|阴性|阳性|弱阳性|正常|[±]|\+{1,4}|[1-4]\+"
)
_UNIT_WORDS = {
    "%",
    "‰",
    "fl",
    "pg",
    "g",
    "mg",
    "ng",
    "µg",
    "μg",
    "ug",
    "iu",
    "u",
    "mu",
    "miu",
    "mm",
    "mmhg",
    "s",
    "sec",
    "min",
    "ratio",
    "index",
    "kg",
    "cm",
    "bpm",
    "°c",
    "℃",
    "cells",
    "copies",
}
# CJK results glued to the item name by a line-level OCR ("白细胞酯酶阴性阴性")
_GLUED_QUAL = re.compile(r"弱阳性|阴性|阳性|正常")
_GLUED_CJK = re.compile(r"(.*?[\u3400-\u9fff)）])((?:弱阳性|阴性|阳性|正常)+)")
_ATTACHED_FLAG = re.compile(r"([-+]?\d+(?:\.\d+)?)\s*([↑↓]{1,2}|\*{1,3}|H|L)")


def is_unit(token: str) -> bool:
    t = fold(token).strip("()[]")
    if t in _UNIT_WORDS:
        return True
    if DATE.search(t) or RANGE.fullmatch(t):
        return False
    has_letter = any(ch.isalpha() for ch in t)
    return ("/" in t and (has_letter or "10" in t)) or ("^" in t and has_letter) or t.endswith("%")


def shape(token: str) -> str:
    """flag | qual | number | range | unit | date | dash | word."""
    t = fold(token).strip()
    if re.fullmatch(r"[-–—/()\[\]|.]+", t):
        return "dash"  # a placeholder or a lone bracket
    if FLAG.fullmatch(t):
        return "flag"
    if QUALITATIVE.fullmatch(t):
        return "qual"
    if NUMBER.fullmatch(t):
        return "number"
    if DATE.search(t):
        return "date"
    if RANGE.fullmatch(t):
        return "range"
    if is_unit(token):
        return "unit"
    return "word"


def tokens(text: str) -> list[str]:
    """Value-sized pieces of a row's text; a number with a flag glued on ("11.2↑") gives two."""
    out: list[str] = []
    text = text.replace("\t", " ")
    for m in _TOKEN.finditer(fold(text)):
        piece = text[m.start() : m.end()]
        if glued := _ATTACHED_FLAG.fullmatch(piece):
            out.extend(glued.groups())
        elif not QUALITATIVE.fullmatch(piece) and (glued := _GLUED_CJK.fullmatch(piece)):
            out.extend([glued.group(1), *_GLUED_QUAL.findall(glued.group(2))])
        else:
            out.append(piece)
    return out


def unbracket(value: str) -> str:
    """ "(3.5-9.5)" → "3.5-9.5": brackets around a range or flag are not part of it."""
    return value.strip().strip("()[]（）").strip()
