"""The OCR baseline reads report families it was never shown: labels from the schema, any separator,
combined fields, free text, tables with any column order and headers, with or without boxes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from medvie.evaluation.ocr_baseline import RuleReader, SchemaNames, answer
from medvie.evaluation.ocr_layout import rows, shape, tokens
from medvie.queries.schema import load_schema

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "medical.json"


@pytest.fixture(scope="module")
def reader() -> RuleReader:
    return RuleReader(SchemaNames(SCHEMA))


def lines(*texts: str) -> list[dict]:
    """OCR lines without boxes, one per text, in reading order."""
    return [{"text": t} for t in texts]


def boxed(*row_cells: list[tuple[str, int]], char_w: int = 10, line_h: int = 30) -> list[dict]:
    """OCR lines with boxes: each row is a list of (text, x0) cells, rows one line height apart."""
    out = []
    for i, cells in enumerate(row_cells):
        y = 10 + i * line_h
        for text, x in cells:
            out.append({"text": text, "box": [x, y, x + char_w * len(text), y + line_h - 8]})
    return out


def rotate(items: list[dict], degrees: float) -> list[dict]:
    """The lines of a page photographed at an angle: each box becomes the box around its turned corners."""
    a = math.radians(degrees)
    out = []
    for it in items:
        x0, y0, x1, y1 = it["box"]
        pts = [
            (x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a))
            for x in (x0, x1)
            for y in (y0, y1)
        ]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        out.append({"text": it["text"], "box": [min(xs) + 100, min(ys) + 100, max(xs) + 100, max(ys) + 100]})
    return out


# ----------------------------------------------------------------------------- key-value pairs


def test_dot_leaders_and_other_separators(reader):
    got = reader.read(
        lines("Pt. Name ........ Li Wei", "Age ............... 45", "Sex . . . . . . F", "Dept = Cardiology")
    )
    assert got == {"Name": "Li Wei", "Age": "45", "Gender": "F", "Department": "Cardiology"}
    got = reader.read(lines("PATIENT NAME : Ana Ruiz", "Exam Date - 06.04.2024", "Ward | East 3"))
    assert got == {"Name": "Ana Ruiz", "Examination Time": "06.04.2024", "Department": "East 3"}


def test_several_pairs_on_one_line_cut_before_the_next_label(reader):
    # single spaces, as a line-level OCR joins words; MRN is no schema key but still ends the name
    got = reader.read(lines("Patient Name: Li Wei MRN: 0042 Sex: M Age: 61 Collected: 2024-04-06 08:10"))
    assert got == {
        "Name": "Li Wei",
        "Gender": "M",
        "Age": "61",
        "Sample Collection Time": "2024-04-06 08:10",
    }
    # an unknown "Label:" in a cell of its own ends the value too
    got = reader.read(
        boxed(
            [
                ("Name:", 10),
                ("Li Wei", 80),
                ("Referred by:", 200),
                ("Dr Lee", 330),
                ("Age:", 420),
                ("61", 470),
            ]
        )
    )
    assert got == {"Name": "Li Wei", "Age": "61"}


def test_labels_without_a_mark_need_a_gap_and_the_value_may_be_on_the_next_line(reader):
    got = reader.read(boxed([("Full Name", 10), ("Li Wei", 200)], [("Sex", 10), ("F", 200)]))
    assert got == {"Name": "Li Wei", "Gender": "F"}
    # a label alone on its line takes the next line; a long text goes on while lines start where it did
    got = reader.read(
        boxed(
            [("Impression:", 10)],
            [("Iron deficiency", 40)],
            [("anaemia, mild.", 40)],
            [("VERIFIED", 400)],  # a stamp beside the text is not part of it
        )
    )
    assert got == {"Diagnosis": "Iron deficiency anaemia, mild."}
    assert reader.read(lines("Department:", "Clinic")) == {"Department": "Clinic"}


def test_chinese_labels_and_full_width_colons(reader):
    got = reader.read(lines("姓名：王芳 性别：女 年龄：52岁", "检验项目：血常规", "科别：内科"))
    assert got == {
        "Name": "王芳",
        "Gender": "女",
        "Age": "52岁",
        "Examination Name": "血常规",
        "Department": "内科",
    }


def test_combined_labels_split_their_value_on_the_same_separators(reader):
    assert reader.read(lines("Sex / Age: F / 45")) == {"Gender": "F", "Age": "45"}
    assert reader.read(lines("性别/年龄：女/45岁")) == {"Gender": "女", "Age": "45岁"}
    got = reader.read(lines("Name (Sex, Age): Li Wei (F, 45)"))
    assert got == {"Name": "Li Wei", "Gender": "F", "Age": "45"}
    # sex and age in parentheses after the name, the label naming only the name
    assert reader.read(lines("Name: Li Wei (F, 45)")) == {"Name": "Li Wei", "Gender": "F", "Age": "45"}
    assert reader.read(lines("Name: Li Wei (Jr.)")) == {"Name": "Li Wei (Jr.)"}


def test_free_text_patient_line(reader):
    got = reader.read(lines("Li Wei, 45 y, female, tested 2024-04-06"))
    assert got == {"Name": "Li Wei", "Age": "45", "Gender": "female", "Examination Time": "2024-04-06"}
    got = reader.read(lines("王芳，女，52岁，采样时间 2024-04-06"))
    assert got == {"Name": "王芳", "Gender": "女", "Age": "52岁", "Sample Collection Time": "2024-04-06"}
    # a sentence without a patient in it is not read as one
    assert reader.read(lines("Reviewed and signed, see attached note, page 2")) == {}


def test_schema_aliases_are_the_vocabulary_and_users_extend_them():
    schema = load_schema(SCHEMA)
    assert RuleReader(SchemaNames(schema)).read(lines("Client: Li Wei")) == {}
    extended = SchemaNames(schema.with_aliases({"Name": ["Client"], "Result": ["Reading"]}, "en"))
    assert RuleReader(extended).read(lines("Client: Li Wei")) == {"Name": "Li Wei"}
    got = RuleReader(extended).read(lines("Item  Reading  Units", "Glucose  5.4  mmol/L"))
    assert got == {"Indicators": [{"Item Name": "Glucose", "Result": "5.4", "Unit": "mmol/L"}]}


def test_fuzzy_labels_only_where_exact_matching_fails(reader):
    assert reader.read(lines("Patlent Name: Li Wei")) == {"Name": "Li Wei"}  # an OCR slip
    assert reader.read(lines("Nme: Li Wei")) == {}  # too short to guess
    assert reader.read(lines("Patient ID: 0042")) == {}  # another label, not the patient's name


# ----------------------------------------------------------------------------- tables


def test_table_with_reordered_columns_other_headers_and_word_flags(reader):
    page = boxed(
        [("Analyte", 10), ("Flag", 150), ("Value", 220), ("Normal Range", 320), ("Units", 480)],
        [("Hemoglobin", 10), ("LOW", 150), ("9.8", 220), ("12.0 - 16.0", 320), ("g/dL", 480)],
        [("WBC", 10), ("7.1", 220), ("4.0 to 10.0", 320), ("10^9/L", 480)],
        [("Platelets", 10), ("HIGH", 150), ("512", 220), ("150~450", 320), ("10^9/L", 480)],
        [("Remarks:", 10), ("fasting sample", 110)],
    )
    got = reader.read(page)
    assert got["Indicators"] == [
        {
            "Item Name": "Hemoglobin",
            "Abnormal Mark": "LOW",
            "Result": "9.8",
            "Reference Range": "12.0 - 16.0",
            "Unit": "g/dL",
        },
        {"Item Name": "WBC", "Result": "7.1", "Reference Range": "4.0 to 10.0", "Unit": "10^9/L"},
        {
            "Item Name": "Platelets",
            "Abnormal Mark": "HIGH",
            "Result": "512",
            "Reference Range": "150~450",
            "Unit": "10^9/L",
        },
    ]
    assert got["Others"] == "fasting sample"  # a key-value line ends the table
    assert reader.read(rotate(page, 4)) == got  # a page photographed at an angle


def test_side_by_side_tables_under_one_header_row(reader):
    page = boxed(
        [("Item", 10), ("Result", 120), ("Item", 300), ("Result", 410)],
        [("ALT", 10), ("25", 120), ("AST", 300), ("31", 410)],
        [("TP", 10), ("70.2", 120)],
    )
    got = reader.read(page)["Indicators"]
    assert got == [
        {"Item Name": "ALT", "Result": "25"},
        {"Item Name": "TP", "Result": "70.2"},
        {"Item Name": "AST", "Result": "31"},
    ]


def test_table_lines_without_boxes_by_cell_order_or_value_shapes(reader):
    got = reader.read(lines("Test | Result | Units | Ref. Range | Flag", "WBC | 11.2 | 10^9/L | 3.5-9.5 | H"))
    assert got["Indicators"] == [
        {
            "Item Name": "WBC",
            "Result": "11.2",
            "Unit": "10^9/L",
            "Reference Range": "3.5-9.5",
            "Abnormal Mark": "H",
        }
    ]
    # single spaces: a line-level OCR; the header fixes that the range comes before the result
    got = reader.read(
        lines("Investigation Ref. Interval Observed Units", "Serum Glucose 3.9 - 6.1 7.4 mmol/L")
    )
    assert got["Indicators"] == [
        {"Item Name": "Serum Glucose", "Reference Range": "3.9 - 6.1", "Result": "7.4", "Unit": "mmol/L"}
    ]
    got = reader.read(lines("项目 结果 单位 参考区间 提示", "白细胞 11.2 10^9/L 3.5-9.5 ↑"))
    assert got["Indicators"] == [
        {
            "Item Name": "白细胞",
            "Result": "11.2",
            "Unit": "10^9/L",
            "Reference Range": "3.5-9.5",
            "Abnormal Mark": "↑",
        }
    ]


def test_rows_without_a_header_are_read_by_value_shapes(reader):
    got = reader.read(
        lines(
            "Name: Li Wei",
            "1 WBC 11.2 H 10^9/L 3.5~9.5",
            "CRP 12.5* mg/L (<5.0)",
            "CA 19-9 20.1 U/mL <37",
            "HBsAg Negative Negative",
            "25-OH Vitamin D 18 ↓ ng/mL 30 - 100",
        )
    )
    assert got["Name"] == "Li Wei"
    assert got["Indicators"] == [
        {
            "Item Name": "WBC",
            "Result": "11.2",
            "Abnormal Mark": "H",
            "Unit": "10^9/L",
            "Reference Range": "3.5~9.5",
        },
        {
            "Item Name": "CRP",
            "Result": "12.5",
            "Abnormal Mark": "*",
            "Unit": "mg/L",
            "Reference Range": "<5.0",
        },
        {"Item Name": "CA 19-9", "Result": "20.1", "Unit": "U/mL", "Reference Range": "<37"},
        {"Item Name": "HBsAg", "Result": "Negative", "Reference Range": "Negative"},
        {
            "Item Name": "25-OH Vitamin D",
            "Result": "18",
            "Abnormal Mark": "↓",
            "Unit": "ng/mL",
            "Reference Range": "30 - 100",
        },
    ]


def test_lines_that_are_no_results_rows_stay_out_of_the_table(reader):
    got = reader.read(
        lines(
            "Tested 2024-04-06 10:30",
            "Age 45",  # a label and its value, not an item
            "This report is valid only for the sample tested.",
            "Page 1 of 2",
        )
    )
    assert "Indicators" not in got and got["Examination Time"] == "2024-04-06 10:30"


def test_value_shapes():
    assert [shape(t) for t in ["↑", "HIGH", "*", "L", "(H)"]] == ["flag"] * 5
    assert [
        shape(t) for t in ["3.5-9.5", "3.5 - 9.5", "3.5~9.5", "3.5 to 9.5", "(3.5-9.5)", "<5.0", "≥ 60"]
    ] == ["range"] * 7
    assert [shape(t) for t in ["10^9/L", "mmol/L", "%", "fL", "×10^12/L"]] == ["unit"] * 5
    assert [shape(t) for t in ["11.2", "1,200", "Negative", "2+", "阴性", "2024-04-06", "WBC"]] == [
        "number",
        "number",
        "qual",
        "qual",
        "qual",
        "date",
        "word",
    ]
    assert tokens("WBC 11.2↑ 3.5 - 9.5 (4.0 to 6.0)") == ["WBC", "11.2", "↑", "3.5 - 9.5", "(4.0 to 6.0)"]


def test_rows_group_boxes_into_visual_rows_despite_skew():
    page = rotate(
        boxed([("Name:", 10), ("Li Wei", 200), ("Sex:", 400), ("F", 460)], [("Age:", 10), ("45", 200)]), 5
    )
    assert [r.text for r in rows(page)] == ["Name:\tLi Wei\tSex:\tF", "Age:\t45"]


# ----------------------------------------------------------------------------- answers and synthetic pages


def test_answer_restricts_to_asked_keys_in_the_asked_language():
    names = SchemaNames(SCHEMA)
    page = lines("姓名：王芳 年龄：52岁", "项目 结果 单位", "白细胞 11.2 10^9/L")
    out = answer(page, ["姓名", "性别", "指标"], "项目名称 结果", names)
    assert out == {"姓名": "王芳", "性别": "", "指标": [{"项目名称": "白细胞", "结果": "11.2"}]}


def test_synthetic_pages_text_layer_scores_high():
    from medvie.data import synth
    from medvie.rewards import metrics

    names = SchemaNames(SCHEMA)
    preds, truths = [], []
    for seed in range(6):
        for lang in ("en", "zh"):
            rep = synth.render_report(seed, "tiny", lang)
            preds.append(
                json.dumps(answer(rep.meta["text_layer"], list(rep.label), "", names), ensure_ascii=False)
            )
            truths.append(rep.label)
    assert metrics.evaluate_predictions(preds, truths)["f1"] >= 0.9
