"""Clinically plausible content: lab tests with units and reference ranges, patients, findings.

Every string here is printed verbatim, so the label can copy it. English and Chinese are kept
side by side as (en, zh) pairs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DOC_TYPES = ("cbc", "biochemistry", "urinalysis", "lipid", "thyroid", "imaging", "pathology")
LAB_TYPES = ("cbc", "biochemistry", "urinalysis", "lipid", "thyroid")
MARKS = {"arrow": ("↑", "↓"), "letter": ("H", "L"), "word": ("HIGH", "LOW"), "star": ("*", "*")}
RANGE_SEPS = {"dash": "-", "spaced": " - ", "tilde": "~", "to": " to "}
DATE_FORMATS = {
    "iso": "{y}-{m:02d}-{d:02d}",
    "dmy": "{d:02d}/{m:02d}/{y}",
    "dot": "{d:02d}.{m:02d}.{y}",
    "text": "{d:02d} {mon} {y}",
}
GENDER_WORDS = {"word": ("Male", "Female"), "letter": ("M", "F"), "lower": ("male", "female")}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Test:
    """One lab test. kind: between lo-hi, upper (<hi), lower (>lo), qual (negative/positive), text."""

    abbr: str
    en: str
    zh: str
    unit: str = ""
    lo: str = ""
    hi: str = ""
    dec: int = 1
    kind: str = "between"
    female: tuple[str, str] | None = None  # (lo, hi) for women when it differs
    positives: tuple[tuple[str, str], ...] = ()  # qual: abnormal values (en, zh)
    normal: tuple[str, str] = ("Negative", "阴性")  # qual: normal value / reference
    choices: tuple[tuple[str, str], ...] = ()  # text: printed values (en, zh)
    short_zh: str = ""  # a shorter Chinese name for tiny pages


POS = (("Trace", "±"), ("1+", "1+"), ("2+", "2+"), ("3+", "3+"))

TESTS: dict[str, tuple[Test, ...]] = {
    "cbc": (
        Test("WBC", "White Blood Cell Count", "白细胞计数", "10^9/L", "3.5", "9.5", 1, short_zh="白细胞"),
        Test(
            "NEUT%", "Neutrophil Percentage", "中性粒细胞百分比", "%", "40.0", "75.0", 1, short_zh="中性粒%"
        ),
        Test("LYMPH%", "Lymphocyte Percentage", "淋巴细胞百分比", "%", "20.0", "50.0", 1, short_zh="淋巴%"),
        Test("MONO%", "Monocyte Percentage", "单核细胞百分比", "%", "3.0", "10.0", 1, short_zh="单核%"),
        Test("EO%", "Eosinophil Percentage", "嗜酸性粒细胞百分比", "%", "0.4", "8.0", 1),
        Test("NEUT#", "Neutrophil Count", "中性粒细胞绝对值", "10^9/L", "1.8", "6.3", 2),
        Test("LYMPH#", "Lymphocyte Count", "淋巴细胞绝对值", "10^9/L", "1.1", "3.2", 2),
        Test(
            "RBC",
            "Red Blood Cell Count",
            "红细胞计数",
            "10^12/L",
            "4.3",
            "5.8",
            2,
            female=("3.8", "5.1"),
            short_zh="红细胞",
        ),
        Test("HGB", "Hemoglobin", "血红蛋白", "g/L", "130", "175", 0, female=("115", "150")),
        Test("HCT", "Hematocrit", "红细胞压积", "%", "40.0", "50.0", 1, female=("35.0", "45.0")),
        Test("MCV", "Mean Corpuscular Volume", "平均红细胞体积", "fL", "82.0", "100.0", 1),
        Test("MCH", "Mean Corpuscular Hemoglobin", "平均红细胞血红蛋白量", "pg", "27.0", "34.0", 1),
        Test("MCHC", "Mean Corpuscular Hb Concentration", "平均红细胞血红蛋白浓度", "g/L", "316", "354", 0),
        Test("RDW-CV", "Red Cell Distribution Width", "红细胞分布宽度", "%", "11.0", "16.0", 1),
        Test("PLT", "Platelet Count", "血小板计数", "10^9/L", "125", "350", 0, short_zh="血小板"),
        Test("MPV", "Mean Platelet Volume", "平均血小板体积", "fL", "7.4", "12.5", 1),
    ),
    "biochemistry": (
        Test(
            "ALT",
            "Alanine Aminotransferase",
            "丙氨酸氨基转移酶",
            "U/L",
            "9",
            "50",
            0,
            female=("7", "40"),
            short_zh="谷丙转氨酶",
        ),
        Test(
            "AST",
            "Aspartate Aminotransferase",
            "天门冬氨酸氨基转移酶",
            "U/L",
            "15",
            "40",
            0,
            female=("13", "35"),
            short_zh="谷草转氨酶",
        ),
        Test("ALP", "Alkaline Phosphatase", "碱性磷酸酶", "U/L", "45", "125", 0),
        Test("GGT", "Gamma-Glutamyl Transferase", "γ-谷氨酰转移酶", "U/L", "10", "60", 0, female=("7", "45")),
        Test("TBIL", "Total Bilirubin", "总胆红素", "μmol/L", "3.4", "20.5", 1),
        Test("DBIL", "Direct Bilirubin", "直接胆红素", "μmol/L", "0.0", "6.8", 1),
        Test("TP", "Total Protein", "总蛋白", "g/L", "65.0", "85.0", 1),
        Test("ALB", "Albumin", "白蛋白", "g/L", "40.0", "55.0", 1),
        Test("GLB", "Globulin", "球蛋白", "g/L", "20.0", "40.0", 1),
        Test("UREA", "Urea", "尿素", "mmol/L", "3.1", "8.0", 2),
        Test("CREA", "Creatinine", "肌酐", "μmol/L", "57", "111", 0, female=("41", "81")),
        Test("UA", "Uric Acid", "尿酸", "μmol/L", "208", "428", 0, female=("155", "357")),
        Test("GLU", "Glucose", "葡萄糖", "mmol/L", "3.90", "6.10", 2),
        Test("K", "Potassium", "钾", "mmol/L", "3.50", "5.30", 2),
        Test("Na", "Sodium", "钠", "mmol/L", "137.0", "147.0", 1),
        Test("Cl", "Chloride", "氯", "mmol/L", "99.0", "110.0", 1),
    ),
    "urinalysis": (
        Test(
            "COL",
            "Color",
            "颜色",
            kind="text",
            choices=(("Yellow", "黄色"), ("Pale yellow", "淡黄色"), ("Dark yellow", "深黄色")),
        ),
        Test(
            "CLA", "Clarity", "透明度", kind="text", choices=(("Clear", "清亮"), ("Slightly turbid", "微浑"))
        ),
        Test("SG", "Specific Gravity", "尿比重", "", "1.005", "1.030", 3, short_zh="比重"),
        Test("pH", "pH", "酸碱度", "", "4.5", "8.0", 1),
        Test("PRO", "Protein", "尿蛋白", kind="qual", positives=POS, short_zh="蛋白"),
        Test("GLU", "Glucose", "尿葡萄糖", kind="qual", positives=POS, short_zh="尿糖"),
        Test("KET", "Ketones", "酮体", kind="qual", positives=POS),
        Test("BLD", "Occult Blood", "隐血", kind="qual", positives=POS),
        Test("NIT", "Nitrite", "亚硝酸盐", kind="qual", positives=(("Positive", "阳性"),)),
        Test("LEU", "Leukocyte Esterase", "白细胞酯酶", kind="qual", positives=POS),
        Test("BIL", "Bilirubin", "胆红素", kind="qual", positives=POS[1:]),
        Test("URO", "Urobilinogen", "尿胆原", kind="qual", normal=("Normal", "正常"), positives=POS[1:]),
        Test("RBC", "Red Blood Cells", "红细胞", "/HPF", "0", "3", 0, kind="upper"),
        Test("WBC", "White Blood Cells", "白细胞", "/HPF", "0", "5", 0, kind="upper"),
    ),
    "lipid": (
        Test("TC", "Total Cholesterol", "总胆固醇", "mmol/L", "", "5.20", 2, kind="upper"),
        Test("TG", "Triglycerides", "甘油三酯", "mmol/L", "", "1.70", 2, kind="upper"),
        Test(
            "HDL-C",
            "HDL Cholesterol",
            "高密度脂蛋白胆固醇",
            "mmol/L",
            "1.04",
            "",
            2,
            kind="lower",
            short_zh="高密度脂蛋白",
        ),
        Test(
            "LDL-C",
            "LDL Cholesterol",
            "低密度脂蛋白胆固醇",
            "mmol/L",
            "",
            "3.40",
            2,
            kind="upper",
            short_zh="低密度脂蛋白",
        ),
        Test("ApoA1", "Apolipoprotein A1", "载脂蛋白A1", "g/L", "1.00", "1.60", 2),
        Test("ApoB", "Apolipoprotein B", "载脂蛋白B", "g/L", "0.60", "1.10", 2),
        Test("Lp(a)", "Lipoprotein(a)", "脂蛋白(a)", "mg/L", "", "300", 0, kind="upper"),
    ),
    "thyroid": (
        Test(
            "TSH",
            "Thyroid Stimulating Hormone",
            "促甲状腺激素",
            "mIU/L",
            "0.27",
            "4.20",
            2,
            short_zh="促甲状腺素",
        ),
        Test(
            "FT3",
            "Free Triiodothyronine",
            "游离三碘甲状腺原氨酸",
            "pmol/L",
            "3.10",
            "6.80",
            2,
            short_zh="游离T3",
        ),
        Test("FT4", "Free Thyroxine", "游离甲状腺素", "pmol/L", "12.0", "22.0", 1, short_zh="游离T4"),
        Test(
            "TT3",
            "Total Triiodothyronine",
            "总三碘甲状腺原氨酸",
            "nmol/L",
            "1.30",
            "3.10",
            2,
            short_zh="总T3",
        ),
        Test("TT4", "Total Thyroxine", "总甲状腺素", "nmol/L", "66.0", "181.0", 1, short_zh="总T4"),
        Test(
            "TPOAb",
            "Thyroid Peroxidase Antibody",
            "甲状腺过氧化物酶抗体",
            "IU/mL",
            "",
            "34.0",
            1,
            kind="upper",
            short_zh="TPO抗体",
        ),
        Test(
            "TgAb",
            "Thyroglobulin Antibody",
            "甲状腺球蛋白抗体",
            "IU/mL",
            "",
            "115",
            0,
            kind="upper",
            short_zh="Tg抗体",
        ),
    ),
}

EXAM_NAMES = {
    "cbc": ("Complete Blood Count", "血常规"),
    "biochemistry": ("Liver and Kidney Function", "肝肾功能"),
    "urinalysis": ("Urinalysis", "尿常规"),
    "lipid": ("Lipid Panel", "血脂四项"),
    "thyroid": ("Thyroid Function", "甲状腺功能"),
}
EXAM_SHORT = {
    "cbc": ("CBC", "血常规"),
    "biochemistry": ("Liver/Kidney", "肝肾功能"),
    "urinalysis": ("Urinalysis", "尿常规"),
    "lipid": ("Lipids", "血脂"),
    "thyroid": ("Thyroid", "甲功"),
}
SPECIMENS = {"cbc": ("Whole blood", "全血"), "urinalysis": ("Urine", "尿液")}

EN_FIRST_M = (
    "James",
    "Wei",
    "David",
    "Ahmed",
    "Carlos",
    "Ivan",
    "Tom",
    "Ravi",
    "Lucas",
    "Ken",
    "Omar",
    "Paul",
)
EN_FIRST_F = (
    "Mary",
    "Li",
    "Anna",
    "Fatima",
    "Sofia",
    "Emma",
    "Grace",
    "Priya",
    "Yuki",
    "Nora",
    "Lena",
    "Rosa",
)
EN_LAST = (
    "Smith",
    "Chen",
    "Garcia",
    "Khan",
    "Novak",
    "Brown",
    "Wang",
    "Patel",
    "Tanaka",
    "Silva",
    "Moore",
    "Lee",
)
ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
ZH_GIVEN_M = (
    "伟",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "杰",
    "涛",
    "明",
    "超",
    "建国",
    "志强",
    "海峰",
    "文博",
    "子轩",
)
ZH_GIVEN_F = (
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "艳",
    "娟",
    "霞",
    "婷",
    "雪",
    "秀英",
    "桂兰",
    "晓燕",
    "欣怡",
    "雨涵",
)
EN_HOSPITAL_PLACES = ("Riverside", "Lakeview", "Northfield", "Greenwood", "Eastport", "Hillcrest", "Bayside")
EN_HOSPITAL_KINDS = ("General Hospital", "Medical Center", "University Hospital", "Community Hospital")
ZH_HOSPITAL_PLACES = ("江城", "临海", "北岭", "南湖", "东港", "青山", "西平")
ZH_HOSPITAL_KINDS = ("市第一人民医院", "市中心医院", "人民医院", "中医院", "医科大学附属医院")
DEPARTMENTS = (
    ("Internal Medicine", "内科"),
    ("Hematology", "血液科"),
    ("Endocrinology", "内分泌科"),
    ("Nephrology", "肾内科"),
    ("Gastroenterology", "消化内科"),
    ("Cardiology", "心内科"),
    ("General Surgery", "普外科"),
    ("Outpatient", "门诊"),
    ("Health Check", "体检中心"),
    ("Urology", "泌尿外科"),
)
REMARKS = (
    ("Sample slightly hemolyzed.", "标本轻度溶血"),
    ("Fasting sample.", "空腹采血"),
    ("Result verified by repeat test.", "结果已复查"),
    ("Please correlate clinically.", "请结合临床"),
)


def pick(rng: random.Random, pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "zh" else pair[0]


def person(rng: random.Random, language: str, gender_style: str = "word") -> tuple[str, str, str]:
    """(name, gender, sex code) as printed."""
    female = rng.random() < 0.5
    if language == "zh":
        given = rng.choice(ZH_GIVEN_F if female else ZH_GIVEN_M)
        return rng.choice(ZH_SURNAMES) + given, "女" if female else "男", "F" if female else "M"
    first = rng.choice(EN_FIRST_F if female else EN_FIRST_M)
    return f"{first} {rng.choice(EN_LAST)}", GENDER_WORDS[gender_style][female], "F" if female else "M"


def timestamp(rng: random.Random, fmt: str, day: int, minute: int) -> str:
    year, month = 2023 + day // 336, 1 + (day // 28) % 12
    d, hh, mm, ss = 1 + day % 28, minute // 60, minute % 60, (day * 7 + minute) % 60
    return fmt.format(y=year, m=month, d=d, hh=hh, mm=mm, ss=ss, mon=MONTHS[month - 1])


TIME_FORMATS = (
    "{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}",
    "{y}/{m:02d}/{d:02d} {hh:02d}:{mm:02d}:{ss:02d}",
    "{y}-{m:02d}-{d:02d}",
)


def _fmt(v: float, dec: int) -> str:
    return f"{v:.{dec}f}"


def format_range(rng: random.Random, t: Test, lo: str, hi: str, language: str, style: str = "") -> str:
    """A reference range as printed; `style` (a family's, RANGE_SEPS) fixes the separator of lo-hi."""
    if t.kind == "qual":
        return pick(rng, t.normal, language)
    if t.kind == "upper":
        return f"<{hi}" if not lo or rng.random() < 0.5 else f"{lo}-{hi}"
    if t.kind == "lower":
        return f">{lo}"
    if style:
        return f"{lo}{RANGE_SEPS[style]}{hi}"
    sep = rng.choice(("-", "-", "--", "~")) if language == "zh" else rng.choice(("-", "-", " - "))
    return f"{lo}{sep}{hi}"


def numeric_value(rng: random.Random, t: Test, lo: str, hi: str, state: str) -> str:
    """A value printed with the test's decimals, strictly inside (normal) or outside the range."""
    lo_f = float(lo) if lo else None
    hi_f = float(hi) if hi else None
    for _ in range(20):
        if state == "normal":
            if lo_f is not None and hi_f is not None:
                v = lo_f + (hi_f - lo_f) * rng.betavariate(2.2, 2.2)
            elif hi_f is not None:
                v = hi_f * rng.uniform(0.25, 0.95)
            else:
                assert lo_f is not None  # a test has at least one bound
                v = lo_f * rng.uniform(1.05, 1.8)
        elif state == "high":
            assert hi_f is not None  # only a test with an upper bound can be high
            span = (hi_f - lo_f) if lo_f is not None else hi_f
            v = hi_f + span * rng.uniform(0.04, 0.8)
        else:  # low by up to most of the normal span, as lab outliers are, never 0 or below
            assert lo_f is not None  # only a test with a lower bound can be low
            v = (
                lo_f - (hi_f - lo_f) * rng.uniform(0.04, 0.8)
                if hi_f is not None
                else lo_f * rng.uniform(0.5, 0.95)
            )
            if v <= 0:
                v = lo_f * rng.uniform(0.45, 0.95)
        s = _fmt(v, t.dec)
        x = float(s)
        inside = (lo_f is None or x > lo_f) and (hi_f is None or x < hi_f)
        # an abnormal value lies strictly outside: one printed equal to a bound is not flagged
        outside = (state == "high" and hi_f is not None and x > hi_f) or (
            state == "low" and lo_f is not None and x < lo_f
        )
        if x > 0 and (inside if state == "normal" else outside):
            return s
    raise AssertionError(f"could not sample {state} value for {t.abbr}")  # pragma: no cover


def item_name(t: Test, language: str, style: str) -> str:
    """style: abbr | full | both | short (Chinese: full name, name(abbr) or short name)."""
    if language == "zh":
        zh = (t.short_zh or t.zh) if style in ("short", "abbr") else t.zh
        return f"{zh}({t.abbr})" if style == "both" else zh
    return {"abbr": t.abbr, "full": t.en, "both": f"{t.en} ({t.abbr})", "short": t.abbr}[style]


def lab_row(
    rng: random.Random,
    t: Test,
    sex: str,
    language: str,
    mark_style: str,
    item_style: str,
    abnormal_p: float,
    range_style: str = "",
) -> dict[str, str]:
    """One indicator row: the printed cells keyed by schema row keys (blank cells left out)."""
    row = {"Item Name": item_name(t, language, item_style)}
    high, low = MARKS[mark_style]
    if t.kind == "text":
        row["Result"] = pick(rng, rng.choice(t.choices), language)
        return row
    if t.kind == "qual":
        positive = rng.random() < abnormal_p
        row["Result"] = (
            pick(rng, rng.choice(t.positives), language) if positive else pick(rng, t.normal, language)
        )
        row["Reference Range"] = format_range(rng, t, "", "", language, range_style)
        if positive:
            row["Abnormal Mark"] = high
        return row
    lo, hi = t.female if (t.female and sex == "F") else (t.lo, t.hi)
    states = ["normal"]
    if rng.random() < abnormal_p:
        states = (
            ["high"]
            if t.kind == "upper" or not lo or float(lo) == 0
            else ["low"]
            if t.kind == "lower"
            else [rng.choice(("high", "low"))]
        )
    state = states[0]
    row["Result"] = numeric_value(rng, t, lo, hi, state)
    if t.unit:
        row["Unit"] = t.unit
    row["Reference Range"] = format_range(rng, t, lo, hi, language, range_style)
    if state != "normal":
        row["Abnormal Mark"] = high if state == "high" else low
    return row
