"""Capture conditions: what a phone or scanner does to a printed page.

Page effects (crease line, stamp, signature) are drawn on the page; then a single homography
(scale, rotation, perspective) places it on a background, followed by occlusion, uneven light
(shadow, fold), sensor noise, blur and JPEG. Text boxes follow the same homography.
"""

from __future__ import annotations

import functools
import io
import math
import random
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from medvie.data.synth.fonts import symbol_family
from medvie.data.synth.page import Page, Run

BACKGROUNDS = {
    "white": (245, 245, 243),
    "desk": (150, 150, 148),
    "wood": (150, 105, 65),
    "cloth": (55, 70, 100),
    "dark": (40, 40, 42),
}
STAMP_TEXT = ("VERIFIED", "检验专用章")


@dataclass
class Capture:
    rotation: float = 0.0  # degrees
    perspective: float = 0.0  # largest corner shift, fraction of the page side
    blur: float = 0.0  # Gaussian radius in pixels
    jpeg_quality: int | None = None
    crease: bool = False
    shadow: float = 0.0  # darkening at the deepest point, 0..1
    occlusion: str | None = None  # finger | paper | clip
    stamp: bool = False
    signature: bool = False
    background: str = "white"
    scale: float = 1.0  # page size on the canvas


def sample_capture(rng: random.Random, preset: str) -> Capture:
    if preset == "tiny":  # mild: a tiny model must still read every glyph
        scan = rng.random() < 0.5
        return Capture(
            rotation=0.0 if scan else round(rng.uniform(-1.5, 1.5), 2),
            perspective=0.0 if scan else round(rng.uniform(0.0, 0.012), 4),
            blur=round(rng.choice((0.0, 0.0, 0.3, 0.5)), 2),
            jpeg_quality=rng.choice((None, 92, 85)),
            crease=rng.random() < 0.15,
            shadow=0.0 if scan or rng.random() < 0.5 else round(rng.uniform(0.05, 0.15), 3),
            stamp=rng.random() < 0.15,
            signature=False,
            background="white" if scan else rng.choice(("white", "desk", "wood")),
            scale=1.0 if scan else round(rng.uniform(0.95, 0.99), 3),
        )
    scan = rng.random() < 0.3
    return Capture(
        rotation=round(rng.uniform(-1.2, 1.2) if scan else rng.uniform(-6, 6), 2),
        perspective=0.0 if scan else round(rng.uniform(0.0, 0.045), 4),
        blur=round(rng.choice((0.0, 0.0, 0.6, 1.0, 1.4)), 2),
        jpeg_quality=rng.choice((95, 85, 75, 60)),
        crease=rng.random() < 0.35,
        shadow=0.0 if scan or rng.random() < 0.4 else round(rng.uniform(0.1, 0.4), 3),
        occlusion=None if scan or rng.random() < 0.6 else rng.choice(("finger", "paper", "clip")),
        stamp=rng.random() < 0.5,
        signature=rng.random() < 0.8,
        background="white" if scan else rng.choice(("desk", "wood", "cloth", "dark", "white")),
        scale=round(rng.uniform(0.96, 0.995) if scan else rng.uniform(0.84, 0.95), 3),
    )


def to_meta(cap: Capture) -> dict:
    return asdict(cap)


# -- page effects --------------------------------------------------------------------------
def _overlaps(box, boxes, pad: float = 2.0) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + pad and b[0] - pad < x1 and y0 < b[3] + pad and b[1] - pad < y1 for b in boxes)


def draw_page_effects(page: Page, cap: Capture, rng: random.Random) -> None:
    w, h = page.width, page.height
    if cap.crease:
        horizontal = rng.random() < 0.6
        a, b = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)
        line = [(0, a * h), (w, b * h)] if horizontal else [(a * w, 0), (b * w, h)]
        page.draw.line(line, fill=(205, 205, 200, 255), width=1)
        off = [(x + (0 if horizontal else 1), y + (1 if horizontal else 0)) for x, y in line]
        page.draw.line(off, fill=(250, 250, 250, 255), width=1)
    if cap.signature and page.signature_slot:
        _signature(page, rng)
    elif cap.signature:
        cap.signature = False
    if cap.stamp:
        cap.stamp = _stamp(page, rng)


def _signature(page: Page, rng: random.Random) -> None:
    assert page.signature_slot is not None  # called only for a page with a slot
    x0, y0, x1, y1 = page.signature_slot
    n = 40
    xs = np.linspace(x0, x1, n)
    phase, freq = rng.uniform(0, 6.28), rng.uniform(2.5, 5.0)
    amp = (y1 - y0) * 0.3
    pts = []
    for i, x in enumerate(xs):
        t = i / (n - 1)
        y = (y0 + y1) / 2 + amp * math.sin(freq * 6.28 * t + phase) * (1 - 0.5 * t) + rng.uniform(-2, 2)
        pts.append((float(x) + 6 * math.sin(13 * t + phase), y))
    width = max(2, page.size // 10)
    page.draw.line(pts, fill=(25, 35, 120, 255), width=width, joint="curve")
    xs_, ys_ = [p[0] for p in pts], [p[1] for p in pts]
    pad = width + 2
    page.color_boxes.append(
        (
            math.floor(min(xs_) - pad),
            math.floor(min(ys_) - pad),
            math.ceil(max(xs_) + pad),
            math.ceil(max(ys_) + pad),
        )
    )


def _stamp(page: Page, rng: random.Random) -> bool:
    """A red round stamp in free space near the bottom; False when none fits off the labelled text."""
    r = round(page.size * rng.uniform(2.4, 3.2))
    labelled = [run.box for run in page.runs if run.field]
    printed = [run.box for run in page.runs]
    # prefer blank paper; else it may cover unlabelled text (a signer's name), never a label value
    for i in range(24):
        cx = rng.uniform(page.width * 0.45, page.width - r - 4)
        cy = rng.uniform(max(r + 4, page.height * 0.5), page.height - r - 4)
        box = (cx - r, cy - r, cx + r, cy + r)
        if not _overlaps(box, printed if i < 12 else labelled, pad=4):
            break
    else:
        return False
    red = (rng.randint(180, 215), rng.randint(20, 60), rng.randint(30, 60))
    patch = Image.new("RGB", (2 * r + 1, 2 * r + 1), (255, 255, 255))
    d = ImageDraw.Draw(patch)
    d.ellipse([1, 1, 2 * r - 1, 2 * r - 1], outline=red, width=max(3, r // 12))
    text = STAMP_TEXT[page.zh]
    fam = page.family if page.zh else symbol_family()
    font = fam.get(max(10, round(r * (0.32 if page.zh else 0.3))), bold=True)
    tw = font.getlength(text)
    d.text((r - tw / 2, r - font.size * 0.6), text, font=font, fill=red, anchor="la")
    d.regular_polygon((r, r - font.size * 1.3, font.size * 0.5), 5, fill=red)
    x, y = round(cx - r), round(cy - r)
    region = page.img.crop((x, y, x + 2 * r + 1, y + 2 * r + 1)).convert("RGB")
    page.img.paste(ImageChops.multiply(region, patch), (x, y))
    page.color_boxes.append((x, y, x + 2 * r + 1, y + 2 * r + 1))
    asc, desc = font.getmetrics()
    left, _, right, _ = font.getbbox(text, anchor="la")
    tx, ty = x + round(r - tw / 2), y + round(r - font.size * 0.6)
    page.runs.append(Run(text, (tx + left, ty, tx + right, ty + asc + desc), None))
    return True


# -- photo effects -------------------------------------------------------------------------
def _solve(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3x3 homography mapping src points onto dst points (4 pairs)."""
    a = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coef = np.linalg.solve(np.array(a, float), dst.reshape(-1).astype(float))
    return np.append(coef, 1.0).reshape(3, 3)


def placement(
    cap: Capture, page_size: tuple[int, int], canvas: tuple[int, int], rng: random.Random
) -> np.ndarray:
    """Destination of the page corners on the canvas (kept inside it)."""
    w, h = page_size
    cw, ch = canvas
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float) - [w / 2, h / 2]
    t = math.radians(cap.rotation)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    dst = src @ rot.T * cap.scale
    jitter = np.array([[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]) * cap.perspective * [w, h]
    dst = dst + jitter
    span = dst.max(0) - dst.min(0)
    fit = min(1.0, (cw - 2) / span[0], (ch - 2) / span[1])
    dst = dst * fit
    lo, hi = dst.min(0), dst.max(0)
    room = np.array([cw, ch]) - (hi - lo)
    shift = [rng.uniform(0.2, 0.8) * room[0], rng.uniform(0.2, 0.8) * room[1]]
    return dst - lo + shift


def _ycc(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """JPEG (ITU-R BT.601 full range) YCbCr of an RGB colour, as Pillow converts it."""
    r, g, b = rgb
    vals = (
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
    )
    y, cb, cr = (min(255, max(0, round(v))) for v in vals)
    return y, cb, cr


# luminance LUTs: page ink is never 0, so 0 after the warp marks "off the page"
_NONZERO = [1] + list(range(1, 256))
_COVER = [0] + [255] * 255
_WHITE = [0] * 255 + [255]


@functools.lru_cache(maxsize=8)
def _flat(size: tuple[int, int], value: int) -> Image.Image:
    return Image.new("L", size, value)  # shared: never modified


@functools.lru_cache(maxsize=4)
def _noise_tile(sigma: int, size: tuple[int, int]) -> Image.Image:
    # fixed seed: the tile is the same everywhere; each report reads it at its own offset.
    # Grey (luminance) noise: the same on R, G and B.
    g = np.random.default_rng(sigma)
    a = np.clip(128 + g.normal(0, sigma, (size[1], size[0])), 0, 255).astype(np.uint8)
    return Image.fromarray(a, "L")


def _background(kind: str, size: tuple[int, int], rng: random.Random) -> tuple[Image.Image, int, int]:
    """Luminance of a low-frequency background field and its (constant) chroma.

    The brightness offsets are the same on R, G and B, so they move only the luminance.
    """
    y, cb, cr = _ycc(BACKGROUNDS[kind])
    gx, gy = (3, 24) if kind == "wood" else (6, 8)
    low = y + rng.uniform(-12, 12) + np.array([[rng.uniform(-14, 14) for _ in range(gx)] for _ in range(gy)])
    small = Image.fromarray(np.clip(np.round(low), 0, 255).astype(np.uint8), "L")
    return small.resize(size, Image.Resampling.BILINEAR), cb, cr


def _light(cap: Capture, size: tuple[int, int], rng: random.Random) -> Image.Image | None:
    """Uneven lighting (a soft shadow and a fold) as one multiply mask (mode L)."""
    if cap.shadow <= 0 and not cap.crease:
        return None
    gw, gh = 32, 44
    yy, xx = np.mgrid[0:gh, 0:gw].astype(float)
    yy, xx = yy / gh, xx / gw
    light = np.ones((gh, gw))
    if cap.shadow > 0:
        ang = rng.uniform(0, 6.28)
        d = np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy - 0.5) - rng.uniform(-0.2, 0.2)
        light -= cap.shadow * np.clip(d * 3 + 0.5, 0, 1)
    if cap.crease:
        side = (xx - rng.uniform(0.3, 0.7)) if rng.random() < 0.5 else (yy - rng.uniform(0.3, 0.7))
        light *= np.where(side > 0, 1.0, rng.uniform(0.9, 0.96))
    m = Image.fromarray(np.clip(light * 255, 0, 255).astype(np.uint8), "L")
    return m.resize(size, Image.Resampling.BILINEAR)


def _occlude(planes: list[Image.Image], kind: str, boxes: list, rng: random.Random) -> bool:
    """Cover part of the edge without hiding any printed text; False when nothing fits.

    `planes` are the Y, Cb, Cr images; each gets its component of the colour.
    """
    w, h = planes[0].size
    for _ in range(10):
        bw, bh = rng.uniform(0.08, 0.18) * w, rng.uniform(0.06, 0.14) * h
        edge = rng.choice("lrtb")
        x = {"l": -bw * 0.4, "r": w - bw * 0.6}.get(edge, rng.uniform(0, w - bw))
        y = {"t": -bh * 0.4, "b": h - bh * 0.6}.get(edge, rng.uniform(0, h - bh))
        box = (x, y, x + bw, y + bh)
        if not _overlaps(box, boxes, pad=3):
            break
    else:
        return False
    if kind == "finger":
        color = (rng.randint(200, 230), rng.randint(150, 180), rng.randint(125, 150))
    elif kind == "paper":
        color = (rng.randint(235, 255), rng.randint(225, 250), rng.randint(150, 200))
    else:
        color = (120, 120, 125)
    for plane, v in zip(planes, _ycc(color), strict=True):
        d = ImageDraw.Draw(plane)
        if kind == "finger":
            d.ellipse(box, fill=v)
        elif kind == "paper":
            d.rectangle(box, fill=v)
        else:
            d.rounded_rectangle(box, radius=min(bw, bh) / 3, outline=v, width=5)
    return True


def _coefs(m: np.ndarray) -> tuple[float, ...]:
    m = m / m[2, 2]
    return tuple(float(v) for v in m.reshape(-1)[:8])


def _shift(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0, dx], [0, 1.0, dy], [0, 0, 1.0]])


_TILE, _BLOCK = 32, 16


def _warp(luma: Image.Image, inv: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """The page luminance on the canvas (bilinear); 0 off the page.

    Same pixels as one Image.transform, but only canvas tiles that read non-white page pixels or the
    page edge are resampled: tiles wholly inside blank paper are filled white, tiles off the page stay 0.
    """
    cw, ch = size
    pw, ph = luma.size
    out = Image.new("L", size, 0)
    corners = _solve_quad(inv, (pw, ph))
    ImageDraw.Draw(out).polygon(corners, fill=255)
    # non-white 16x16 page blocks, as a summed-area table
    white = luma.point(_WHITE).reduce(_BLOCK)
    inked = (np.asarray(white) < 255).astype(np.int32)
    sat = np.zeros((inked.shape[0] + 1, inked.shape[1] + 1), np.int32)
    sat[1:, 1:] = inked.cumsum(0).cumsum(1)
    nx, ny = -(-cw // _TILE), -(-ch // _TILE)
    gx = np.minimum(np.arange(nx + 1) * _TILE, cw).astype(float)
    gy = np.minimum(np.arange(ny + 1) * _TILE, ch).astype(float)
    pts = np.stack(np.meshgrid(gx, gy), -1) @ inv[:, :2].T + inv[:, 2]  # (ny+1, nx+1, 3)
    sx, sy = pts[..., 0] / pts[..., 2], pts[..., 1] / pts[..., 2]

    def quad(a):  # per tile min / max over its four corners
        c = np.stack([a[:-1, :-1], a[:-1, 1:], a[1:, :-1], a[1:, 1:]])
        return c.min(0), c.max(0)

    (x0, x1), (y0, y1) = quad(sx), quad(sy)
    x0, y0, x1, y1 = x0 - 2, y0 - 2, x1 + 2, y1 + 2  # bilinear reach and rounding margin
    outside = (x1 < 0) | (y1 < 0) | (x0 > pw) | (y0 > ph)
    inside = (x0 >= 0) & (y0 >= 0) & (x1 <= pw) & (y1 <= ph)
    bh, bw = inked.shape
    bx0 = np.clip(np.floor(x0 / _BLOCK), 0, bw).astype(int)
    by0 = np.clip(np.floor(y0 / _BLOCK), 0, bh).astype(int)
    bx1 = np.clip(np.floor(x1 / _BLOCK) + 1, 0, bw).astype(int)
    by1 = np.clip(np.floor(y1 / _BLOCK) + 1, 0, bh).astype(int)
    ink = sat[by1, bx1] - sat[by0, bx1] - sat[by1, bx0] + sat[by0, bx0]
    todo = ~outside & ~(inside & (ink == 0))
    method, bilinear = Image.Transform.PERSPECTIVE, Image.Resampling.BILINEAR
    for ty in range(ny):
        row = todo[ty]
        if not row.any():
            continue
        ys, ye = ty * _TILE, min(ch, (ty + 1) * _TILE)
        # runs of consecutive tiles to resample in this row
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            xs, xe = a * _TILE, min(cw, b * _TILE)
            out.im.transform((xs, ys, xe, ye), luma.im, method, _coefs(inv @ _shift(xs, ys)), bilinear, 1)
    return out


def _solve_quad(inv: np.ndarray, page: tuple[int, int]) -> list[tuple[float, float]]:
    """The page corners on the canvas (through the inverse of `inv`)."""
    fwd = np.linalg.inv(inv)
    w, h = page
    c = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], float) @ fwd.T
    return [(float(x), float(y)) for x, y in c[:, :2] / c[:, 2:]]


def _paint_color(
    page_img: Image.Image,
    box: tuple,
    fwd: np.ndarray,
    inv: np.ndarray,
    cb: Image.Image,
    cr: Image.Image,
    mask: Image.Image | None,
) -> None:
    """Chroma of one coloured page box, warped like the page, into the Cb/Cr planes."""
    cw, ch = cb.size
    pw, ph = page_img.size
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(pw, box[2]), min(ph, box[3])
    if x0 >= x1 or y0 >= y1:
        return
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], float) @ fwd.T
    xy = corners[:, :2] / corners[:, 2:]
    dx0, dy0 = (max(0, math.floor(v) - 1) for v in xy.min(0))
    dx1, dy1 = min(cw, math.ceil(xy[:, 0].max()) + 1), min(ch, math.ceil(xy[:, 1].max()) + 1)
    if dx0 >= dx1 or dy0 >= dy1:
        return
    # the page area feeding that rectangle, with a margin so bilinear reads stay inside the crop
    back = np.array([[dx0, dy0, 1], [dx1, dy0, 1], [dx1, dy1, 1], [dx0, dy1, 1]], float) @ inv.T
    sxy = back[:, :2] / back[:, 2:]
    sx0, sy0 = (max(0, math.floor(v) - 2) for v in sxy.min(0))
    sx1, sy1 = min(pw, math.ceil(sxy[:, 0].max()) + 2), min(ph, math.ceil(sxy[:, 1].max()) + 2)
    if sx0 >= sx1 or sy0 >= sy1:
        return
    crop = page_img.crop((sx0, sy0, sx1, sy1)).convert("RGB")
    m = _shift(-sx0, -sy0) @ inv @ _shift(dx0, dy0)
    patch = crop.transform(
        (dx1 - dx0, dy1 - dy0),
        Image.Transform.PERSPECTIVE,
        _coefs(m),
        Image.Resampling.BILINEAR,
        fillcolor=(255, 255, 255),
    ).convert("YCbCr")
    _, pcb, pcr = patch.split()
    pmask = mask.crop((dx0, dy0, dx1, dy1)) if mask is not None else None
    cb.paste(pcb, (dx0, dy0), pmask)
    cr.paste(pcr, (dx0, dy0), pmask)


def _blur(img: Image.Image, sigma: float) -> Image.Image:
    """Gaussian-like blur of standard deviation `sigma` (pixels) on a luminance plane."""
    if sigma <= 0.75:
        # a 3x3 Gaussian is exact to within 1% here
        k = [math.exp(-(i * i) / (2 * sigma * sigma)) for i in (-1, 0, 1)]
        w = [a * b for a in k for b in k]
        return img.filter(ImageFilter.Kernel((3, 3), w, sum(w)))
    # two box passes of this radius have the variance of the Gaussian (one call: cheaper than 3 passes)
    r = (math.sqrt(1 + 6 * sigma * sigma) - 1) / 2
    return img._new(img.im.box_blur((r, r), 2))


def apply_capture(
    page: Page, cap: Capture, canvas: tuple[int, int], rng: random.Random
) -> tuple[Image.Image, bytes | None, list[list[int]], np.ndarray]:
    """The photographed image, its JPEG bytes (when JPEG), the run boxes on it and the homography.

    Works on luminance (Y) at full cost and on chroma (Cb, Cr) only where there is colour: the page
    is grey apart from its colour boxes, the background has one chroma, and noise is grey.
    """
    cw, ch = canvas
    w, h = page.img.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    dst = placement(cap, (w, h), canvas, rng)
    fwd = _solve(src, dst)
    luma = page.img.convert("L")
    if np.allclose(dst, src) and (w, h) == (cw, ch):
        inv, mask = np.eye(3), None
        y = luma
        cb, cr = Image.new("L", canvas, 128), Image.new("L", canvas, 128)
    else:
        inv = _solve(dst, src)
        warped = _warp(luma.point(_NONZERO), inv, canvas)
        mask = warped.point(_COVER)
        y, bcb, bcr = _background(cap.background, canvas, rng)
        y.paste(warped, (0, 0), mask)
        cb, cr = Image.new("L", canvas, bcb), Image.new("L", canvas, bcr)
        cb.paste(128, (0, 0, cw, ch), mask)
        cr.paste(128, (0, 0, cw, ch), mask)
    for box in page.color_boxes:
        _paint_color(page.img, box, fwd, inv, cb, cr, mask)
    boxes = transform_boxes([r.box for r in page.runs], fwd, (cw, ch))
    if cap.occlusion:
        if not _occlude([y, cb, cr], cap.occlusion, boxes, rng):
            cap.occlusion = None
    light = _light(cap, (cw, ch), rng)
    if light is not None:
        y = ImageChops.multiply(y, light)
        grey = _flat((cw, ch), 128)
        cb, cr = Image.composite(cb, grey, light), Image.composite(cr, grey, light)
    sigma = 3 if cap.jpeg_quality is None or cap.blur == 0 else 5
    tile = _noise_tile(sigma, (1120, 1500) if cw > 448 else (448, 448))
    ox, oy = rng.randint(0, max(0, tile.width - cw)), rng.randint(0, max(0, tile.height - ch))
    if tile.width >= cw and tile.height >= ch:
        y = ImageChops.add(y, tile.crop((ox, oy, ox + cw, oy + ch)), 1.0, -128)
    if cap.blur > 0:
        y = _blur(y, cap.blur)
    img = Image.merge("YCbCr", (y, cb, cr))
    data = None
    if cap.jpeg_quality:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=cap.jpeg_quality)
        data = buf.getvalue()
        img = Image.open(io.BytesIO(data))
        img.load()
    else:
        img = img.convert("RGB")
    return img, data, boxes, fwd


def transform_boxes(boxes: list, hom: np.ndarray, size: tuple[int, int]) -> list[list[int]]:
    """Axis-aligned bbox of each box's corners through the homography, clipped to the image."""
    if not boxes:
        return []
    b = np.asarray(boxes, float)
    corners = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [2, 3]], b[:, [0, 3]]], 1)  # n,4,2
    pts = np.concatenate([corners, np.ones(corners.shape[:2] + (1,))], -1) @ hom.T
    xy = pts[..., :2] / pts[..., 2:]
    lo = np.floor(xy.min(1))
    hi = np.ceil(xy.max(1))
    lo = np.clip(lo, 0, [size[0] - 1, size[1] - 1])
    hi = np.clip(hi, 1, [size[0], size[1]])
    return np.concatenate([lo, hi], 1).astype(int).tolist()
