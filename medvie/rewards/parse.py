"""Parsing a completion: `<think>…</think><answer>…</answer>` and the JSON object inside.

Only `str.find`-style scans and one `json.loads` run here, so hostile input (megabytes,
deep nesting, NaN, control characters) is rejected in linear time. A key repeated in one object
is rejected (the default) or keeps its last value, as `RewardConfig.duplicate_keys` says.

>>> p = parse_completion('<think>read it</think><answer>{"Age": "45"}</answer>')
>>> p.answer, p.format_ok
({'Age': '45'}, True)
>>> parse_completion('{"Age": "45"}').format_ok   # no tags: invalid format, JSON still read
False
>>> parse_completion('{"Age": "45"}').answer
{'Age': '45'}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

DuplicateKeys = Literal["reject", "last"]

_THINK, _THINK_END, _ANSWER, _ANSWER_END = "<think>", "</think>", "<answer>", "</answer>"
_TAGS = (_THINK, _THINK_END, _ANSWER, _ANSWER_END)


@dataclass(frozen=True, slots=True)
class Parsed:
    answer: dict | None  # the answer's JSON object (lenient extraction); None when there is none
    well_formed: bool  # tags exactly as required, the answer block holding only JSON (fence allowed)

    @property
    def json_valid(self) -> bool:
        return self.answer is not None

    @property
    def format_ok(self) -> bool:
        """Tags as required around a non-empty JSON object: an empty answer never scores."""
        return self.well_formed and bool(self.answer)


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or conversational messages (last one's content)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else completion[-1]
        if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content if isinstance(content, str) else ""
    if isinstance(completion, dict):
        return completion_text([completion])
    return ""


def split_tags(text: str, require_thinking: bool = True) -> tuple[str | None, bool]:
    """(answer text, well formed). The answer text is found leniently even when malformed."""
    s = text.strip()
    well = True
    if s.startswith(_THINK):
        end = s.find(_THINK_END)
        if end < 0:
            return None, False
        think, rest = s[len(_THINK) : end], s[end + len(_THINK_END) :].lstrip()
        well = not (_THINK in think or _THINK_END in think or _ANSWER in think or _ANSWER_END in think)
    else:
        rest = s
        well = not require_thinking
    if rest.startswith(_ANSWER) and rest.endswith(_ANSWER_END):
        answer = rest[len(_ANSWER) : -len(_ANSWER_END)]
        return answer, well and not (
            _THINK in answer or _THINK_END in answer or _ANSWER in answer or _ANSWER_END in answer
        )
    start = s.rfind(_ANSWER)
    if start >= 0:
        end = s.find(_ANSWER_END, start)
        return s[start + len(_ANSWER) : end if end >= 0 else len(s)], False
    end = s.rfind(_THINK_END)
    return (s[end + len(_THINK_END) :] if end >= 0 else s), False


def _unfence(text: str) -> str:
    start = text.find("```")
    if start < 0:
        return text
    line_end = text.find("\n", start)
    if line_end < 0:
        return text
    end = text.find("```", line_end)
    return text[line_end + 1 : end if end >= 0 else len(text)]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError("duplicate key")
    return d


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_deep(obj: Any, max_depth: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


# What json.loads(text, strict=False, ...) builds per call, one per duplicate-key policy:
# "reject" fails the whole object, "last" keeps the last value of a repeated key (as json.loads does).
_DECODERS = {
    "reject": json.JSONDecoder(
        strict=False, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
    ),
    "last": json.JSONDecoder(strict=False, parse_constant=_reject_constant),
}


def loads_object(text: str, max_depth: int = 32, duplicate_keys: DuplicateKeys = "reject") -> dict | None:
    """Strict JSON object or None: NaN/Infinity and deep nesting are rejected; a repeated key is
    rejected or keeps its last value (`duplicate_keys`).

    Raw newlines/tabs inside strings are tolerated (models write multi-line findings).

    >>> loads_object('{"Gender": "F", "Gender": "F"}') is None
    True
    >>> loads_object('{"Gender": "M", "Gender": "F"}', duplicate_keys="last")
    {'Gender': 'F'}
    """
    decoder = _DECODERS.get(duplicate_keys)
    if decoder is None:
        raise ValueError(f"duplicate_keys must be one of {', '.join(_DECODERS)}, not {duplicate_keys!r}")
    if text.startswith("\ufeff"):  # json.loads rejects a BOM before decoding
        return None
    try:
        obj = decoder.decode(text)
    except (ValueError, RecursionError, TypeError):
        return None
    # Fewer brackets than max_depth cannot nest deeper: skip the walk for ordinary answers.
    if not isinstance(obj, dict) or (
        text.count("{") + text.count("[") > max_depth and _too_deep(obj, max_depth)
    ):
        return None
    return obj


def extract_json(
    text: str, max_depth: int = 32, duplicate_keys: DuplicateKeys = "reject"
) -> tuple[dict | None, bool]:
    """(JSON object in an answer text, found strictly). A ```json fence counts as strict;
    the span from the first "{" to the last "}" (prose around the JSON) is found only leniently.
    """
    text = text.strip()
    obj = loads_object(_unfence(text) if "```" in text else text, max_depth, duplicate_keys)
    if obj is not None:
        return obj, True
    i, j = text.find("{"), text.rfind("}")
    if 0 <= i < j:
        return loads_object(text[i : j + 1], max_depth, duplicate_keys), False
    return None, False


def parse_completion(
    completion: Any,
    *,
    require_thinking: bool = True,
    max_chars: int = 200_000,
    max_depth: int = 32,
    duplicate_keys: DuplicateKeys = "reject",
) -> Parsed:
    """Parse one completion (string or conversational). Never raises on the completion.

    The one parser of answers: the training reward and the evaluation metrics both read
    completions here (`RewardConfig` passes its limits and `duplicate_keys`)."""
    if isinstance(completion, dict) and "role" not in completion:
        # An already-decoded prediction (evaluation input): no tags to check.
        ok = not _too_deep(completion, max_depth)
        return Parsed(answer=completion if ok else None, well_formed=False)
    text = completion_text(completion)
    if len(text) > max_chars:
        return Parsed(answer=None, well_formed=False)
    answer_text, well = split_tags(text, require_thinking)
    if answer_text is None:
        return Parsed(answer=None, well_formed=False)
    answer, strict = extract_json(answer_text, max_depth, duplicate_keys)
    return Parsed(answer=answer, well_formed=well and strict)
