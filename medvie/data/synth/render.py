"""render_report: content → layout → page effects → capture, with the exact label and text layer."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from PIL import Image

from medvie.data.families import FAMILY_NAMES, Family
from medvie.data.families import family as report_family
from medvie.data.families import recombine as recombine_traits
from medvie.data.synth import capture as C
from medvie.data.synth.compose import compose
from medvie.data.synth.fonts import families as font_families
from medvie.data.synth.layouts import LAYOUTS, Drawer
from medvie.data.synth.page import Overflow, Page
from medvie.data.synth.values import DOC_TYPES
from medvie.errors import ConfigError

GENERATOR = "medvie-synth"
PRESETS = ("tiny", "full")
LANGUAGES = ("en", "zh")
TINY_WIDTH, TINY_MIN_H, TINY_MAX_H, TOKEN = 448, 196, 448, 28
FULL_SIZE = (1000, 1400)
# tighter fits tried in turn when content overflows: font scale per level
MAX_ATTEMPTS = 16
FIT_SCALES = (1.0, 1.0, 0.93, 0.87, 0.82, 0.78, 0.78, 0.78, 0.74, 0.7)


@dataclass
class SyntheticReport:
    image: Image.Image
    label: dict
    doc_type: str
    meta: dict
    encoded: bytes | None = field(default=None, repr=False)  # JPEG bytes when the capture was JPEG
    form: Family | None = field(default=None, repr=False)  # the family's traits it was printed with

    @property
    def extension(self) -> str:
        return ".jpg" if self.encoded is not None else ".png"


def check_args(preset: str, language: str, doc_type: str | None) -> None:
    if preset not in PRESETS:
        raise ConfigError(f"synthetic preset {preset!r} is unknown; use one of {', '.join(PRESETS)}")
    if language not in LANGUAGES:
        raise ConfigError(f"synthetic language {language!r} is unknown; use one of {', '.join(LANGUAGES)}")
    if doc_type is not None and doc_type not in DOC_TYPES:
        raise ConfigError(f"synthetic doc_type {doc_type!r} is unknown; use one of {', '.join(DOC_TYPES)}")


def render_report(
    seed: int,
    preset: str = "tiny",
    language: str = "en",
    doc_type: str | None = None,
    families: Sequence[str] = FAMILY_NAMES,
    recombine: float = 0.0,
) -> SyntheticReport:
    """One synthetic report of one of `families`; the same arguments always give the same pixels and label.
    `recombine`: the share of reports printed in a form recombined from the families' traits
    (`medvie.data.families.recombine`; pretraining)."""
    check_args(preset, language, doc_type)
    families = tuple(families)
    for name in families:
        report_family(name)
    # Some drawn contents fit no layout level (a long value on a narrow tiny page); those redraw the
    # content from a derived seed, so the result stays a pure function of the arguments.
    for attempt in range(MAX_ATTEMPTS):
        report = _try_render(seed, preset, language, doc_type, attempt, families, recombine)
        if report is not None:
            return report
    raise AssertionError(f"report {seed} does not fit any layout in {MAX_ATTEMPTS} attempts")


def _try_render(
    seed: int,
    preset: str,
    language: str,
    doc_type: str | None,
    attempt: int,
    families: tuple[str, ...],
    recombine: float = 0.0,
) -> SyntheticReport | None:
    suffix = f"/{attempt}" if attempt else ""
    rng = random.Random(f"{GENERATOR}/{seed}/{preset}/{language}/{doc_type}{suffix}")
    doc_type = doc_type or rng.choice(DOC_TYPES)
    fonts = font_families(language)
    family = fonts[rng.randrange(len(fonts))]
    fam = report_family(families[rng.randrange(len(families))])
    if recombine:  # its own generator: the reports drawn without recombining stay as they were
        mix = random.Random(f"{GENERATOR}/recombine/{seed}{suffix}")
        if mix.random() < recombine:
            fam = recombine_traits(families, mix)
    content = compose(rng, doc_type, language, preset, fam)
    layouts = LAYOUTS[preset]
    layout = layouts[rng.randrange(len(layouts))]
    cols = ("No", *fam.cols) if layout.name == "classic" else fam.cols
    layout = replace(layout, name=fam.name, table=fam.table, cols=cols, narrative=fam.narrative)
    tiny = preset == "tiny"
    x_height = rng.uniform(14.5, 17.0) if tiny else rng.uniform(10.5, 12.5)
    size = family.size_for_x_height(x_height)
    page_size = (TINY_WIDTH, TINY_MAX_H) if tiny else FULL_SIZE
    layout_seed = rng.random()
    for level, scale in enumerate(FIT_SCALES):
        page = Page(*page_size, language, family, round(size * scale))
        try:
            Drawer(page, content, layout, random.Random(layout_seed), level, fam).draw()
            break
        except Overflow:
            continue
    else:
        return None
    if tiny:
        height = min(TINY_MAX_H, max(TINY_MIN_H, -(-(round(page.bottom) + 12) // TOKEN) * TOKEN))
        page.img = page.img.crop((0, 0, page.width, height))
        page.height = height
    cap = C.sample_capture(rng, preset)
    C.draw_page_effects(page, cap, rng)
    canvas = page.img.size
    image, encoded, boxes, hom = C.apply_capture(page, cap, canvas, rng)
    label = page.label()
    meta = {
        "generator": GENERATOR,
        "seed": seed,
        "preset": preset,
        "language": language,
        "family": fam.name,
        "layout": layout.name,
        "font": family.name,
        "font_size": page.size,
        "width": image.width,
        "height": image.height,
        "fit_level": level,
        "capture": C.to_meta(cap),
        "homography": [[round(float(v), 6) for v in row] for row in hom],
        "text_layer": [
            {"text": r.text, "box": b, "field": r.field} for r, b in zip(page.runs, boxes, strict=True)
        ],
    }
    return SyntheticReport(image, label, doc_type, meta, encoded, fam)
