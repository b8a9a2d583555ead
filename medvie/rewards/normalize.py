"""Value normalisation before matching: what differs only in form is not a reading error.

>>> normalize_value("  ＡＢＣ\u3000１２ ")
'ABC 12'
>>> normalize_value("1,200.50"), normalize_value(5.0), normalize_value("-0")
('1200.5', '5', '0')
>>> normalize_value("Male", case_fold=True)
'male'
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# Thousands separators only in groups of three, so "1,2" (a decimal comma or a list) stays text.
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
# Control characters that str.split() does not treat as whitespace.
_CONTROL = dict.fromkeys(c for c in range(0x20) if not chr(c).isspace())
_CONTROL[0x7F] = None


def _canonical_number(text: str) -> str:
    try:
        d = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


@lru_cache(maxsize=1 << 16)
def _normalize_text(text: str, case_fold: bool) -> str:
    # NFKC folds full-width Latin/digits and the ideographic space to their ASCII forms.
    text = unicodedata.normalize("NFKC", text).translate(_CONTROL)
    text = " ".join(text.split())
    if _NUMBER.fullmatch(text):
        return _canonical_number(text)
    return text.casefold() if case_fold else text


def normalize_value(value: object, case_fold: bool = False) -> str:
    """A leaf value as a comparable string; "" means empty (None, blank, NaN)."""
    if isinstance(value, str):
        return _normalize_text(value, case_fold) if value else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return _canonical_number(repr(value)) if "e" not in repr(value) else repr(value)
    return _normalize_text(str(value), case_fold)


@lru_cache(maxsize=1 << 12)
def normalize_key(key: str, case_fold: bool = False) -> str:
    """Keys get the same Unicode/width/whitespace folding, never number folding."""
    text = " ".join(unicodedata.normalize("NFKC", key).translate(_CONTROL).split())
    return text.casefold() if case_fold else text
