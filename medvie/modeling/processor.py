"""A Qwen2.5-VL processor that works without torchvision, registered with `AutoProcessor`.

The stock `Qwen2_5_VLProcessor` wants a video processor, which needs torchvision; without it
`AutoProcessor` silently falls back to the tokenizer alone and TRL fails later with
`KeyError: 'pixel_values'`. Images are all this project feeds, so the video part is dropped and the
PIL image processor is used. Importing this module registers the class.
"""

from __future__ import annotations

from transformers import AutoProcessor, Qwen2_5_VLConfig
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

from medvie.modeling.tokenizers import CHAT_TEMPLATE

PATCH = 14
MERGE = 2
PIXELS_PER_TOKEN = (PATCH * MERGE) ** 2  # one image token covers a 28x28 pixel cell
# tiny-preset pages (~448 x 200-450) → about 100-250 image tokens, never more than 256. The floor is low so
# that small crops (pretraining snippets) are read at their printed scale instead of being upscaled.
TINY_MIN_PIXELS = 4 * PIXELS_PER_TOKEN
TINY_MAX_PIXELS = 256 * PIXELS_PER_TOKEN


class MedvieQwen2_5_VLProcessor(Qwen2_5_VLProcessor):
    """Qwen2.5-VL processor for images only (no video processor, hence no torchvision)."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        super().__init__(image_processor, tokenizer, None, chat_template=chat_template, **kwargs)

    # ProcessorMixin derives the sub-processors from __init__'s signature, so `video_processor` is gone;
    # the parent's __init__ still sets it as an attribute, and saving must not write a video config.
    @classmethod
    def get_attributes(cls):
        return ["image_processor", "tokenizer"]


def register_processor() -> None:
    """Make `AutoProcessor` resolve Qwen2.5-VL checkpoints saved by medvie to the class above (idempotent)."""
    AutoProcessor.register(Qwen2_5_VLConfig, MedvieQwen2_5_VLProcessor, exist_ok=True)


def build_processor(tokenizer, min_pixels: int = TINY_MIN_PIXELS, max_pixels: int = TINY_MAX_PIXELS):
    """Processor for a freshly built tiny model: PIL image processor + `tokenizer` + Qwen chat template."""
    image_processor = Qwen2VLImageProcessorPil(
        size={"shortest_edge": min_pixels, "longest_edge": max_pixels},
        patch_size=PATCH,
        merge_size=MERGE,
        temporal_patch_size=2,
    )
    return MedvieQwen2_5_VLProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE
    )


def set_pixel_budget(processor, min_pixels: int | None, max_pixels: int | None) -> None:
    """Override the image token budget of a loaded processor (None keeps the current value)."""
    if min_pixels is None and max_pixels is None:
        return
    ip = processor.image_processor
    size = dict(ip.size)
    size["shortest_edge"] = min_pixels or size.get("shortest_edge")
    size["longest_edge"] = max_pixels or size.get("longest_edge")
    ip.size = type(ip.size)(**size) if not isinstance(ip.size, dict) else size


def pixel_budget(processor) -> tuple[int, int]:
    """(min_pixels, max_pixels) of a loaded processor's image processor."""
    size = processor.image_processor.size
    if not isinstance(size, dict):
        size = {k: getattr(size, k) for k in ("shortest_edge", "longest_edge")}
    return int(size["shortest_edge"]), int(size["longest_edge"])


def fit_image(image, budget: tuple[int, int]):
    """`image` resized to the size the Qwen2.5-VL processor would give it under `budget` (sides multiples of
    28, area within the budget), with the processor's own resampling.

    This is how the pixel budget stays one fact: a processor with a wider budget (vLLM's, which reads the
    checkpoint's preprocessor_config) leaves a fitted image as it is, so every consumer cuts it into the
    same image tokens.
    """
    from PIL import Image
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    height, width = smart_resize(
        image.height, image.width, factor=PATCH * MERGE, min_pixels=budget[0], max_pixels=budget[1]
    )
    if (width, height) == image.size:
        return image
    return image.resize((width, height), Image.Resampling.BICUBIC)


register_processor()
