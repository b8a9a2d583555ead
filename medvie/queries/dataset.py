"""The query data set as TRL's GRPOTrainer reads it: conversational `prompt`, one PIL image in `image`,
`truth`.

GRPOTrainer (TRL 1.x) takes a per-example `image` column, wraps it as `[image]` and fills the prompt's
`{"type": "image"}` placeholder with it.
"""

from __future__ import annotations

import os
from pathlib import Path

from medvie.errors import DataError
from medvie.io import read_jsonl

SPLIT_FILES = {"train": "train.jsonl", "val": "val.jsonl", "test": "test.jsonl"}


def load_queries(path: str | os.PathLike[str]):
    """A `datasets.Dataset` of the queries in `path` with images decoded to PIL on access."""
    import datasets

    path = Path(path)
    rows = read_jsonl(path)
    for row in rows:
        if "image" not in row or "prompt" not in row:
            raise DataError(
                f"{path}: query {row.get('id')!r} lacks 'image' or 'prompt'; re-run the queries stage"
            )
        image = (path.parent / row["image"]).resolve()
        if not image.exists():
            raise DataError(
                f"{path}: image of query {row.get('id')!r} not found at {image}; re-run ingest/queries"
            )
        row["image"] = str(image)
    if not rows:
        features = datasets.Features(
            {
                "id": datasets.Value("string"),
                "prompt": datasets.List(
                    {
                        "role": datasets.Value("string"),
                        "content": datasets.List(
                            {"type": datasets.Value("string"), "text": datasets.Value("string")}
                        ),
                    }
                ),
                "image": datasets.Image(),
                "truth": datasets.Value("string"),
            }
        )
        return datasets.Dataset.from_dict({k: [] for k in features}, features=features)
    ds = datasets.Dataset.from_list(rows)
    return ds.cast_column("image", datasets.Image())


def fit_images(dataset, budget: tuple[int, int]):
    """`dataset` with every image resized to the model's pixel budget (`medvie.modeling.processor.fit_image`):
    the trainer's processor and a vLLM engine, which reads the checkpoint's own budget, then see the same
    image tokens."""
    from medvie.modeling.processor import fit_image

    if len(dataset) == 0:
        return dataset
    return dataset.map(lambda row: {"image": fit_image(row["image"].convert("RGB"), budget)})


def longest_prompt(dataset, processor) -> int:
    """Tokens of the longest prompt of `dataset`, image tokens included, as `processor` builds it."""
    longest = 0
    for row in dataset:
        text = processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        ids = processor(text=[text], images=[row["image"]], return_tensors="np")["input_ids"]
        longest = max(longest, int(ids.shape[1]))
    return longest
