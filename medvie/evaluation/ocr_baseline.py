"""The "traditional" baseline: OCR text lines + a rule-based reader that maps them to schema keys.

Header fields are `label: value` pairs found through the schema's English/Chinese key names and
synonyms; table rows are read by column position under a recognised header row into `Indicators`.
Only the asked keys are answered, so the baseline is scored on the same queries as the models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# canonical key -> labels printed on reports (lower-case; the schema's names are merged in at load)
HEADER_SYNONYMS: dict[str, list[str]] = {
    "Name": ["name", "patient name", "patient", "姓名", "患者姓名", "病人姓名"],
    "Gender": ["gender", "sex", "性别"],
    "Age": ["age", "年龄"],
    "Examination Time": [
        "examination time",
        "exam time",
        "examination date",
        "exam date",
        "test date",
        "test time",
        "tested",
        "received",
        "检查时间",
        "检验时间",
        "检查日期",
        "检验日期",
        "检测时间",
        "送检日期",
    ],
    "Department": ["department", "dept", "dept.", "科室", "科别", "送检科室", "申请科室"],
    "Examination Name": [
        "examination name",
        "exam name",
        "examination",
        "exam",
        "test name",
        "test",
        "panel",
        "procedure",
        "检查名称",
        "检查项目",
        "检验项目",
        "检验目的",
        "标本名称",
    ],
    "Examination Site": [
        "examination site",
        "exam site",
        "site",
        "body part",
        "specimen",
        "检查部位",
        "部位",
        "送检标本",
        "取材部位",
    ],
    "Examination Description": [
        "examination description",
        "description",
        "findings",
        "finding",
        "microscopic findings",
        "检查描述",
        "检查所见",
        "影像所见",
        "所见",
        "镜下所见",
        "肉眼所见",
        "病理所见",
    ],
    "Diagnosis": [
        "diagnosis",
        "impression",
        "conclusion",
        "clinical diagnosis",
        "pathological diagnosis",
        "诊断",
        "临床诊断",
        "诊断意见",
        "检查结论",
        "结论",
        "印象",
        "病理诊断",
    ],
    "Treatment Recommendations": [
        "treatment recommendations",
        "treatment recommendation",
        "recommendations",
        "recommendation",
        "advice",
        "suggestion",
        "处理建议",
        "建议",
        "治疗建议",
    ],
    "Sample Collection Time": [
        "sample collection time",
        "collection time",
        "sampling time",
        "collected",
        "sample time",
        "样本采集时间",
        "采样时间",
        "采集时间",
        "采样日期",
    ],
    "Others": ["others", "other", "remarks", "remark", "notes", "note", "其他", "备注"],
}
COLUMN_SYNONYMS: dict[str, list[str]] = {
    "Item Name": [
        "item name",
        "item",
        "test",
        "analyte",
        "parameter",
        "项目",
        "项目名称",
        "检验项目",
        "检测项目",
    ],
    "Result": ["result", "results", "value", "结果", "检测结果", "测定值"],
    "Unit": ["unit", "units", "单位"],
    "Reference Range": [
        "reference range",
        "reference",
        "ref. range",
        "ref range",
        "range",
        "normal range",
        "参考范围",
        "参考值",
        "参考区间",
        "正常范围",
    ],
    "Abnormal Mark": ["abnormal mark", "flag", "mark", "abnormal", "提示", "标志", "异常标志", "异常"],
    "Detection Method": ["detection method", "method", "检测方法", "方法"],
    "Result Status": ["result status", "status", "结果状态", "状态"],
    "Clinical Indication": ["clinical indication", "indication", "临床意义", "临床提示"],
    "Critical Value": ["critical value", "critical", "危急值"],
}
LONG_TEXT_KEYS = {"Examination Description", "Diagnosis", "Treatment Recommendations", "Others"}
ROW_FIELDS = list(COLUMN_SYNONYMS)
_ABNORMAL = re.compile(r"^(↑|↓|H|L|HH|LL|\*|高|低|阳性|\+)$")
_SEP = r"[:：]"
_OTHER_LABEL = re.compile(r"^[^:：\d]{1,24}[:：]")
_QUALITATIVE = re.compile(
    r"^(阴性|阳性|弱阳性|negative|positive|neg|pos|trace|±|[1-4]?\+{1,4})$", re.IGNORECASE
)
_NUMERIC = re.compile(r"^[<>≤≥]?\s*[-+]?\d+(?:[.,]\d+)?\s*(?:[↑↓HL])?$")
_RANGE = re.compile(r"^[<>≤≥]\s*\d|^\d+(?:\.\d+)?\s*[-~–—]{1,2}\s*\d")


def _norm(label: str) -> str:
    return re.sub(r"\s+", " ", label.strip().rstrip(":：").strip()).lower()


class SchemaNames:
    """Key names per language from the schema file: queries may ask in English or Chinese key names."""

    def __init__(self, schema_path: str | Path | None = None) -> None:
        self.canonical: dict[str, tuple[str, str]] = {}  # any name -> (canonical key, language)
        self.names: dict[str, dict[str, str]] = {}  # canonical key (or field) -> {language: name}
        entries: list[dict] = []
        if schema_path and Path(schema_path).exists():
            try:
                entries = list(
                    _walk(json.loads(Path(schema_path).read_text(encoding="utf-8")).get("keys", []))
                )
            except (OSError, json.JSONDecodeError, AttributeError):
                entries = []
        for entry in entries:
            key, names = entry.get("key"), entry.get("names") or {}
            if not isinstance(key, str) or not isinstance(names, dict):
                continue
            self.names[key] = {"en": key, **{k: v for k, v in names.items() if isinstance(v, str)}}
            for lang, name in self.names[key].items():
                self.canonical.setdefault(name, (key, lang))
                table = (
                    HEADER_SYNONYMS
                    if key in HEADER_SYNONYMS
                    else COLUMN_SYNONYMS.get(key) and COLUMN_SYNONYMS
                )
                if table and _norm(name) not in table[key]:
                    table[key].append(_norm(name))

    def resolve(self, asked: str) -> tuple[str, str]:
        return self.canonical.get(asked, (asked, "en"))

    def name(self, key: str, lang: str) -> str:
        return self.names.get(key, {}).get(lang, key)


def _walk(entries: Any) -> Iterable[dict]:
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            yield entry
            yield from _walk(entry.get("fields"))


def _label_pattern(table: dict[str, list[str]]) -> tuple[re.Pattern[str], dict[str, str]]:
    lookup = {_norm(s): key for key, syns in table.items() for s in [key, *syns]}
    alts = "|".join(re.escape(s) for s in sorted(lookup, key=len, reverse=True))
    # a label starts a line or follows a separator, and is followed by a colon
    return re.compile(rf"(?<![^\s|,;，；])({alts})\s*{_SEP}", re.IGNORECASE), lookup


def group_rows(lines: Sequence[dict]) -> list[list[dict]]:
    """Cluster text items into visual rows (vertical overlap), each row sorted left to right."""
    items = [ln for ln in lines if str(ln.get("text", "")).strip()]
    if not items or any(not ln.get("box") for ln in items):
        return [[ln] for ln in items]  # no geometry: keep reading order, one item per row
    items = sorted(items, key=lambda ln: (ln["box"][1] + ln["box"][3]) / 2)
    rows: list[list[dict]] = []
    for ln in items:
        y0, y1 = ln["box"][1], ln["box"][3]
        mid = (y0 + y1) / 2
        if rows:
            ry0 = min(i["box"][1] for i in rows[-1])
            ry1 = max(i["box"][3] for i in rows[-1])
            if ry0 <= mid <= ry1:
                rows[-1].append(ln)
                continue
        rows.append([ln])
    return [sorted(r, key=lambda ln: ln["box"][0]) for r in rows]


def _cells(row: list[dict]) -> list[tuple[str, float, float]]:
    """Split row items into cells (text, x0, x1); a long item spanning several columns is split on space runs."""
    cells = []
    for item in row:
        text = str(item["text"]).strip()
        box = item.get("box") or [0, 0, len(text), 1]
        parts = [m for m in re.finditer(r"\S+(?: \S+)*", text)] if "  " in text else None
        if not parts or len(parts) == 1:
            cells.append((text, float(box[0]), float(box[2])))
            continue
        width = (box[2] - box[0]) / max(len(text), 1)
        for m in parts:
            cells.append((m.group(0), box[0] + m.start() * width, box[0] + m.end() * width))
    return cells


class RuleReader:
    """Maps OCR lines of one report to the schema's keys."""

    def __init__(self) -> None:
        self.header_re, self.header_lookup = _label_pattern(HEADER_SYNONYMS)
        self.column_lookup = {_norm(s): key for key, syns in COLUMN_SYNONYMS.items() for s in [key, *syns]}

    def _header_columns(self, row: list[dict]) -> list[tuple[str, float]] | None:
        cols = []
        for text, x0, x1 in _cells(row):
            key = self.column_lookup.get(_norm(text))
            if key is None:
                return None
            cols.append((key, (x0 + x1) / 2))
        names = {k for k, _ in cols}
        return cols if len(cols) >= 2 and "Item Name" in names and ("Result" in names) else None

    def read(self, lines: Sequence[dict]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        indicators: list[dict[str, str]] = []
        columns: list[tuple[str, float]] | None = None
        last_key: str | None = None
        for row in group_rows(lines):
            text = "  ".join(str(i["text"]).strip() for i in row)
            header = self._header_columns(row)
            if header:
                columns, last_key = header, None
                continue
            matches = list(self.header_re.finditer(text))
            if matches:
                columns = None  # a labelled field ends the table
                for m, nxt in zip(matches, [*matches[1:], None]):
                    key = self.header_lookup[_norm(m.group(1))]
                    value = text[m.end() : nxt.start() if nxt else len(text)].strip(" |,;，；")
                    if value and key not in out:
                        out[key] = value
                    last_key = key
                continue
            if columns:
                row_obj = self._table_row(row, columns)
                if row_obj:
                    indicators.append(row_obj)
                continue
            if _OTHER_LABEL.match(text):
                last_key = None  # a labelled field the schema has no key for ("Reviewed by: …")
                continue
            row_obj = _headerless_row(row)
            if row_obj:
                indicators.append(row_obj)
                last_key = None
                continue
            if not out and not indicators and len(row) == 1 and "Examination Name" not in out:
                # a lone line above every labelled field is the report's title
                out["Examination Name"] = text.strip()
                continue
            if last_key in LONG_TEXT_KEYS:
                joiner = "" if re.search(r"[\u4e00-\u9fff]$", str(out.get(last_key, ""))) else " "
                out[last_key] = (str(out.get(last_key, "")) + joiner + text.strip()).strip()
        if indicators:
            out["Indicators"] = indicators
        return out

    def _table_row(self, row: list[dict], columns: list[tuple[str, float]]) -> dict[str, str]:
        obj: dict[str, str] = {}
        cells = _cells(row)
        if len(cells) == len(columns) and len(row) < len(cells):
            # one OCR line holding every cell: glyph widths vary, so column order beats estimated x
            cells = [(text, x, x) for (_, x), (text, _, _) in zip(columns, cells)]
        for text, x0, x1 in cells:
            mid = (x0 + x1) / 2
            key = min(columns, key=lambda c: abs(c[1] - mid))[0]
            obj[key] = f"{obj[key]} {text}".strip() if key in obj else text
        result = obj.get("Result", "")
        tail = result.rsplit(" ", 1)
        # a flag printed right after the value ("11.2 ↑") belongs to Abnormal Mark
        if len(tail) == 2 and _ABNORMAL.match(tail[1]) and "Abnormal Mark" not in obj:
            obj["Result"], obj["Abnormal Mark"] = tail[0], tail[1]
        return obj if obj.get("Item Name") else {}


def _headerless_row(row: list[dict]) -> dict[str, str]:
    """A table row printed without a header: name, then a numeric result, then unit / range / flag by shape."""
    cells = [c[0] for c in _cells(row)]
    if (
        len(cells) < 2
        or _NUMERIC.match(cells[0])
        or not (_NUMERIC.match(cells[1]) or _QUALITATIVE.match(cells[1]))
    ):
        return {}
    obj = {"Item Name": cells[0], "Result": cells[1]}
    for cell in cells[2:]:
        if _ABNORMAL.match(cell):
            obj.setdefault("Abnormal Mark", cell)
        elif _RANGE.match(cell) or (_QUALITATIVE.match(cell) and "Reference Range" not in obj):
            obj.setdefault("Reference Range", cell)
        else:
            obj.setdefault("Unit", cell)
    return obj


def answer(
    lines: Sequence[dict], keys: Sequence[str], prompt_text: str = "", names: SchemaNames | None = None
) -> dict[str, Any]:
    """Read `lines` and answer only the asked `keys`, under the names asked ("" when not found).

    Indicator rows keep only the row fields the prompt mentions (all of them when it names none).
    """
    names = names or SchemaNames()
    read = RuleReader().read(lines)
    out: dict[str, Any] = {}
    for asked in keys:
        key, lang = names.resolve(asked)
        if key != "Indicators":
            out[asked] = read.get(key, "")
            continue
        fields = {f: names.name(f, lang) for f in ROW_FIELDS}
        mentioned = {f: n for f, n in fields.items() if n.lower() in prompt_text.lower()} or fields
        out[asked] = [
            {mentioned[f]: v for f, v in row.items() if f in mentioned and v}
            for row in read.get("Indicators", [])
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
