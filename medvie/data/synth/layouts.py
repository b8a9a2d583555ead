"""Page layouts. A layout draws a Content onto a Page; `level` > 0 asks for a tighter fit.

Full pages: classic (rules), boxed (grid table), split (two-panel table), plain (zebra rows).
Tiny pages: tiny_table (column headers), tiny_list (rows only).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from medvie.data.synth.compose import Content
from medvie.data.synth.page import Overflow, Page

KEY_LABELS = {
    "Name": (("Name", "Patient Name", "Patient"), ("姓名", "患者姓名")),
    "Gender": (("Gender", "Sex"), ("性别",)),
    "Age": (("Age",), ("年龄",)),
    "Department": (("Department", "Dept"), ("科室", "科别", "申请科室")),
    "Sample Collection Time": (("Collected", "Collection Time"), ("采样时间", "采集时间")),
    "Others": (("Remarks", "Note"), ("备注",)),
    "Treatment Recommendations": (("Recommendation", "Advice"), ("建议", "处理建议")),
    "pid": (("Patient ID", "MRN"), ("病历号", "门诊号")),
    "bed": (("Bed",), ("床号",)),
    "sample_no": (("Sample No.",), ("标本号",)),
    "sample_type": (("Sample Type",), ("标本类型",)),
    "doctor": (("Ordered by", "Physician"), ("送检医生", "申请医生")),
    "report_time": (("Reported", "Report Time"), ("报告时间",)),
}
LAB_KEY_LABELS = {
    "Examination Time": (("Test Time", "Tested"), ("检验时间", "检测时间")),
    "Examination Name": (("Test", "Panel"), ("检验项目", "检验目的")),
}
NARRATIVE_KEY_LABELS = {
    "imaging": {
        "Examination Time": (("Exam Date", "Exam Time"), ("检查时间", "检查日期")),
        "Examination Name": (("Examination", "Exam"), ("检查项目", "检查名称")),
        "Examination Site": (("Site", "Body Part"), ("检查部位",)),
        "Examination Description": (("Findings",), ("检查所见", "影像所见")),
        "Diagnosis": (("Impression", "Conclusion"), ("诊断意见", "检查结论")),
    },
    "pathology": {
        "Examination Time": (("Received", "Exam Date"), ("送检日期", "检查时间")),
        "Examination Name": (("Procedure",), ("检查项目", "标本名称")),
        "Examination Site": (("Specimen", "Site"), ("送检标本", "取材部位")),
        "Examination Description": (("Microscopic Findings", "Description"), ("镜下所见", "病理所见")),
        "Diagnosis": (("Pathological Diagnosis", "Diagnosis"), ("病理诊断",)),
    },
}
TITLES = {
    "lab": ("Clinical Laboratory Report", "检验报告单"),
    "imaging": ("Diagnostic Imaging Report", "医学影像报告单"),
    "pathology": ("Pathology Report", "病理诊断报告书"),
}
COLUMN_HEADS = {
    "No": (("No.",), ("序号",)),
    "Item Name": (("Item", "Test"), ("项目名称", "检验项目")),
    "Result": (("Result",), ("结果",)),
    "Result+": (("Result",), ("结果",)),
    "Abnormal Mark": (("Flag",), ("提示", "标志")),
    "Unit": (("Unit",), ("单位",)),
    "Reference Range": (("Reference Range", "Ref. Range"), ("参考范围", "参考区间")),
}
TINY_COLUMN_HEADS = {
    "Item Name": (("Test", "Item"), ("项目",)),
    "Result": (("Result",), ("结果",)),
    "Result+": (("Result",), ("结果",)),
    "Abnormal Mark": (("Flag",), ("提示",)),
    "Unit": (("Unit",), ("单位",)),
    "Reference Range": (("Range", "Ref."), ("参考值", "参考范围")),
}
STAFF = (
    (("Tested by", "Technician"), ("检验者", "检验医师")),
    (("Reviewed by", "Verified by"), ("审核者", "报告医师")),
)
DISCLAIMER = (
    ("This report is valid only for the sample tested.", "本报告仅对所检标本负责。"),
    ("For clinical reference only.", "本报告仅供临床参考。"),
)


@dataclass(frozen=True)
class Layout:
    name: str
    header: str  # grid3 | box2 | lines2 | tiny
    table: str  # rules | grid | split | zebra | none
    cols: tuple[str, ...]
    narrative: str  # headed | inline | boxed
    title_align: str = "center"


LAYOUTS = {
    "full": (
        Layout(
            "classic",
            "grid3",
            "rules",
            ("No", "Item Name", "Result", "Abnormal Mark", "Unit", "Reference Range"),
            "headed",
        ),
        Layout("boxed", "box2", "grid", ("Item Name", "Result+", "Unit", "Reference Range"), "boxed"),
        Layout(
            "split", "grid3", "split", ("Item Name", "Result+", "Unit", "Reference Range"), "inline", "left"
        ),
        Layout(
            "plain",
            "lines2",
            "zebra",
            ("Item Name", "Result", "Abnormal Mark", "Reference Range", "Unit"),
            "inline",
            "left",
        ),
    ),
    "tiny": (
        Layout(
            "tiny_table",
            "tiny",
            "rules",
            ("Item Name", "Result", "Abnormal Mark", "Unit", "Reference Range"),
            "inline",
        ),
        Layout("tiny_list", "tiny", "none", ("Item Name", "Result+", "Unit", "Reference Range"), "inline"),
    ),
}


class Drawer:
    """Draws one Content with one Layout; rng picks the wording of keys and small style choices."""

    def __init__(self, page: Page, c: Content, layout: Layout, rng: random.Random, level: int):
        self.p, self.c, self.L, self.rng, self.level = page, c, layout, rng, level
        self.zh = c.language == "zh"
        self.tiny = layout.header == "tiny"
        self.margin = round(page.width * (0.03 if self.tiny else rng.uniform(0.05, 0.07)))
        self.x0, self.x1 = self.margin, page.width - self.margin
        self.f = page.font()
        self.fb = page.font(bold=True)
        self.key_font = self.fb if rng.random() < 0.4 else self.f
        self.lh = page.line_height(self.f, 1.3 if self.tiny else rng.uniform(1.4, 1.6))
        if self.zh and rng.random() < 0.6:
            page.colon = "："

    def word(self, options: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
        return self.rng.choice(options[1] if self.zh else options[0])

    def key_label(self, key: str) -> str:
        kind = "lab" if self.c.lab else self.c.doc_type
        table = LAB_KEY_LABELS if kind == "lab" else NARRATIVE_KEY_LABELS[kind]
        return self.word(table.get(key) or KEY_LABELS[key])

    @staticmethod
    def field(key: str) -> str | None:
        return None if key.islower() else key  # extras (pid, bed, ...) are not schema keys

    # -- blocks ---------------------------------------------------------------------------
    def draw(self) -> None:
        y = self.margin * (0.6 if self.tiny else 1.0)
        y = self.title(y)
        y = self.header(y)
        if self.c.lab:
            y = self.table(y + self.lh * 0.3)
        else:
            y = self.narrative(y + self.lh * 0.3)
        if not self.tiny:
            self.footer(y + self.lh * 0.5)

    def title(self, y: float) -> float:
        p, c = self.p, self.c
        if self.tiny:
            if c.title_exam:
                f = p.font(1.1, bold=True)
                p.text(self.x0, y, c.title_exam, f, field="Examination Name")
                return y + p.line_height(f, 1.3)
            return y
        big, mid = p.font(1.55, bold=True), p.font(1.25, bold=True)
        center = self.L.title_align == "center"
        x = p.width / 2 if center else self.x0
        align = "center" if center else "left"
        p.text(x, y, c.hospital, big, align=align)
        y += p.line_height(big, 1.3)
        kind = "lab" if c.lab else c.doc_type
        p.text(x, y, TITLES[kind][self.zh], mid, align=align)
        y = p.bottom + self.lh * 0.2
        p.rule(self.x0, y, self.x1, width=2)
        return y + self.lh * 0.3

    def header(self, y: float) -> float:
        items = [(self.key_label(k), v, self.field(k)) for k, v in self.c.header]
        cols = {"grid3": 3, "box2": 2, "lines2": 2, "tiny": 2}[self.L.header]
        top = y
        if self.L.header == "box2":
            y += self.lh * 0.3
        y = self.pack(items, y, cols)
        if self.L.header == "box2":
            self.p.draw.rectangle([self.x0 - 6, top - 4, self.x1 + 6, y], outline=self.p.ink, width=1)
            y += self.lh * 0.3
        elif not self.tiny:
            self.p.rule(self.x0, y, self.x1)
            y += self.lh * 0.3
        return y

    def pack(self, items: list[tuple[str, str, str | None]], y: float, cols: int) -> float:
        """Key: value items in a grid; a long item takes as many cells as it needs."""
        p, gap = self.p, self.f.size * 0.3
        cell = (self.x1 - self.x0) / cols
        col = 0
        for key, value, field in items:
            need = self.key_font.getlength(key + p.colon) + gap + self.f.getlength(value)
            if need > self.x1 - self.x0:
                raise Overflow(value)
            span = min(cols, int((need + self.f.size) // cell) + 1)
            if col + span > cols:
                col, y = 0, y + self.lh
            p.key_value(self.x0 + col * cell, y, key, value, field, self.key_font, self.f)
            col += span
            if col >= cols:
                col, y = 0, y + self.lh
        return y + (self.lh if col else 0)

    def table(self, y: float) -> float:
        rows = self.c.rows if self.level == 0 else self.c.short_rows
        cols = self.L.cols
        if self.tiny and (self.level >= 1 or not self.c.tiny_units):
            cols = tuple(k for k in cols if k != "Unit")
        if self.tiny and self.level >= 6:
            rows = rows[: max(1, len(rows) - (self.level - 5))]
        if self.L.table == "split" and len(rows) >= 8:
            half = (len(rows) + 1) // 2
            mid = (self.x0 + self.x1) / 2
            y_left = self.grid(rows[:half], cols, self.x0, mid - self.f.size * 0.5, y, 0)
            y_right = self.grid(rows[half:], cols, mid + self.f.size * 0.5, self.x1, y, half)
            return max(y_left, y_right)
        return self.grid(rows, cols, self.x0, self.x1, y, 0)

    def cell_text(self, key: str, row: dict[str, str], i: int) -> str:
        if key == "No":
            return str(i + 1)
        if key == "Result+":
            return row["Result"] + (" " + row["Abnormal Mark"] if "Abnormal Mark" in row else "")
        return row.get(key, "")

    def grid(
        self, rows: list[dict[str, str]], cols: tuple[str, ...], x0: float, x1: float, y: float, base: int
    ) -> float:
        p, f, style = self.p, self.f, self.L.table
        heads = [self.word((TINY_COLUMN_HEADS if self.tiny else COLUMN_HEADS)[k]) for k in cols]
        hf = self.fb
        widths = []
        for k, h in zip(cols, heads):
            w = max([f.getlength(self.cell_text(k, r, base + i)) for i, r in enumerate(rows)] + [0])
            widths.append(max(w, hf.getlength(h) if style != "none" else 0))
        free = (x1 - x0) - sum(widths)
        if free < f.size * (0.5 if self.tiny else 0.7) * (len(cols) - 1):
            raise Overflow("table too wide")
        pad = free / len(cols)
        xs, x = [], x0
        for w in widths:
            xs.append(x)
            x += w + pad
        row_h = self.lh if style != "grid" else self.lh * 1.1
        text_dy = (row_h - f.size * 1.15) / 2
        if style != "none":
            if style in ("rules", "zebra"):
                p.rule(x0, y, x1, width=2)
            for k, h, x in zip(cols, heads, xs):
                p.text(x, y + text_dy, h, hf)
            y += row_h
            p.rule(x0, y, x1)
        top = y - row_h
        highlight = self.rng.random() < 0.4
        for i, row in enumerate(rows):
            if style == "zebra" and i % 2 == 0:
                p.draw.rectangle([x0, y + 1, x1, y + row_h - 1], fill=(236, 236, 236, 255))
            ty = y + text_dy
            for k, x in zip(cols, xs):
                idx = f"Indicators.{base + i}."
                if k == "Result+":
                    bold = highlight and "Abnormal Mark" in row
                    end = p.text(x, ty, row["Result"], self.fb if bold else f, field=idx + "Result")
                    if "Abnormal Mark" in row:
                        p.text(end + f.size * 0.3, ty, row["Abnormal Mark"], f, field=idx + "Abnormal Mark")
                elif k == "No":
                    p.text(x, ty, str(base + i + 1), f)
                elif k in row:
                    bold = highlight and k == "Result" and "Abnormal Mark" in row
                    p.text(x, ty, row[k], self.fb if bold else f, field=idx + k)
            y += row_h
            if style == "grid":
                p.rule(x0, y, x1)
        if style in ("rules", "zebra"):
            p.rule(x0, y, x1, width=2)
        if style == "grid":
            p.draw.rectangle([x0, top, x1, y], outline=p.ink)
            for x in xs[1:]:
                p.draw.line([(x - pad / 2, top), (x - pad / 2, y)], fill=p.ink)
        return y

    def narrative(self, y: float) -> float:
        p, style = self.p, self.L.narrative
        sections = list(self.c.sections)
        if self.tiny and self.level >= 1:
            sections = [s for s in sections if s[0] != "Treatment Recommendations"]
        for key, text in sections:
            label = self.key_label(key) + p.colon
            top = y
            if style == "headed" or (style == "boxed"):
                y += self.lh * (0.2 if style == "boxed" else 0)
                p.text(self.x0, y, label, self.fb)
                y = p.paragraph(
                    self.x0 + self.f.size * 2,
                    y + self.lh,
                    text,
                    self.f,
                    key,
                    right=self.x1,
                    spacing=self.lh / self.f.size,
                )
                if style == "boxed":
                    p.draw.rectangle([self.x0 - 6, top, self.x1 + 6, y], outline=p.ink)
                    y += self.lh * 0.2
            else:
                end = p.text(self.x0, y, label, self.key_font)
                y = p.paragraph(
                    self.x0,
                    y,
                    text,
                    self.f,
                    key,
                    first_x=end + self.f.size * 0.3,
                    right=self.x1,
                    spacing=self.lh / self.f.size,
                )
            y += self.lh * (0.1 if self.tiny else 0.4)
        return y

    def footer(self, y: float) -> None:
        p = self.p
        for key, value in self.c.footer:
            if key == "Others":
                end = p.text(self.x0, y, self.key_label("Others") + p.colon, self.key_font)
                p.text(end + self.f.size * 0.3, y, value, self.f, field="Others")
                y += self.lh
        y = max(y + self.lh, p.height - self.margin - self.lh * 3.2)
        p.rule(self.x0, y - self.lh * 0.3, self.x1)
        tester = self.word(STAFF[0]) + p.colon
        end = p.text(self.x0, y, tester, self.key_font)
        p.signature_slot = (
            round(end + 8),
            round(y - self.lh * 0.4),
            round(end + 8 + self.f.size * 6),
            round(y + self.lh * 0.9),
        )
        mid = (self.x0 + self.x1) / 2
        p.key_value(mid, y, self.word(STAFF[1]), self.c.staff[1], None, self.key_font, self.f)
        y += self.lh
        for key, value in self.c.footer:
            if key != "Others":
                p.key_value(self.x0, y, self.key_label(key), value, None, self.key_font, self.f)
                y += self.lh
        small = p.font(0.8)
        p.text(self.x0, y, DISCLAIMER[0 if self.c.lab else 1][self.zh], small, fill=(90, 90, 90))
