"""Parsing a completion: `<think>…</think><answer>…</answer>` and the JSON object inside.

Only `str.find`-style scans and one `json.loads` run here, so hostile input (megabytes,
deep nesting, NaN, duplicate keys, control characters) is rejected in linear time.

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
from typing import Any

from medvie.rewards.normalize import _normalize_text, normalize_key, normalize_value

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


# What json.loads(text, strict=False, object_pairs_hook=..., parse_constant=...) builds per call.
_DECODER = json.JSONDecoder(strict=False, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


def loads_object(text: str, max_depth: int = 32) -> dict | None:
    """Strict JSON object or None: NaN/Infinity, duplicate keys and deep nesting are rejected.

    Raw newlines/tabs inside strings are tolerated (models write multi-line findings).
    """
    if text.startswith("\ufeff"):  # json.loads rejects a BOM before decoding
        return None
    try:
        obj = _DECODER.decode(text)
    except (ValueError, RecursionError, TypeError):
        return None
    # Fewer brackets than max_depth cannot nest deeper: skip the walk for ordinary answers.
    if not isinstance(obj, dict) or (
        text.count("{") + text.count("[") > max_depth and _too_deep(obj, max_depth)
    ):
        return None
    return obj


def extract_json(text: str, max_depth: int = 32) -> tuple[dict | None, bool]:
    """(JSON object in an answer text, found strictly). A ```json fence counts as strict;
    the span from the first "{" to the last "}" (prose around the JSON) is found only leniently.
    """
    return _extract(text, max_depth, loads_object)


def _extract(text: str, max_depth: int, loads: Any) -> tuple[Any, bool]:
    text = text.strip()
    obj = loads(_unfence(text) if "```" in text else text, max_depth)
    if obj is not None:
        return obj, True
    i, j = text.find("{"), text.rfind("}")
    if 0 <= i < j:
        return loads(text[i : j + 1], max_depth), False
    return None, False


# Scoring needs only the canonical tree of the answer (`flatten.canonicalize_count`), so the
# reward builds it while decoding: the object hook normalises each object as the decoder closes
# it, and one pass replaces decode-then-walk. A decoded object is the tuple
# (canonical node or None, leaf count, raw key count, container height); JSON never decodes to
# a tuple, so tuples inside lists and pairs are always finished children.
_CANON_DEEPEST = 64  # deeper limits take the two-pass path (same results; recursion stays shallow)
_CACHE_MAX = 1 << 16


def _canonical_decoder(case_fold: bool) -> json.JSONDecoder:
    texts: dict[str, str] = {}
    keys: dict[str, str] = {}

    def text(v: str) -> str:
        c = texts.get(v)
        if c is None:
            c = _normalize_text(v, case_fold)
            if len(texts) >= _CACHE_MAX:
                texts.clear()
            texts[v] = c
        return c

    def key(k: str) -> str:
        c = keys.get(k)
        if c is None:
            c = normalize_key(k, case_fold)
            if len(keys) >= _CACHE_MAX:
                keys.clear()
            keys[k] = c
        return c

    def value(v: Any) -> tuple:
        t = type(v)
        if t is tuple:
            return v
        if t is list:
            items = []
            total = height = 0
            for x in v:
                if type(x) is str:
                    if x and (x := text(x)):
                        items.append(x)
                        total += 1
                    continue
                node, n, _, h = x if type(x) is tuple else value(x)
                if h > height:
                    height = h
                if node is not None:
                    items.append(node)
                    total += n
            return (items, total, 0, height + 1) if items else (None, 0, 0, height + 1)
        if t is str:
            s = text(v) if v else ""
        else:
            s = normalize_value(v, case_fold)
        return (s, 1, 0, 0) if s else (None, 0, 0, 0)

    text_get, key_get = texts.get, keys.get

    def hook(pairs: list) -> tuple:
        if len(dict(pairs)) != len(pairs):
            raise ValueError("duplicate key")
        out = {}
        total = height = 0
        for k, v in pairs:  # no duplicates: the same items, in the same order, as dict(pairs)
            if type(v) is str:  # the common leaf, inlined (caches hit: two dict lookups)
                if v:
                    c = text_get(v)
                    if c is None:
                        c = text(v)
                    if c:
                        kc = key_get(k)
                        out[key(k) if kc is None else kc] = c
                        total += 1
                continue
            node, n, _, h = v if type(v) is tuple else value(v)
            if h > height:
                height = h
            if node is not None:
                out[key(k)] = node
                total += n
        return (out, total, len(pairs), height + 1) if out else (None, 0, len(pairs), height + 1)

    return json.JSONDecoder(strict=False, object_pairs_hook=hook, parse_constant=_reject_constant)


_CANON_DECODERS: dict[bool, json.JSONDecoder] = {}


def _canonical_loads(case_fold: bool) -> Any:
    decoder = _CANON_DECODERS.get(case_fold)
    if decoder is None:
        decoder = _CANON_DECODERS[case_fold] = _canonical_decoder(case_fold)
    decode = decoder.decode

    def loads(text: str, max_depth: int) -> tuple | None:
        if text.startswith("\ufeff"):
            return None
        try:
            obj = decode(text)
        except (ValueError, RecursionError, TypeError):
            return None
        if type(obj) is not tuple or obj[3] > max_depth:  # not an object, or nested too deep
            return None
        return obj

    return loads


_CANON_LOADS: dict[bool, Any] = {}


def parse_canonical(
    completion: Any,
    *,
    require_thinking: bool = True,
    max_chars: int = 200_000,
    max_depth: int = 32,
    case_fold: bool = False,
) -> tuple[bool, bool, Any, int] | None:
    """(format_ok, json_valid, canonical answer, leaf count), exactly as parse_completion followed
    by `canonicalize_count(answer)`; None where the caller must take that path (a decoded dict)."""
    if isinstance(completion, dict) and "role" not in completion or max_depth > _CANON_DEEPEST:
        return None
    text = completion if type(completion) is str else completion_text(completion)
    if len(text) > max_chars:
        return False, False, None, 0
    answer_text, well = split_tags(text, require_thinking)
    if answer_text is None:
        return False, False, None, 0
    loads = _CANON_LOADS.get(case_fold)
    if loads is None:
        loads = _CANON_LOADS[case_fold] = _canonical_loads(case_fold)
    obj, strict = _extract(answer_text, max_depth, loads)
    if obj is None:
        return False, False, None, 0
    node, n, raw_len, _ = obj
    return well and strict and raw_len > 0, True, node, n


def parse_completion(
    completion: Any, *, require_thinking: bool = True, max_chars: int = 200_000, max_depth: int = 32
) -> Parsed:
    """Parse one completion (string or conversational). Never raises."""
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
    answer, strict = extract_json(answer_text, max_depth)
    return Parsed(answer=answer, well_formed=well and strict)
