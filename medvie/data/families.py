"""Report families: what one hospital's form prints, beyond fonts and capture.

A family fixes what carries meaning on a page — the label wording of each key, the separator
between label and value (colon, dot leaders, a gap, boxes), combined fields ("Sex / Age"), header
blocks as key-value pairs or a sentence, the results table's columns, their order and headers,
and the styles of flags, ranges, dates and gender — so a model that only learnt some families'
layouts fails on the others. `data.holdout_families` keeps families out of training and
pretraining; evaluation scores them apart (leave-family-out).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from medvie.errors import ConfigError

# Row keys of a results table; "Result+" prints the flag right after the result in one cell.
ROW_COLUMNS = ("Item Name", "Result", "Result+", "Unit", "Reference Range", "Abnormal Mark")


@dataclass(frozen=True)
class Family:
    name: str
    # schema key (or a non-schema extra such as "pid") -> (English label, Chinese label)
    labels: dict[str, tuple[str, str]]
    sep: str = ":"  # ":" | " :" | " -" | " =" | "dots" (dot leaders) | "gap" (aligned, no mark) | "box"
    upper: bool = False  # labels in capitals
    combine: str = ""  # "" | "sex_age" ("Sex / Age: F / 45") | "name_paren" ("Name: Li Wei (F, 45)")
    header: str = "pairs"  # pairs: label-value items | sentence: one free-text line for the patient
    table: str = "rules"  # rules | plain (header row, no lines) | grid | none (no header row) | inline
    cols: tuple[str, ...] = ("Item Name", "Result", "Abnormal Mark", "Unit", "Reference Range")
    heads: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (en, zh) header
    flag: str = "arrow"  # arrow (↑/↓) | letter (H/L) | word (HIGH/LOW) | star (*)
    range_style: str = "dash"  # dash 3.5-9.5 | spaced 3.5 - 9.5 | tilde 3.5~9.5 | to 3.5 to 9.5
    date: str = "iso"  # iso 2024-04-06 | dmy 06/04/2024 | dot 06.04.2024 | text 06 Apr 2024
    gender: str = "word"  # word Male/Female | letter M/F | lower male/female
    narrative: str = "inline"  # inline | headed (label on its own line)

    def label(self, key: str, zh: bool) -> str:
        en, cn = self.labels[key]
        text = cn if zh else en
        return text.upper() if self.upper and not zh else text

    def head(self, col: str, zh: bool) -> str:
        en, cn = self.heads.get(col) or self.heads.get(col.rstrip("+")) or ("", "")
        text = cn if zh else en
        return text.upper() if self.upper and not zh else text


_BASE = {
    "Name": ("Name", "姓名"),
    "Gender": ("Gender", "性别"),
    "Age": ("Age", "年龄"),
    "Department": ("Department", "科室"),
    "Examination Name": ("Test", "检验项目"),
    "Examination Site": ("Site", "检查部位"),
    "Examination Time": ("Test Time", "检验时间"),
    "Sample Collection Time": ("Collected", "采样时间"),
    "Examination Description": ("Findings", "检查所见"),
    "Diagnosis": ("Impression", "诊断意见"),
    "Treatment Recommendations": ("Recommendation", "建议"),
    "Others": ("Remarks", "备注"),
    "pid": ("Patient ID", "病历号"),
    "bed": ("Bed", "床号"),
    "sample_no": ("Sample No.", "标本号"),
    "sample_type": ("Sample Type", "标本类型"),
    "doctor": ("Ordered by", "送检医生"),
    "report_time": ("Reported", "报告时间"),
    "Sex / Age": ("Sex / Age", "性别/年龄"),
}
_HEADS = {
    "Item Name": ("Test", "项目"),
    "Result": ("Result", "结果"),
    "Unit": ("Unit", "单位"),
    "Reference Range": ("Range", "参考范围"),
    "Abnormal Mark": ("Flag", "提示"),
}


def _fam(name: str, labels: dict[str, tuple[str, str]] | None = None, heads=None, **kw) -> Family:
    return Family(name, {**_BASE, **(labels or {})}, heads={**_HEADS, **(heads or {})}, **kw)


FAMILIES: tuple[Family, ...] = (
    _fam("riverside", {"Name": ("Patient Name", "患者姓名")}),
    _fam(
        "lakeview",
        {"Name": ("Patient", "姓名"), "Examination Time": ("Tested", "检测时间")},
        table="none",
        cols=("Item Name", "Result+", "Unit", "Reference Range"),
    ),
    _fam(
        "northfield",
        {"Gender": ("Sex", "性别"), "Examination Name": ("Panel", "检验目的")},
        heads={"Unit": ("Units", "单位"), "Reference Range": ("Ref. Range", "参考值")},
        sep=" :",
        upper=True,
        table="plain",
        cols=("Item Name", "Result", "Unit", "Reference Range", "Abnormal Mark"),
        flag="letter",
        range_style="spaced",
    ),
    _fam(
        "eastport",
        {"Name": ("Pt. Name", "病人姓名"), "Examination Time": ("Test Date", "检验时间")},
        heads={"Item Name": ("Item", "项目名称"), "Reference Range": ("Ref. Range", "参考区间")},
        combine="sex_age",
        table="grid",
        cols=("Item Name", "Result", "Abnormal Mark", "Reference Range", "Unit"),
        flag="star",
        range_style="tilde",
    ),
    _fam(
        "bayside",
        {
            "Name": ("Full Name", "姓名"),
            "Age": ("Age (yrs)", "年龄"),
            "Sample Collection Time": ("Sampled", "采集时间"),
        },
        sep=" =",
        table="none",
        cols=("Item Name", "Result+", "Reference Range"),
        gender="letter",
    ),
    _fam(
        "summit",
        {"Name": ("Patient", "受检者"), "Examination Time": ("Exam Date", "检查日期")},
        heads={"Item Name": ("Parameter", "项目名称"), "Result": ("Value", "结果")},
        sep="box",
        table="grid",
        cols=("Item Name", "Result", "Unit", "Reference Range", "Abnormal Mark"),
        flag="letter",
        date="dmy",
    ),
    _fam(
        "harbor",
        {
            "Gender": ("Sex", "性别"),
            "Examination Name": ("Profile", "检验项目"),
            "Diagnosis": ("Conclusion", "检查结论"),
        },
        heads={"Reference Range": ("Normal Range", "参考值")},
        sep=" -",
        table="plain",
        cols=("Item Name", "Result+", "Unit", "Reference Range"),
        range_style="to",
        date="dot",
    ),
    _fam(
        "oakwood",
        {
            "Examination Time": ("Date of Test", "检验时间"),
            "Examination Description": ("Description", "影像所见"),
        },
        combine="name_paren",
        table="inline",
        cols=("Item Name", "Result", "Unit", "Reference Range", "Abnormal Mark"),
        gender="letter",
        narrative="headed",
    ),
    _fam(
        "westbrook",
        {"Name": ("Patient Name", "患者姓名"), "Department": ("Ward", "科别")},
        heads={"Item Name": ("Investigation", "检验项目"), "Result": ("Observed", "检测结果")},
        upper=True,
        table="rules",
        cols=("Item Name", "Result", "Reference Range", "Unit", "Abnormal Mark"),
        flag="word",
        gender="lower",
        date="text",
        narrative="headed",
    ),
    _fam(
        "kingsbay",
        {"Examination Name": ("Exam", "检查名称"), "Sample Collection Time": ("Drawn", "采样时间")},
        heads={"Unit": ("Units", "单位")},
        sep="box",
        table="none",
        cols=("Item Name", "Result", "Unit", "Abnormal Mark"),
        flag="star",
        range_style="spaced",
        date="dmy",
    ),
    _fam(
        "pinecrest",
        {"Name": ("Patient", "姓名"), "Examination Time": ("Tested", "检测时间")},
        heads={"Item Name": ("Analyte", "项目"), "Reference Range": ("Ref. Interval", "参考区间")},
        combine="sex_age",
        sep=" -",
        table="inline",
        cols=("Item Name", "Result+", "Unit", "Reference Range"),
        flag="letter",
        range_style="tilde",
    ),
    # held out by default: each brings something no in-family form prints
    _fam(  # dot leaders, results after the range
        "greenwood",
        {"Name": ("Pt. Name", "病人姓名"), "Examination Time": ("Exam Time", "检查时间")},
        heads={"Item Name": ("Analyte", "项目"), "Reference Range": ("Reference Range", "参考范围")},
        sep="dots",
        table="rules",
        cols=("Item Name", "Reference Range", "Result", "Abnormal Mark", "Unit"),
        flag="word",
        date="dot",
    ),
    _fam(  # the patient as a sentence
        "hillcrest",
        {"Examination Time": ("Test Date", "检验时间")},
        header="sentence",
        table="inline",
        cols=("Item Name", "Result", "Unit", "Reference Range", "Abnormal Mark"),
        flag="word",
        gender="lower",
        date="text",
    ),
    _fam(  # aligned labels without a mark
        "meadow",
        {
            "Name": ("Full Name", "姓名"),
            "Gender": ("Sex", "性别"),
            "Examination Name": ("Test Name", "检验项目"),
        },
        heads={"Item Name": ("Parameter", "项目"), "Result": ("Observed", "结果"), "Unit": ("Units", "单位")},
        sep="gap",
        table="plain",
        cols=("Item Name", "Result", "Abnormal Mark", "Reference Range", "Unit"),
        flag="star",
        range_style="to",
        gender="letter",
    ),
)
FAMILY_NAMES = tuple(f.name for f in FAMILIES)
DEFAULT_HOLDOUT = ("greenwood", "hillcrest", "meadow")


def family(name: str) -> Family:
    for f in FAMILIES:
        if f.name == name:
            return f
    raise ConfigError(f"report family {name!r} is unknown; use one of {', '.join(FAMILY_NAMES)}")


def check_families(names) -> tuple[str, ...]:
    """Validate a list of family names from params; an unknown one is an error naming it."""
    for n in names:
        family(n)
    return tuple(names)


HEADED_TABLES = ("rules", "plain", "grid")  # tables with a header row: their columns can be told apart
# the traits `recombine` draws one by one (labels, headers, table and columns are drawn apart)
TRAITS = ("sep", "upper", "combine", "header", "flag", "range_style", "date", "gender", "narrative")


def recombine(names: tuple[str, ...], rng: random.Random) -> Family:
    """A form no listed family prints: each trait drawn from a (possibly different) family of `names`, and a
    headed table's columns after the item name in a random order. Pretraining draws these so the model
    learns to read labels, headers and separators rather than a few forms' layouts; only traits some listed
    family already has are recombined (a held-out family's own traits never leak in)."""
    pool = [family(n) for n in names]

    def pick(attr: str):
        return getattr(rng.choice(pool), attr)

    base = rng.choice(pool)
    labels = {key: rng.choice(pool).labels.get(key, base.labels[key]) for key in base.labels}
    heads = {col: rng.choice(pool).heads.get(col, head) for col, head in base.heads.items()}
    table, cols = pick("table"), pick("cols")
    if table in HEADED_TABLES:
        rest = list(cols[1:])
        rng.shuffle(rest)
        cols = (cols[0], *rest)
    traits = {a: pick(a) for a in TRAITS}
    return replace(base, name=f"{base.name}~", labels=labels, heads=heads, table=table, cols=cols, **traits)
