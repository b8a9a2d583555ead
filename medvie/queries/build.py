"""KV-query generation: which keys a query asks, its prompt, and the ground truth restricted to exactly
those keys.

Every random choice comes from a generator seeded by (seed, record id, strategy), so a record's queries do not
change when other records are added or reordered.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from medvie.errors import DataError
from medvie.queries.config import QueriesConfig
from medvie.queries.schema import Schema
from medvie.sampling.features import record_language

INSTRUCTIONS = {
    "en": {
        "task": "Extract the following keys from the {document} in the image. Key descriptions:\n",
        "missing": "Use an empty string for a value the {document} does not show.\n",
        "think": "First output the thinking process in <think></think> tags, then the final answer in "
        "<answer></answer> tags; the final answer is JSON.",
        "answer": "Output the final answer in <answer></answer> tags; the final answer is JSON.",
    },
    "zh": {
        "task": "从图片中的{document}里抽取以下字段。字段说明：\n",
        "missing": "{document}中没有的字段填空字符串。\n",
        "think": "先在<think></think>标签中输出思考过程，"
        "再在<answer></answer>标签中输出最终答案；最终答案为JSON。",
        "answer": "在<answer></answer>标签中输出最终答案；最终答案为JSON。",
    },
}

Asked = dict[str, list[str] | None]


def rng_for(seed: int, *parts: Any) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def prompt_language(record: dict[str, Any], cfg: QueriesConfig) -> str:
    return record_language(record) if cfg.key_language == "auto" else cfg.key_language


def choose_subset(label: dict[str, Any], schema: Schema, cfg: QueriesConfig, rng: random.Random) -> Asked:
    """A random subset of the label's keys (schema order); list keys may ask only some row fields."""
    present = [k for k in schema.key_names if k in label]
    k = rng.randint(min(cfg.keys_min, len(present)), min(cfg.keys_max, len(present)))
    chosen = set(rng.sample(present, k))
    asked: Asked = {}
    for key in present:
        if key not in chosen:
            continue
        asked[key] = None
        spec = schema.known(key)
        rows = (
            [r for r in label[key] if isinstance(r, dict)]
            if spec.type == "list" and isinstance(label[key], list)
            else []
        )
        # fields every row has, so that a restricted row never comes out empty
        common = [f.key for f in spec.fields if rows and all(f.key in r for r in rows)]
        if len(common) >= 2 and rng.random() < cfg.row_fields_subset_prob:
            fields = set(rng.sample(common, rng.randint(1, len(common) - 1)))
            asked[key] = [f for f in common if f in fields]
    return asked


def ask_all(schema: Schema) -> Asked:
    return dict.fromkeys(schema.key_names)


def restrict(label: dict[str, Any], asked: Asked, schema: Schema) -> dict[str, Any]:
    """The ground truth of exactly the asked keys; an asked key the label lacks is empty ("" or [])."""
    out: dict[str, Any] = {}
    for key, fields in asked.items():
        spec = schema.known(key)
        if key not in label:
            out[key] = [] if spec.type == "list" else {} if spec.type == "object" else ""
            continue
        value = label[key]
        if fields is not None and spec.type == "list":
            value = [
                {f: row[f] for f in fields if f in row} if isinstance(row, dict) else row for row in value
            ]
        elif fields is not None and spec.type == "object" and isinstance(value, dict):
            value = {f: value[f] for f in fields if f in value}
        out[key] = value
    return out


def chat_prompt(text: str, image: bool = True) -> list[dict[str, Any]]:
    """A query's chat messages: one user turn, the page image (placeholder) first, then the text."""
    content: list[dict[str, Any]] = [{"type": "image"}] if image else []
    return [{"role": "user", "content": [*content, {"type": "text", "text": text}]}]


def hint_block(
    lines: Sequence[dict[str, Any]], width: int | None, height: int | None, cfg: QueriesConfig, lang: str
) -> str:
    """A page's text lines as the prompt's hint block, formatted by the queries settings."""
    from medvie.text.store import format_hints

    return format_hints(
        lines,
        width=width,
        height=height,
        positions=cfg.hint_positions,
        max_lines=cfg.hint_max_lines,
        language=lang,
    )


def build_prompt(
    schema: Schema, asked: Asked, lang: str, thinking: bool, hints: str = "", aliases: bool = True
) -> str:
    text = INSTRUCTIONS.get(lang, INSTRUCTIONS["en"])
    doc = schema.document_name(lang)
    return (
        hints
        + text["task"].format(document=doc)
        + schema.describe(asked, lang, aliases)
        + "\n"
        + text["missing"].format(document=doc)
        + text["think" if thinking else "answer"]
    )


def record_queries(
    record: dict[str, Any],
    schema: Schema,
    cfg: QueriesConfig,
    *,
    strategy: str,
    count: int,
    image: str,
    split: str,
    hints: Callable[[dict[str, Any], str], str] | None = None,
) -> list[dict[str, Any]]:
    """`count` queries of one record (distinct where the label allows), in the query data set format."""
    rid = str(record.get("id"))
    label = record.get("label")
    if not label or not isinstance(label, dict):
        raise DataError(
            f"record {rid!r}: empty label; it cannot be queried (label it or drop it and re-ingest)"
        )
    schema.check_label(label, rid)
    lang = prompt_language(record, cfg)
    hint_text = hints(record, lang) if hints else ""
    rng = rng_for(cfg.seed, rid, strategy, split)
    out, seen = [], set()
    for j in range(count):
        asked = ask_all(schema) if strategy == "all" else choose_subset(label, schema, cfg, rng)
        for _ in range(20):  # small labels have few subsets: accept a repeat rather than loop forever
            if strategy == "all" or json.dumps(asked) not in seen:
                break
            asked = choose_subset(label, schema, cfg, rng)
        seen.add(json.dumps(asked))
        truth = schema.translate(restrict(label, asked, schema), lang)
        out.append(
            {
                "id": f"{rid}:{strategy}:{j}",
                "record_id": rid,
                "prompt": chat_prompt(
                    build_prompt(schema, asked, lang, cfg.thinking, hint_text, cfg.key_aliases)
                ),
                "image": image,
                "truth": json.dumps(truth, ensure_ascii=False),
                "keys": [schema.known(k).name(lang) for k in asked],
                "canonical_keys": list(asked),
                # a JSON string: a mapping with per-row keys does not fit one Arrow column type
                "row_fields": json.dumps(
                    {
                        schema.known(k).name(lang): [schema.known(k).known_field(f).name(lang) for f in v]
                        for k, v in asked.items()
                        if v is not None
                    },
                    ensure_ascii=False,
                ),
                "thinking": cfg.thinking,
                "doc_type": str(record.get("doc_type") or "unknown"),
                "strategy": strategy,
                "split": split,
                "language": lang,
                # in_family | held_out (a report family kept out of training) | "" (no family known)
                "family_group": str(record.get("family_group") or ""),
            }
        )
    return out


def cap_records(records: Sequence[dict[str, Any]], cap: int, seed: int, split: str) -> list[dict[str, Any]]:
    """At most `cap` records, a seeded random choice that does not depend on input order."""
    if len(records) <= cap:
        return list(records)

    def key(r: dict[str, Any]) -> str:
        return hashlib.sha256(f"{seed}:{split}:{r.get('id')}".encode()).hexdigest()

    keep = {id(r) for r in sorted(records, key=key)[:cap]}
    return [r for r in records if id(r) in keep]
