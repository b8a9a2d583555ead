"""A page being drawn: text runs remember their box and the label field they print.

The label is assembled from what was actually drawn, so it holds exactly the printed values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from medvie.data.synth.fonts import FontFamily

SCHEMA_KEYS = (
    "Name",
    "Gender",
    "Age",
    "Examination Time",
    "Department",
    "Examination Name",
    "Examination Site",
    "Indicators",
    "Examination Description",
    "Diagnosis",
    "Treatment Recommendations",
    "Sample Collection Time",
    "Others",
)
ROW_KEYS = ("Item Name", "Result", "Unit", "Reference Range", "Abnormal Mark")


@dataclass
class Run:
    text: str
    box: tuple[float, float, float, float]
    field: str | None  # "Name", "Indicators.2.Result", ... or None for text outside the label
    joiner: str = " "  # how wrapped pieces of one field join back into the value


@functools.lru_cache(maxsize=8192)
def _shaped(font: ImageFont.FreeTypeFont, s: str) -> tuple[float, float, float, object, tuple[int, int]]:
    """Advance width, ink left/right and the rendered mask of `s` (anchor "la", integer origin).

    Fonts are cached objects (fonts.load_font), so labels, units and headers that recur across
    reports are measured and rasterised once.
    """
    left, _, right, _ = font.getbbox(s, anchor="la")
    mask, offset = font.getmask2(s, "L", anchor="la", start=(0.0, 0.0))
    return font.getlength(s), left, right, mask, offset


class Overflow(Exception):
    """The content does not fit the page; the caller retries with less or smaller content."""


class Page:
    def __init__(
        self,
        width: int,
        height: int,
        language: str,
        family: FontFamily,
        size: int,
        ink: tuple[int, int, int] = (20, 20, 20),
        paper: tuple[int, int, int] = (255, 255, 255),
    ):
        self.width, self.height, self.language, self.family, self.size = width, height, language, family, size
        self.ink, self.paper = ink, paper
        self.img = Image.new("RGBA", (width, height), (*paper, 255))
        self.draw = ImageDraw.Draw(self.img)
        self.runs: list[Run] = []
        self.bottom = 0.0
        self.signature_slot: tuple[int, int, int, int] | None = None
        # the page is drawn in grays except inside these boxes (stamp, signature): the capture
        # works on luminance and takes colour only from here
        self.color_boxes: list[tuple[int, int, int, int]] = []
        self.colon = ":"

    @property
    def zh(self) -> bool:
        return self.language == "zh"

    def font(self, scale: float = 1.0, bold: bool = False) -> ImageFont.FreeTypeFont:
        return self.family.get(round(self.size * scale), bold)

    def line_height(self, font: ImageFont.FreeTypeFont, spacing: float = 1.35) -> float:
        return font.size * spacing

    def text(
        self,
        x: float,
        y: float,
        s: str,
        font: ImageFont.FreeTypeFont,
        field: str | None = None,
        fill: tuple[int, int, int] | None = None,
        align: str = "left",
        joiner: str = " ",
    ) -> float:
        """Draw `s` with its top (ascender) at y; return the x where it ends."""
        width, left, right, mask, offset = _shaped(font, s)
        if align == "right":
            x -= width
        elif align == "center":
            x -= width / 2
        x, y = round(x), round(y)
        ascent, descent = font.getmetrics()
        if x < 0 or x + width > self.width + 0.5 or y + ascent + descent > self.height:
            raise Overflow(s)
        # what ImageDraw.text does for an integer origin, with the mask from the cache
        ink = self.draw._getink(fill or self.ink)[0]
        self.draw.draw.draw_bitmap((x + offset[0], y + offset[1]), mask, ink)
        self.runs.append(
            Run(s, (x + min(left, 0), y, x + max(right, width), y + ascent + descent), field, joiner)
        )
        self.bottom = max(self.bottom, y + ascent + descent)
        return x + width

    def key_value(
        self,
        x: float,
        y: float,
        key: str,
        value: str,
        field: str | None,
        font_key: ImageFont.FreeTypeFont,
        font_val: ImageFont.FreeTypeFont,
    ) -> float:
        end = self.text(x, y, key + self.colon, font_key)
        return self.text(end + font_val.size * 0.3, y, value, font_val, field=field)

    def wrap(self, text: str, font: ImageFont.FreeTypeFont, first: float, rest: float) -> list[str]:
        """Greedy line breaks: at spaces for English, anywhere for Chinese."""
        units = list(text) if self.zh else text.split(" ")
        sep = "" if self.zh else " "
        lines: list[str] = []
        cur = ""
        for u in units:
            cand = cur + sep + u if cur else u
            limit = first if not lines else rest
            if not cur and not lines and font.getlength(u) > first:
                lines.append("")  # not even one word fits after the heading: start below it
                cur = u
            elif cur and font.getlength(cand) > limit:
                lines.append(cur)
                cur = u
            else:
                cur = cand
        lines.append(cur)
        return lines

    def paragraph(
        self,
        x: float,
        y: float,
        text: str,
        font: ImageFont.FreeTypeFont,
        field: str | None,
        first_x: float | None = None,
        right: float | None = None,
        spacing: float = 1.35,
    ) -> float:
        """Wrapped text; the first line may start further right (after an inline heading). Returns next y."""
        right = right if right is not None else self.width
        fx = first_x if first_x is not None else x
        joiner = "" if self.zh else " "
        for i, line in enumerate(self.wrap(text, font, right - fx, right - x)):
            if line:
                self.text(fx if i == 0 else x, y, line, font, field=field, joiner=joiner)
            y += self.line_height(font, spacing)
        return y

    def rule(
        self, x0: float, y: float, x1: float, width: int = 1, fill: tuple[int, int, int] | None = None
    ) -> None:
        self.draw.line([(x0, y), (x1, y)], fill=fill or self.ink, width=width)

    def label(self) -> dict:
        """The ground truth: every drawn field, values joined across wrapped lines, in schema order."""
        parts: dict[str, list[str]] = {}
        joiners: dict[str, str] = {}
        for r in self.runs:
            if r.field:
                parts.setdefault(r.field, []).append(r.text)
                joiners[r.field] = r.joiner
        flat = {k: joiners[k].join(v) for k, v in parts.items()}
        label: dict = {}
        for key in SCHEMA_KEYS:
            if key == "Indicators":
                rows: dict[int, dict[str, str]] = {}
                for path, value in flat.items():
                    if path.startswith("Indicators."):
                        _, idx, col = path.split(".", 2)
                        rows.setdefault(int(idx), {})[col] = value
                if rows:
                    label["Indicators"] = [
                        {k: rows[i][k] for k in ROW_KEYS if k in rows[i]} for i in sorted(rows)
                    ]
            elif key in flat:
                label[key] = flat[key]
        return label
