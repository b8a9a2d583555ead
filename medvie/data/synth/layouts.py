"""Page layouts. A layout draws a Content onto a Page; `level` > 0 asks for a tighter fit.

Full pages: classic (rules), boxed (grid table), split (two-panel table), plain (zebra rows).
Tiny pages: tiny_table (column headers), tiny_list (rows only).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from medvie.data.families import Family
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
    """Draws one Content with one Layout in one Family's wording and styles; rng picks small style choices."""

    def __init__(self, page: Page, c: Content, layout: Layout, rng: random.Random, level: int, fam: Family):
        self.p, self.c, self.L, self.rng, self.level, self.fam = page, c, layout, rng, level, fam
        self.zh = c.language == "zh"
        self.tiny = layout.header == "tiny"
        self.margin = round(page.width * (0.03 if self.tiny else rng.uniform(0.05, 0.07)))
        self.x0, self.x1 = self.margin, page.width - self.margin
        self.f = page.font()
        self.fb = page.font(bold=True)
        self.key_font = self.fb if rng.random() < 0.4 else self.f
        self.lh = page.line_height(self.f, 1.3 if self.tiny else rng.uniform(1.4, 1.6))
        if fam.sep in (":", " :", " -", " ="):
            page.colon = fam.sep
        elif fam.sep in ("dots", "gap", "box"):
            page.colon = ""
        if self.zh and fam.sep == ":" and rng.random() < 0.6:
            page.colon = "："
        self.label_w = 0.0  # dots / gap: values start after the widest label of the block

    def word(self, options: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
        return self.rng.choice(options[1] if self.zh else options[0])

    def key_label(self, key: str) -> str:
        return self.fam.label(key, self.zh)

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

    def header_items(self) -> list[tuple[str, list[tuple[str, str | None]]]]:
        """(label, value parts) per printed item; a family may combine fields into one item."""
        values = dict(self.c.header)
        items = [(k, [(v, self.field(k))]) for k, v in self.c.header]
        combine = self.fam.combine
        if combine == "sex_age" and "Gender" in values and "Age" in values:
            parts = [(values["Gender"], "Gender"), (" / ", None), (values["Age"], "Age")]
            at = next(i for i, (k, _) in enumerate(items) if k == "Gender")
            items = [it for it in items if it[0] not in ("Gender", "Age")]
            items.insert(at, ("Sex / Age", parts))
        elif combine == "name_paren" and ("Gender" in values or "Age" in values):
            inner = [(values[k], k) for k in ("Gender", "Age") if k in values]
            parts = [(values["Name"], "Name"), (" (", None), inner[0]]
            if len(inner) > 1:
                parts += [(", ", None), inner[1]]
            items = [(k, parts if k == "Name" else v) for k, v in items if k not in ("Gender", "Age")]
            items[[k for k, _ in items].index("Name")] = ("Name", [*parts, (")", None)])
        return [(self.key_label(k), parts) for k, parts in items]

    def header(self, y: float) -> float:
        if self.fam.header == "sentence":
            return self.sentence(y)
        items = self.header_items()
        cols = {"grid3": 3, "box2": 2, "lines2": 2, "tiny": 2}[self.L.header]
        if self.fam.sep in ("dots", "gap"):
            cols = 1
            self.label_w = max(self.key_font.getlength(k) for k, _ in items) + self.f.size * (
                2.5 if self.fam.sep == "dots" else 1.2
            )
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

    def sentence(self, y: float) -> float:
        """The patient as one line of free text: "Li Wei, female, 45 y, Test Date 06 Apr 2024"."""
        values = dict(self.c.header)
        pieces: list[tuple[str, str | None]] = [(values["Name"], "Name")]
        if "Gender" in values:
            pieces += [(",", None), (values["Gender"], "Gender")]
        if "Age" in values:
            pieces += [(",", None), (values["Age"], "Age"), ("岁" if self.zh else "y", None)]
        for k, v in self.c.header:
            if k not in ("Name", "Gender", "Age"):
                pieces += [(",", None), (self.key_label(k).lower(), None), (v, self.field(k))]
        return self.flow(pieces, self.x0, y) + self.lh * 0.2

    def flow(self, pieces: list[tuple[str, str | None]], x: float, y: float) -> float:
        """Pieces left to right with a space between (none before punctuation), wrapping whole pieces."""
        p, f, space = self.p, self.f, self.f.getlength(" ")
        for i, (text, field) in enumerate(pieces):
            w = f.getlength(text)
            gap = 0 if i == 0 or text in (",", ")", "岁") or pieces[i - 1][0].endswith("(") else space
            if x + gap + w > self.x1 and x > self.x0:
                x, y, gap = self.x0, y + self.lh, 0
            x = p.text(x + gap, y, text, f, field=field)
        return y + self.lh

    def item_width(self, key: str, parts: list[tuple[str, str | None]]) -> float:
        gap = self.f.size * 0.3
        label = self.label_w or self.key_font.getlength(key + self.p.colon) + gap
        return (
            label + sum(self.f.getlength(t) for t, _ in parts) + (self.f.size if self.fam.sep == "box" else 0)
        )

    def kv(self, x: float, y: float, key: str, parts: list[tuple[str, str | None]]) -> float:
        """One label-value item in the family's separator style; returns the x where it ends."""
        p, sep, gap = self.p, self.fam.sep, self.f.size * 0.3
        end = p.text(x + (4 if sep == "box" else 0), y, key + p.colon, self.key_font)
        if sep == "box":
            p.draw.rectangle([x, y - 3, end + 4, y + self.f.size * 1.2], outline=p.ink, width=1)
            end += 8
        if sep == "dots":
            dots = "." * max(3, int((x + self.label_w - gap - end) // self.f.getlength(".")) - 1)
            p.text(end + gap, y, dots, self.f)
        vx = x + self.label_w if self.label_w else end + gap
        for text, field in parts:
            vx = p.text(vx, y, text, self.f, field=field)
        return vx

    def pack(self, items: list[tuple[str, list[tuple[str, str | None]]]], y: float, cols: int) -> float:
        """Key: value items in a grid; a long item takes as many cells as it needs."""
        cell = (self.x1 - self.x0) / cols
        col = 0
        for key, parts in items:
            need = self.item_width(key, parts)
            if need > self.x1 - self.x0:
                raise Overflow(key)
            span = min(cols, int((need + self.f.size) // cell) + 1)
            if col + span > cols:
                col, y = 0, y + self.lh
            self.kv(self.x0 + col * cell, y, key, parts)
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
        if self.L.table == "inline":
            return self.inline_rows(rows, cols, y)
        if self.L.table == "split" and len(rows) >= 8:
            half = (len(rows) + 1) // 2
            mid = (self.x0 + self.x1) / 2
            y_left = self.grid(rows[:half], cols, self.x0, mid - self.f.size * 0.5, y, 0)
            y_right = self.grid(rows[half:], cols, mid + self.f.size * 0.5, self.x1, y, half)
            return max(y_left, y_right)
        return self.grid(rows, cols, self.x0, self.x1, y, 0)

    def inline_rows(self, rows: list[dict[str, str]], cols: tuple[str, ...], y: float) -> float:
        """A results list without a table: "WBC 11.2 10^9/L (3.5-9.5) HIGH", one row per line."""
        for i, row in enumerate(rows):
            pieces: list[tuple[str, str | None]] = []
            for k in cols:
                key = "Result" if k == "Result+" else k
                if key in row:
                    field = f"Indicators.{i}.{key}"
                    if key == "Reference Range":
                        pieces += [("(", None), (row[key], field), (")", None)]
                    else:
                        pieces.append((row[key], field))
                if k == "Result+" and "Abnormal Mark" in row:
                    pieces.append((row["Abnormal Mark"], f"Indicators.{i}.Abnormal Mark"))
            y = self.flow(pieces, self.x0, y)
        return y

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
        heads = [self.word(COLUMN_HEADS["No"]) if k == "No" else self.fam.head(k, self.zh) for k in cols]
        hf = self.fb
        widths = []
        for k, h in zip(cols, heads, strict=True):
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
            for h, x in zip(heads, xs, strict=True):
                p.text(x, y + text_dy, h, hf)
            y += row_h
            if style != "plain":
                p.rule(x0, y, x1)
        top = y - row_h
        highlight = self.rng.random() < 0.4
        for i, row in enumerate(rows):
            if style == "zebra" and i % 2 == 0:
                p.draw.rectangle([x0, y + 1, x1, y + row_h - 1], fill=(236, 236, 236, 255))
            ty = y + text_dy
            for k, x in zip(cols, xs, strict=True):
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
