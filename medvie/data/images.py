"""Decoding user images defensively and normalising them to bounded RGB PNGs."""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

# MPO is what many phone cameras call their JPEGs.
SUPPORTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "WEBP", "TIFF", "BMP"})
_ORIENTATION_TAG = 0x0112


class ImageRejected(Exception):
    """An image that cannot be ingested; `code` is the rejection reason counted in summaries."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NormalisedImage:
    width: int
    height: int
    source_width: int
    source_height: int
    scale: float  # new size / size after EXIF orientation
    exif_transposed: bool
    sha256: str  # of the normalised pixels, so it does not depend on the PNG encoder's version
    phash: str  # 64-bit perceptual hash as 16 hex digits
    phash256: str  # 256-bit perceptual hash as 64 hex digits: confirms near duplicates on look-alike pages


@contextlib.contextmanager
def pixel_limit(max_pixels: int) -> Iterator[None]:
    """Make Pillow refuse images above `max_pixels` for the duration (process-wide, so set once per run)."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x the limit; a warning would let the bomb decode.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA"):
        # Scans with alpha are flattened on white paper, not black.
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grayscale: scale to 8 bits rather than clipping at 255.
        im = im.point(lambda v: v / 256).convert("L")
    return im.convert("RGB")


def _decode(path: Path, max_pixels: int) -> tuple[Image.Image, bool]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageRejected("missing_file", f"image file not found: {path.name}") from None
    if not path.is_file():
        raise ImageRejected("missing_file", f"not a regular file: {path.name}")
    if size == 0:
        raise ImageRejected("empty_file", "image file is empty (0 bytes)")
    try:
        with Image.open(path) as im:
            if im.format not in SUPPORTED_FORMATS:
                raise ImageRejected(
                    "unsupported_format",
                    f"unsupported image format {im.format} "
                    f"(use one of {', '.join(sorted(SUPPORTED_FORMATS))})",
                )
            w, h = im.size
            if w * h > max_pixels:
                raise ImageRejected(
                    "decompression_bomb", f"{w}x{h} exceeds data.max_image_pixels ({max_pixels})"
                )
            im.load()
            orientation = im.getexif().get(_ORIENTATION_TAG, 1)
            oriented = ImageOps.exif_transpose(im)
            return oriented, orientation not in (None, 1)
    except ImageRejected:
        raise
    except UnidentifiedImageError:
        raise ImageRejected("unsupported_format", "not a recognised image format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("decompression_bomb", f"exceeds data.max_image_pixels ({max_pixels})") from None
    except OSError as exc:
        code = "truncated_image" if "truncated" in str(exc).lower() else "corrupt_image"
        raise ImageRejected(code, f"cannot decode image ({_first_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - a decoder bug on one file must not lose the others
        reason = f"cannot decode image ({type(exc).__name__}: {_first_line(exc)})"
        raise ImageRejected("corrupt_image", reason) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def normalise_image(src: Path, dst: Path, *, max_side: int, max_pixels: int) -> NormalisedImage:
    """Decode `src`, apply EXIF orientation, bound the longer side, write an RGB PNG to `dst`.

    Call inside `pixel_limit(max_pixels)` so Pillow itself also refuses oversized images.
    """
    im, transposed = _decode(src, max_pixels)
    src_w, src_h = im.size
    rgb = _to_rgb(im)
    scale = 1.0
    if max(src_w, src_h) > max_side:
        scale = max_side / max(src_w, src_h)
        size = (max(1, round(src_w * scale)), max(1, round(src_h * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    w, h = rgb.size
    digest = hashlib.sha256(f"{w}x{h}:".encode())
    digest.update(rgb.tobytes())
    gray = rgb.convert("L")
    phash = str(imagehash.phash(gray))
    phash256 = str(imagehash.phash(gray, hash_size=16))
    # PNG encoding dominates ingestion time; on report pages level 1 is ~2x faster than the default 6
    # and the files are no larger than ~10 % more.
    rgb.save(dst, format="PNG", compress_level=1)
    return NormalisedImage(
        width=w,
        height=h,
        source_width=src_w,
        source_height=src_h,
        scale=scale,
        exif_transposed=transposed,
        sha256=digest.hexdigest(),
        phash=phash,
        phash256=phash256,
    )
