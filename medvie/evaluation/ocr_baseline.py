"""The "traditional" baseline: OCR text lines + a rule-based reader that maps them to schema keys.

The words a report prints for a key come from the schema file (each key's names and `aliases`, every
language; list keys' fields give the column headers), so a new form is read by adding its labels
there. Labels match case-insensitively, full-width forms folded, with trailing dots or colons.

- Key-value pairs: a label, a separator (":", "=", "-", dot leaders, "|", or a gap between cells),
  then the value up to the next label on the row; several pairs per row; a label alone at the end
  of a row takes the next row. Combined labels ("Sex / Age", "Name (Sex, Age)") split their value
  on the same separators. Free text ("Li Wei, 45 y, female, tested 2024-04-06") is read by shape.
- Tables: a row whose words are mostly column labels is a header; the rows under it are read by
  column position (box x, page skew undone) or, without boxes, by cell order or value shapes.
  Rows without a header are read by shape: leading words = item name, then a number or a
  qualitative result, a range, a unit, a flag (H/L, HIGH/LOW, ↑/↓, *). A key-value row ends a table.

Fuzzy matching (rapidfuzz) is tried only where exact matching fails, with a high threshold.
Reading by shape knows the medical schema's canonical keys: Name / Gender / Age in free text, and
Item Name / Result / Unit / Reference Range / Abnormal Mark for the rows of its list key.
Only the asked keys are answered, so the baseline is scored on the same queries as the models.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from medvie.evaluation.ocr_layout import Cell, Row, fold, rows, shape, tokens, unbracket
from medvie.queries.schema import KeySpec, Schema, load_schema

LONG_TEXT_KEYS = {"Examination Description", "Diagnosis", "Treatment Recommendations", "Others"}
# labels reports print for what is no schema key: a value stops before them (a schema label wins)
OTHER_LABELS = (
    "Patient ID",
    "ID",
    "MRN",
    "UHID",
    "Bed",
    "Bed No.",
    "Room",
    "Sample No.",
    "Specimen No.",
    "Sample ID",
    "Lab No.",
    "Accession No.",
    "Barcode",
    "Sample Type",
    "Specimen Type",
    "Ordered by",
    "Requested by",
    "Referred by",
    "Physician",
    "Doctor",
    "Referring Doctor",
    "Tested by",
    "Technician",
    "Reviewed by",
    "Verified by",
    "Approved by",
    "Reported",
    "Report Time",
    "Report Date",
    "Printed",
    "Page",
    "Phone",
    "Tel",
    "Address",
    "病历号",
    "门诊号",
    "住院号",
    "床号",
    "标本号",
    "条码号",
    "标本类型",
    "样本类型",
    "送检医生",
    "申请医生",
    "检验者",
    "检验医师",
    "审核者",
    "审核医师",
    "报告医师",
    "报告时间",
    "报告日期",
    "电话",
    "地址",
)
SKIP_COLUMNS = ("No.", "No", "#", "S.No", "Sr.", "Sl.", "序号")  # serial-number columns: read, dropped
_REPORT_WORDS = re.compile(r"hospital|clinic|medical cent|laborator|report|医院|报告|中心", re.IGNORECASE)
FUZZY_CUTOFF = 90  # rapidfuzz ratio; labels shorter than FUZZY_MIN_LEN match exactly only
FUZZY_MIN_LEN = 6

_SEP = r"(?:[:=|]|(?:[.·…_]\s?){2,}|[-–—]{1,2}(?=\s|$))"
SEP = re.compile(rf"\.?\s*{_SEP}(?:\s*{_SEP})*\s*")
_SEP_OR_SPACE = re.compile(rf"{SEP.pattern}|\s+")
GAP = re.compile(r"\s*(?:\t|\s{2,})\s*|\s*$")
COMBO = re.compile(r"\s*([/、&+,(])\s*")
_CLOSE = re.compile(r"\s*\)")
_UNKNOWN = re.compile(r"([^\W\d_][^\t:=\d]{0,30}?)\s*[:=]\s*")
_CJK = re.compile(r"[\u3400-\u9fff]")
_AGE_UNIT = r"(?:y|yr|yrs|y/o|yo|years?(?:\s+old)?|岁|歲)"
# group 1: the age as labels keep it ("45", "45岁"); a Latin unit word after the number is dropped
_AGE = re.compile(rf"(?:age\s*)?(\d{{1,3}}[岁歲]?)(?:\s*{_AGE_UNIT}\.?)?")
_GENDER = re.compile(r"male|female|m|f|man|woman|男|女|男性|女性")
_NAME = re.compile(r"[^\W\d_][\w.'-]*(?:\s+[^\W\d_][\w.'-]*){0,3}")


def norm_label(label: str) -> str:
    """A label as looked up: folded, spaces collapsed, trailing colons / dots / dashes dropped."""
    return re.sub(r"\s+", " ", fold(label)).strip().rstrip(" .:=-_·…|").strip()


def _pattern(label: str) -> str:
    body = r"\s*".join(re.escape(w) for w in label.split(" "))
    if not _CJK.match(label):
        body = r"(?<![^\W_])" + body
    if not _CJK.match(label[-1]) and (label[-1].isalnum()):
        body += r"(?![^\W_])"
    return body


def _alternation(labels: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(_pattern(s) for s in sorted(set(labels), key=len, reverse=True) if s))


def _spec_labels(spec: KeySpec) -> list[str]:
    langs = ["en", *spec.names, *spec.aliases]
    return [
        spec.key,
        *spec.names.values(),
        *(lab for lang in dict.fromkeys(langs) for lab in spec.labels(lang)),
    ]


def _default_schema_path() -> Path | None:
    from medvie.env import project_root

    for path in (
        project_root() / "schemas" / "medical.json",
        Path(__file__).resolve().parents[2] / "schemas" / "medical.json",
    ):
        if path.exists():
            return path
    return None


class SchemaNames:
    """Key names and printed labels from the schema file: queries may ask in any language's key names,
    reports print any of a key's labels."""

    def __init__(self, schema: str | Path | Schema | None = None) -> None:
        if schema is None:
            schema = _default_schema_path()
        if isinstance(schema, (str, Path)):
            schema = load_schema(schema)
        self.schema: Schema | None = schema
        self.canonical: dict[str, tuple[str, str]] = {}  # any name -> (canonical key, language)
        self.names: dict[str, dict[str, str]] = {}  # canonical key (or field) -> {language: name}
        self.row_fields: dict[str, list[str]] = {}  # list key -> its fields
        for spec in schema.keys if schema else []:
            self._add(spec)
            if spec.type == "list":
                self.row_fields[spec.key] = [f.key for f in spec.fields]
                for f in spec.fields:
                    self.names.setdefault(f.key, {"en": f.key, **f.names})

    def _add(self, spec: KeySpec) -> None:
        self.names[spec.key] = {"en": spec.key, **spec.names}
        for lang, name in self.names[spec.key].items():
            self.canonical.setdefault(name, (spec.key, lang))

    def resolve(self, asked: str) -> tuple[str, str]:
        return self.canonical.get(asked, (asked, "en"))

    def name(self, key: str, lang: str) -> str:
        return self.names.get(key, {}).get(lang, key)

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.from_schema(self.schema)


@dataclass
class Vocabulary:
    """Printed labels → schema keys (`keys`) and table column fields (`columns`), normalised."""

    keys: dict[str, str]
    columns: dict[str, str]
    table_key: str | None
    other: set[str] = field(default_factory=set)

    @classmethod
    def from_schema(cls, schema: Schema | None) -> Vocabulary:
        keys: dict[str, str] = {}
        columns: dict[str, str] = {}
        table_key = None
        for spec in schema.keys if schema else []:
            if spec.type == "list" and table_key is None:
                table_key = spec.key
                for f in spec.fields:
                    for lab in _spec_labels(f):
                        columns.setdefault(norm_label(lab), f.key)
            elif spec.type == "string":
                for lab in _spec_labels(spec):
                    keys.setdefault(norm_label(lab), spec.key)
        for lab in SKIP_COLUMNS:
            columns.setdefault(norm_label(lab), "")
        other = {norm_label(lab) for lab in OTHER_LABELS} - set(keys)
        return cls(keys, columns, table_key, other)

    @cached_property
    def label_re(self) -> re.Pattern[str]:
        return _alternation([*self.keys, *self.other])

    @cached_property
    def column_re(self) -> re.Pattern[str]:
        return _alternation(list(self.columns))

    def key_of(self, label: str) -> str | None:
        """The key a printed label names (None: a label of something else)."""
        n = norm_label(label)
        if n in self.keys or n in self.other:
            return self.keys.get(n)
        if len(n) >= FUZZY_MIN_LEN:
            hit = process.extractOne(n, list(self.keys), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if hit:
                return self.keys[hit[0]]
        return None

    def column_by_pattern(self, text: str) -> str:
        """The field of a header label `column_re` matched; OCR may drop the spaces between its words
        ("Ref.Range"), so labels compare without them."""
        squeezed = re.sub(r"\s+", "", norm_label(text))
        for label, field_ in self.columns.items():
            if re.sub(r"\s+", "", label) == squeezed:
                return field_
        raise KeyError(text)  # column_re is built from these labels

    def column_of(self, word: str) -> str | None:
        """The row field a header cell names ("" for a serial-number column, None: not a header word)."""
        n = norm_label(word)
        if n in self.columns:
            return self.columns[n]
        if word.strip().endswith(".") and len(n) >= 2 and " " not in n:  # "Ref." for "Reference Range"
            hits = {f for lab, f in self.columns.items() if f and lab.split(" ")[0].startswith(n)}
            if len(hits) == 1:
                return hits.pop()
        if len(n) >= FUZZY_MIN_LEN:
            hit = process.extractOne(n, list(self.columns), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if hit:
                return self.columns[hit[0]]
        return None


@dataclass
class Event:
    """A label on a row: text[start:end] is the label and its separator; the value follows."""

    start: int
    end: int
    keys: list[str]  # the keys it names (several for a combined label); empty: something else
    delims: list[str]
    explicit: bool  # a printed separator follows (not only a gap or the row's end)


@dataclass
class Column:
    field: str  # "" = a serial-number column
    x0: float
    x1: float


def _clean(value: str, cut: bool = True) -> str:
    """A value without the separators around it; `cut`: it ends where the next label starts."""
    value = re.sub(r"\s+", " ", value.replace("\t", " ")).strip()
    value = re.sub(r"^[\s|,;，；:：=·….]+", "", value)
    value = re.sub(r"(?:\s*[.·…]){2,}$", "", value)
    return value.strip(" |,;，；:：=" if cut else " |:：=")


def _split_combined(value: str, delims: list[str]) -> list[str] | None:
    parts, rest = [], value
    for d in delims:
        i = fold(rest).find(d)
        if i < 0:
            return None
        parts.append(rest[:i])
        rest = rest[i + 1 :]
    parts.append(re.sub(r"\s*[)）]\s*$", "", rest) if "(" in delims else rest)
    return [_clean(p) for p in parts]


class RuleReader:
    """Maps OCR lines of one report to the schema's keys."""

    def __init__(self, names: SchemaNames | None = None) -> None:
        self.names = names or default_names()
        self.vocab = self.names.vocabulary

    # ------------------------------------------------------------------ labels on a row

    def events(self, text: str) -> list[Event]:
        """Labels on a row (known keys, other labels, and unknown `Label:` cells), left to right."""
        f = fold(text)
        out: list[Event] = []
        pos = 0
        while (m := self.vocab.label_re.search(f, pos)) is not None:
            ev = self._event_at(f, m)
            if ev is None:
                pos = m.start() + 1
                continue
            out.append(ev)
            pos = ev.end
        for m in _UNKNOWN.finditer(f):
            start = m.start()
            cell_start = start == 0 or f[start - 1] == "\t"
            whole_cell = m.end() == len(f) or f[m.end() - 1] == "\t" or f[m.end() :].startswith("\t")
            words = m.group(1).split()
            if not cell_start or not (whole_cell or start == 0) or len(words) > 4:
                continue
            if any(e.start <= start < e.end or start <= e.start < m.end() for e in out):
                continue
            key = self.vocab.key_of(m.group(1))
            out.append(Event(start, m.end(), [key] if key else [], [], True))
        out.sort(key=lambda e: e.start)
        # a label word right after a label, with no printed separator, is that label's value ("Dept: Clinic")
        return [
            e
            for i, e in enumerate(out)
            if e.explicit or not i or not out[i - 1].keys or text[out[i - 1].end : e.start].strip()
        ]

    def _event_at(self, f: str, m: re.Match[str]) -> Event | None:
        key = self.vocab.keys.get(norm_label(m.group(0)))
        keys, delims, end = [key] if key else [], [], m.end()
        while key and (c := COMBO.match(f, end)) is not None:
            m2 = self.vocab.label_re.match(f, c.end())
            key2 = self.vocab.keys.get(norm_label(m2.group(0))) if m2 else None
            if m2 is None or not key2:
                break
            keys.append(key2)
            delims.append(c.group(1))
            end = m2.end()
        if "(" in delims and (close := _CLOSE.match(f, end)):
            end = close.end()
        if sep := SEP.match(f, end):
            return Event(m.start(), sep.end(), keys, delims, True)
        if len(keys) > 1:
            return None
        if (m.start() == 0 or f[m.start() - 1] == "\t") and (gap := GAP.match(f, end)):
            return Event(m.start(), gap.end(), keys, delims, False)
        if re.search(r"[,;]\s*$", f[: m.start()]) and (space := re.compile(r"\s+(?=\S)").match(f, end)):
            return Event(m.start(), space.end(), keys, delims, False)  # ", tested 2024-04-06" in a sentence
        return None

    # ------------------------------------------------------------------ tables

    def header(self, row: Row) -> list[Column] | None:
        """The columns of a table header row, or None when the row is no header."""
        cols: list[Column] = []
        covered = total = 0
        for cell in row.cells:
            chars = len(re.sub(r"\s", "", cell.text))
            total += chars
            whole = self.vocab.column_of(cell.text)
            if whole is not None:
                cols.append(Column(whole, cell.x0, cell.x1))
                covered += chars
                continue
            f = fold(cell.text)
            pos, width = 0, (cell.x1 - cell.x0) / max(len(f), 1)
            while pos < len(f):
                if f[pos].isspace():
                    pos += 1
                    continue
                m = self.vocab.column_re.match(f, pos)
                if m:
                    field_ = self.vocab.column_by_pattern(m.group(0))
                    cols.append(Column(field_, cell.x0 + pos * width, cell.x0 + m.end() * width))
                    covered += len(re.sub(r"\s", "", m.group(0)))
                    pos = m.end()
                    continue
                word = re.match(r"[^\s\u3400-\u9fff]+|.", f[pos:])
                assert word is not None  # f[pos] is no space, so `.` matches it
                pos += len(word.group(0))
        named = {c.field for c in cols if c.field}
        if len(named) < 2 or covered < 0.7 * total or any(shape(t) == "number" for t in tokens(row.text)):
            return None
        return cols

    @staticmethod
    def panels(cols: list[Column]) -> list[list[Column]]:
        """Side-by-side tables under one header row: a field seen again starts the next panel."""
        out: list[list[Column]] = [[]]
        for c in cols:
            if c.field and c.field in {x.field for x in out[-1]}:
                out.append([])
            out[-1].append(c)
        return out

    def table_row(self, row: Row, panels: list[list[Column]]) -> list[tuple[int, dict[str, str]]] | None:
        """(panel, row object) pairs read from a row under a header, or None when it is no table row."""
        flat = sorted(((p, c) for p, cols in enumerate(panels) for c in cols), key=lambda pc: pc[1].x0)
        n_cols = len(flat)
        if row.boxed and len(row.cells) >= 2 and not any(self._spans(c, flat) for c in row.cells):
            got: dict[int, dict[str, str]] = {}
            for cell in row.cells:
                p, col = flat[self._band(cell, flat)]
                # a flag printed between two columns is the row's flag, whichever column it is nearer
                name = "Abnormal Mark" if shape(cell.text) == "flag" else col.field
                if name:
                    obj = got.setdefault(p, {})
                    obj[name] = f"{obj[name]} {cell.text}" if name in obj else cell.text
            objs = [(p, _finish(obj)) for p, obj in sorted(got.items())]
        elif len(panels) == 1 and len(row.cells) == n_cols:
            obj = {c.field: cell.text for c, cell in zip(panels[0], row.cells, strict=True) if c.field}
            objs = [(0, _finish(obj))]
        else:
            shaped = self.shaped_row(row.text, [c.field for c in panels[0] if c.field])
            objs = [(0, shaped)] if shaped else []
        objs = [(p, o) for p, o in objs if _is_row(o)]
        return objs or None

    @staticmethod
    def _bands(flat: list[tuple[int, Column]]) -> list[tuple[float, float]]:
        cuts = [(a.x1 + b.x0) / 2 for (_, a), (_, b) in pairwise(flat)]
        return list(zip([float("-inf"), *cuts], [*cuts, float("inf")], strict=True))

    def _band(self, cell: Cell, flat: list[tuple[int, Column]]) -> int:
        bands = self._bands(flat)

        def score(i: int) -> tuple[float, float]:
            lo, hi = bands[i]
            overlap = max(0.0, min(cell.x1, hi) - max(cell.x0, lo))
            return overlap, -abs(cell.mid - (flat[i][1].x0 + flat[i][1].x1) / 2)

        return max(range(len(flat)), key=score)

    def _spans(self, cell: Cell, flat: list[tuple[int, Column]]) -> bool:
        """A cell covering most of two or more columns holds several values (one OCR line per row)."""
        hits = 0
        for (lo, hi), (_, col) in zip(self._bands(flat), flat, strict=True):
            width = (hi - lo) if lo > float("-inf") and hi < float("inf") else (col.x1 - col.x0)
            overlap = max(0.0, min(cell.x1, hi) - max(cell.x0, lo))
            hits += overlap > 0.5 * max(width, 1.0)
        return hits >= 2

    def shaped_row(self, text: str, order: Sequence[str] = ()) -> dict[str, str] | None:
        """A results row read by the shapes of its pieces: name words, result, unit, range, flag.
        `order`: the header's fields left to right (a range printed before the result)."""
        toks = tokens(text)
        shapes = [shape(t) for t in toks]
        if "date" in shapes or any(":" in fold(t) for t in toks):
            return None
        if len(toks) > 2 and shapes[0] == "number" and toks[0].isdigit() and shapes[1] == "word":
            toks, shapes = toks[1:], shapes[1:]  # a serial number before the name
        first = next((i for i, s in enumerate(shapes) if s in ("number", "qual")), None)
        if not first or not all(s in ("word", "range", "unit", "dash") for s in shapes[:first]):
            return None
        early: dict[str, str] = {}
        if "Reference Range" in order and "Result" in order:
            if (
                order.index("Reference Range") < order.index("Result")
                and first > 1
                and shapes[first - 1] == "range"
            ):
                early["Reference Range"] = unbracket(toks[first - 1])
                toks, shapes, first = (
                    toks[: first - 1] + toks[first:],
                    shapes[: first - 1] + shapes[first:],
                    first - 1,
                )
        name = " ".join(toks[:first])
        if (
            first > 6
            or not any(ch.isalpha() for ch in name)
            or re.search(r"[,，;；]$", name)
            or self.vocab.key_of(name) is not None
            or norm_label(name) in self.vocab.other
        ):
            return None
        obj = {"Item Name": name, "Result": toks[first], **early}
        for tok, s in zip(toks[first + 1 :], shapes[first + 1 :], strict=True):
            if s == "flag" and "Abnormal Mark" not in obj:
                obj["Abnormal Mark"] = unbracket(tok)
            elif s == "range" and "Reference Range" not in obj:
                obj["Reference Range"] = unbracket(tok)
            elif s == "qual" and "Reference Range" not in obj:
                obj["Reference Range"] = tok
            elif s == "unit" and "Unit" not in obj:
                obj["Unit"] = tok
            elif s != "dash":
                return None  # a word the row has no place for: not a results row
        return obj

    # ------------------------------------------------------------------ free text

    def free_text(self, text: str) -> tuple[dict[str, str], str | None]:
        """Keys read from a sentence of comma-separated pieces ("Li Wei, 45 y, female, tested 2024-04-06"),
        and the key of a label that ends the row (its value wraps to the next row)."""
        pieces = re.split(r"([,;，；、])", text.replace("\t", " "))
        parts = [
            (p.strip(), (pieces[i + 1] if i + 1 < len(pieces) else "")) for i, p in enumerate(pieces[::2])
        ]
        parts = [(p, d) for p, d in parts if p]
        if len(parts) < 2:
            return {}, None
        found: dict[str, str] = {}
        name = wrapped = current = None
        for i, (part, _) in enumerate(parts):
            f = fold(part)
            m = self.vocab.label_re.match(f)
            key = self.vocab.keys.get(norm_label(m.group(0))) if m else None
            other = m is not None and key is None and _SEP_OR_SPACE.match(f, m.end()) is not None
            sep = _SEP_OR_SPACE.match(f, m.end()) if m and key else None
            if sep and key and part[sep.end() :].strip() and key not in found:
                found[key] = _clean(part[sep.end() :])
                current = key
            elif key and m and m.end() == len(f) and i == len(parts) - 1:
                wrapped = key
            elif i == 0 and self._name_like(part):
                name = part
            elif extra := demographics([part]):
                found.update((k, v) for k, v in extra.items() if k not in found)
                current = None
            elif current and not other:  # "site Liver, gallbladder": a value with commas goes on
                found[current] += parts[i - 1][1] + " " + part
            else:
                current = None
        if name and (found or wrapped):
            found.setdefault("Name", name)
        if len(found) + (wrapped is not None) < 2 or not ({"Name", "Age", "Gender"} & set(found)):
            return {}, None
        return {k: v for k, v in found.items() if k in self.names.names}, wrapped

    def _name_like(self, part: str) -> bool:
        f = fold(part)
        if (
            norm_label(part) in self.vocab.keys
            or norm_label(part) in self.vocab.other
            or demographics([part])
        ):
            return False
        if _CJK.match(part):
            return bool(re.fullmatch(r"[\u3400-\u9fff·]{2,4}", part))
        return bool(_NAME.fullmatch(f)) and all(w[0].isupper() for w in part.split())

    # ------------------------------------------------------------------ the page

    def read(self, lines: Sequence[dict]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        title: str | None = None
        table: list[dict[str, str]] = []
        panels: list[list[Column]] | None = None
        current: list[list[dict[str, str]]] = []
        pending: list[str] | None = None  # keys (and delims) of a label whose value is on the next row
        delims: list[str] = []
        last_key: str | None = None  # a long text that may go on on the next rows
        anchors: list[float] = []  # where its lines start (label, value)

        def flush() -> None:
            for panel in current:
                table.extend(panel)
            current.clear()

        page = rows(lines)
        for i, row in enumerate(page):
            text = row.text
            events = self.events(text)
            cols = None if any(e.keys and e.explicit for e in events) else self.header(row)
            if pending is not None and not cols and not any(e.explicit for e in events):
                # the value of a label that ended the previous row, up to a label in a sentence
                cut = bool(events) and events[0].start > 0
                self._assign(
                    out, pending, delims, _clean(_span(row, 0, events[0].start if cut else len(text)))
                )
                last_key = pending[0] if pending[0] in LONG_TEXT_KEYS else None
                anchors.append(_x_at(row, 0))
                pending = None
                if not cut:
                    continue
            if cols:
                flush()
                panels = self.panels(cols)
                current = [[] for _ in panels]
                pending = last_key = None
                continue
            if events and not any(e.explicit for e in events):
                free, wrapped = self.free_text(text)
                if free:
                    flush()
                    panels, last_key = None, None
                    for k, v in free.items():
                        out.setdefault(k, v)
                    pending, delims = ([wrapped], []) if wrapped else (None, [])
                    continue
            if events:
                flush()
                panels, pending, last_key = None, None, None
                for ev, nxt in zip(events, [*events[1:], None], strict=True):
                    value = _clean(_span(row, ev.end, nxt.start if nxt else len(text)), cut=nxt is not None)
                    if not ev.keys:
                        continue
                    if value:
                        self._assign(out, ev.keys, ev.delims, value)
                        last_key = ev.keys[0] if nxt is None and len(ev.keys) == 1 else None
                    elif nxt is None:
                        pending, delims = ev.keys, ev.delims
                    anchors = [_x_at(row, ev.start), _x_at(row, ev.end)]
                last_key = last_key if last_key in LONG_TEXT_KEYS else None
                continue
            if last_key and (
                not row.boxed or any(abs(row.cells[0].x0 - a) < 1.5 * row.height for a in anchors)
            ):
                before = str(out.get(last_key, ""))
                joiner = "" if _CJK.search(before) else " "  # CJK text wraps between any two characters
                out[last_key] = (before + joiner + _clean(_span(row, 0, len(text)), cut=False)).strip()
                continue
            if panels is not None:
                got = self.table_row(row, panels)
                if got:
                    for p, obj in got:
                        current[p].append(obj)
                    continue
                if (
                    current
                    and any(current)
                    and self._wrapped(text, next(c for c in reversed(current) if c)[-1])
                ):
                    continue
                flush()
                panels = None
            if spaced := self._spaced_pairs(text):
                for k, v in spaced.items():
                    out.setdefault(k, v)
                continue
            row_obj = self.shaped_row(text) or self._word_row(row, page, i)
            if row_obj:
                table.append(row_obj)
                continue
            if table and self._wrapped(text, table[-1]):
                continue
            free, wrapped = self.free_text(text)
            if free or wrapped:
                for k, v in free.items():
                    out.setdefault(k, v)
                pending, delims = ([wrapped], []) if wrapped else (None, [])
                continue
            if (
                title is None
                and not out
                and not table
                and len(row.cells) == 1
                and not _REPORT_WORDS.search(text)
                and not any(ch.isdigit() for ch in text)
            ):
                title = _clean(text)  # a lone line above every field: the report's title
        flush()
        if table and self.vocab.table_key:
            out[self.vocab.table_key] = table
        if title and "Examination Name" in self.names.names:
            out.setdefault("Examination Name", title)
        return out

    def _spaced_pairs(self, text: str) -> dict[str, str]:
        """ "Name Li Wei Sex F", "姓名李伟性别男": labels and short values with nothing but spaces between
        (a line-level OCR of a form whose labels carry no mark); the row must start with a label."""
        f = fold(text.replace("\t", " "))
        starts: list[tuple[int, int, str | None]] = []
        pos = 0
        while (m := self.vocab.label_re.search(f, pos)) is not None:
            cjk = bool(_CJK.match(m.group(0)))
            before = m.start() == 0 or f[m.start() - 1] == " " or cjk
            after = re.match(r"\S" if cjk else r" +\S", f[m.end() :])
            if before and after:
                starts.append((m.start(), m.end(), self.vocab.keys.get(norm_label(m.group(0)))))
                pos = m.end()
            else:
                pos = m.start() + 1
        keys = [k for _, _, k in starts if k]
        if not keys or starts[0][0] != 0 or len(set(keys)) != len(keys):
            return {}
        out = {}
        for (_, end, key), nxt in zip(starts, [*starts[1:], None], strict=True):
            value = _clean(text[end : nxt[0] if nxt else len(text)])
            if (
                not value
                or len(value.split()) > 6
                or self.vocab.column_of(value)
                or _REPORT_WORDS.search(value)
            ):
                return {}  # "病理诊断报告书" is a title, "Test Results" a heading
            if key:
                out[key] = value
        return out

    @staticmethod
    def _wrapped(text: str, last: dict[str, str]) -> bool:
        """A row holding only the rest of the previous results row (a range or flag that wrapped)."""
        toks = tokens(text)
        shapes = [shape(t) for t in toks]
        fields = {"range": "Reference Range", "flag": "Abnormal Mark", "unit": "Unit"}
        if not toks or any(s not in (*fields, "dash") for s in shapes):
            return False
        new = {fields[s]: unbracket(t) for t, s in zip(toks, shapes, strict=True) if s in fields}
        if not new or any(k in last for k in new):
            return False
        last.update(new)
        return True

    def _word_row(self, row: Row, page: list[Row], i: int) -> dict[str, str] | None:
        """A results row whose result is words ("Colour  Pale yellow"): two cells (after a serial number),
        the second under the result of the nearest results row (up to 4 rows away, no label between)."""
        cells = _body(row.cells)
        if not row.boxed or len(cells) != 2 or self.events(row.text):
            return None
        name, result = (c.text.strip() for c in cells)
        if (
            any(shape(t) not in ("word", "qual") for t in tokens(f"{name} {result}"))
            or len(result.split()) > 3
        ):
            return None
        for step in (-1, 1):
            for j in range(i + step, i + 5 * step, step):
                if not 0 <= j < len(page) or self.events(page[j].text):
                    break
                other = _body(page[j].cells)
                if len(other) >= 2 and self.shaped_row(page[j].text):
                    if abs(other[1].x0 - cells[1].x0) < row.height:
                        return {"Item Name": name, "Result": result}
                    break
        return None

    @staticmethod
    def _assign(out: dict[str, Any], keys: list[str], delims: list[str], value: str) -> None:
        if not value:
            return
        if len(keys) == 1:
            m = re.fullmatch(r"(.+?)\s*[(（]([^()（）]+)[)）]", value) if keys[0] == "Name" else None
            extra = demographics(re.split(r"[,，/]", m.group(2))) if m else {}
            if m and extra:  # "Li Wei (F, 45)": the parentheses after a name hold the patient's sex and age
                value = m.group(1).strip()
                for k, v in extra.items():
                    out.setdefault(k, v)
            out.setdefault(keys[0], value)
            return
        parts = _split_combined(value, delims)
        for key, part in zip(keys, parts or [""] * len(keys), strict=True):
            if part:
                out.setdefault(key, part)


def _span(row: Row, start: int, stop: int) -> str:
    """row.text[start:stop], cut at the first wide gap between two of its cells (a stamp beside it)."""
    out, pos, prev = [], 0, None
    for cell in row.cells:
        a, b = pos, pos + len(cell.text)
        pos = b + 1
        lo, hi = max(a, start), min(b, stop)
        if hi <= lo:
            continue
        if prev is not None and row.boxed and cell.x0 - prev.x1 > 1.2 * row.height:
            break
        out.append(row.text[lo:hi])
        prev = cell
    return " ".join(out)


def _body(cells: list[Cell]) -> list[Cell]:
    """A row's cells without a leading serial number."""
    return cells[1:] if len(cells) >= 3 and re.fullmatch(r"\d{1,3}\.?", cells[0].text.strip()) else cells


def _x_at(row: Row, offset: int) -> float:
    """The x of a character offset of row.text."""
    pos = 0
    for cell in row.cells:
        end = pos + len(cell.text)
        if offset <= end:
            return cell.x0 + (cell.x1 - cell.x0) * max(offset - pos, 0) / max(len(cell.text), 1)
        pos = end + 1
    return row.cells[-1].x1 if row.cells else 0.0


def demographics(parts: Sequence[str]) -> dict[str, str]:
    """Age and Gender from pieces that are nothing else ("45 y", "F"); empty unless every piece is one."""
    out: dict[str, str] = {}
    for part in parts:
        part = part.strip()
        f = fold(part)
        if (m := _AGE.fullmatch(f)) and "Age" not in out:
            out["Age"] = part[m.start(1) : m.end(1)]
        elif _GENDER.fullmatch(f) and "Gender" not in out:
            out["Gender"] = part
        else:
            return {}
    return out


def _finish(obj: dict[str, str]) -> dict[str, str]:
    """Tidy a row read by columns: a flag printed after the result goes to Abnormal Mark."""
    obj = {k: v.strip() for k, v in obj.items() if v.strip()}
    result = obj.get("Result", "")
    toks = tokens(result)
    if len(toks) == 2 and shape(toks[1]) == "flag" and "Abnormal Mark" not in obj:
        obj["Result"], obj["Abnormal Mark"] = toks[0], unbracket(toks[1])
    for k in ("Reference Range", "Abnormal Mark"):
        if k in obj:
            obj[k] = unbracket(obj[k])
    return obj


def _is_row(obj: dict[str, str]) -> bool:
    name = obj.get("Item Name", "")
    return bool(name) and any(ch.isalpha() for ch in name) and len(obj) >= 2 and ":" not in fold(name)


@lru_cache(maxsize=1)
def default_names() -> SchemaNames:
    """The names of the project's schema file (`schemas/medical.json`)."""
    return SchemaNames()


def answer(
    lines: Sequence[dict], keys: Sequence[str], prompt_text: str = "", names: SchemaNames | None = None
) -> dict[str, Any]:
    """Read `lines` and answer only the asked `keys`, under the names asked ("" when not found).

    List rows keep only the row fields the prompt mentions (all of them when it names none).
    """
    names = names or default_names()
    read = RuleReader(names).read(lines)
    out: dict[str, Any] = {}
    for asked in keys:
        key, lang = names.resolve(asked)
        if key not in names.row_fields:
            out[asked] = read.get(key, "")
            continue
        fields = {f: names.name(f, lang) for f in names.row_fields[key]}
        mentioned = {f: n for f, n in fields.items() if n.lower() in prompt_text.lower()} or fields
        out[asked] = [
            {mentioned[f]: v for f, v in row.items() if f in mentioned and v} for row in read.get(key, [])
        ]
    return out


def prompt_text(prompt: Any) -> str:
    """All text parts of a conversational prompt, joined."""
    parts: list[str] = []
    for msg in prompt or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            parts.append(content)
        for c in content if isinstance(content, list) else []:
            if isinstance(c, dict) and c.get("type") == "text":
                parts.append(str(c.get("text", "")))
    return "\n".join(parts)
