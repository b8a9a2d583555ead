"""Fonts found by file path at run time, cached across reports.

Latin reports pick among the Liberation / Carlito / DejaVu families that are installed (DejaVu is
the fallback); Chinese reports need a CJK font and fail with the Debian package to install.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from medvie.errors import MedvieError

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")

# family name -> (regular file, bold file); bold falls back to regular when missing
LATIN_FAMILIES = {
    "liberation-sans": ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    "liberation-serif": ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    "carlito": ("Carlito-Regular.ttf", "Carlito-Bold.ttf"),
    "dejavu-sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "dejavu-serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
}
LATIN_FALLBACK = "dejavu-sans"
CJK_FAMILIES = {
    "wqy-microhei": ("wqy-microhei.ttc", None),
    "wqy-zenhei": ("wqy-zenhei.ttc", None),
    "noto-sans-cjk": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"),
    "droid-fallback": ("DroidSansFallbackFull.ttf", None),
}
LATIN_PACKAGE = "fonts-liberation2 fonts-crosextra-carlito fonts-dejavu-core"
CJK_PACKAGE = "fonts-wqy-microhei"


@dataclass(frozen=True)
class FontFamily:
    name: str
    regular: str
    bold: str
    x_ratio: float  # x-height / font size, to size text by x-height

    def get(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return load_font(self.bold if bold else self.regular, int(size))

    def size_for_x_height(self, x_height: float) -> int:
        return max(8, round(x_height / self.x_ratio))


@functools.lru_cache(maxsize=1)
def _font_files() -> dict[str, str]:
    """Every font file under the font folders, by file name (first found wins)."""
    dirs = [Path(d).expanduser() for d in FONT_DIRS]
    extra = os.environ.get("MEDVIE_FONT_DIRS")
    if extra:
        dirs = [Path(d) for d in extra.split(os.pathsep) if d] + dirs
    found: dict[str, str] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for root, _, files in sorted(os.walk(d)):
            for f in sorted(files):
                if f.lower().endswith((".ttf", ".ttc", ".otf")):
                    found.setdefault(f, str(Path(root) / f))
    return found


@functools.lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: no shaping needed for Latin/CJK, faster than raqm and identical on every machine
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


def _family(name: str, files: tuple[str, str | None]) -> FontFamily | None:
    found = _font_files()
    regular = found.get(files[0])
    if regular is None:
        return None
    bold = found.get(files[1]) if files[1] else None
    probe = load_font(regular, 100)
    top, bottom = probe.getbbox("x", anchor="ls")[1::2]
    return FontFamily(name, regular, bold or regular, max(0.3, (bottom - top) / 100))


@functools.lru_cache(maxsize=4)
def families(language: str) -> tuple[FontFamily, ...]:
    """Installed font families usable for `language` ("en" or "zh"), in a fixed order."""
    if language == "zh":
        fams = [f for n, files in CJK_FAMILIES.items() if (f := _family(n, files))]
        if not fams:
            raise MedvieError(
                f"no CJK font found for Chinese reports; install one, e.g. `apt-get install {CJK_PACKAGE}`"
            )
        return tuple(fams)
    fams = [f for n, files in LATIN_FAMILIES.items() if (f := _family(n, files))]
    if not fams:
        raise MedvieError(f"no Latin font found (not even DejaVu); install `apt-get install {LATIN_PACKAGE}`")
    return tuple(fams)


def symbol_family() -> FontFamily:
    """A Latin family used for stamps and marks regardless of the report font."""
    fams = families("en")
    return next((f for f in fams if f.name == LATIN_FALLBACK), fams[0])
