"""Decide what a report says (patient, times, rows or findings) before any layout."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from medvie.data.families import Family
from medvie.data.synth import values as V
from medvie.data.synth.narratives import narrative


@dataclass
class Content:
    """Printed values, all plain strings. Keys are schema keys or extra (non-schema) names."""

    doc_type: str
    language: str
    hospital: str
    header: list[tuple[str, str]]  # in print order
    rows: list[dict[str, str]] = field(default_factory=list)
    short_rows: list[dict[str, str]] = field(default_factory=list)  # same rows, shorter item names
    sections: list[tuple[str, str]] = field(default_factory=list)  # narrative schema key -> text
    footer: list[tuple[str, str]] = field(default_factory=list)
    title_exam: str = ""  # exam name printed as the page title (tiny pages)
    staff: tuple[str, str] = ("", "")  # tester, reviewer
    mark_style: str = "arrow"
    tiny_units: bool = True  # tiny pages print a unit column only sometimes (width)
    item_style: str = "abbr"

    @property
    def lab(self) -> bool:
        return self.doc_type in V.LAB_TYPES


def compose(rng: random.Random, doc_type: str, language: str, preset: str, fam: Family) -> Content:
    tiny = preset == "tiny"
    zh = language == "zh"
    name, gender, sex = V.person(rng, language, fam.gender)
    age = str(rng.randint(18, 86))
    if zh and rng.random() < 0.7:
        age += "岁"
    lab = doc_type in V.LAB_TYPES
    day = rng.randint(0, 1000)
    t_collect = rng.randint(7 * 60, 11 * 60)
    t_exam = t_collect + rng.randint(20, 180)
    t_report = t_exam + rng.randint(10, 240)
    fmt = V.DATE_FORMATS[fam.date] + ("" if tiny or zh else " {hh:02d}:{mm:02d}")
    if zh:
        fmt = V.TIME_FORMATS[-1] if tiny else rng.choice(V.TIME_FORMATS)
    place = rng.choice(V.ZH_HOSPITAL_PLACES if zh else V.EN_HOSPITAL_PLACES)
    kind = rng.choice(V.ZH_HOSPITAL_KINDS if zh else V.EN_HOSPITAL_KINDS)
    hospital = place + kind if zh else f"{place} {kind}"
    c = Content(doc_type, language, hospital, header=[])
    c.staff = (V.person(rng, language)[0], V.person(rng, language)[0])

    if lab:
        exam_name = V.pick(rng, (V.EXAM_SHORT if tiny else V.EXAM_NAMES)[doc_type], language)
        story: dict[str, str] = {}
    else:
        story = narrative(rng, doc_type, language, short=tiny)
        exam_name = story["Examination Name"]

    if tiny:
        optional = ["Gender", "Age", "Examination Time"] + (["Sample Collection Time"] if lab else [])
        keep = set(rng.sample(optional, rng.randint(1, 2 if lab else 1)))
        if rng.random() < 0.75:
            c.title_exam = exam_name
    else:
        keep = {
            k
            for k in (
                "Gender",
                "Age",
                "Department",
                "Examination Time",
                "Sample Collection Time",
                "Examination Name",
                "Examination Site",
            )
            if rng.random() < 0.85
        }
        if lab and rng.random() < 0.5:
            keep.discard("Examination Name")
    values = {
        "Name": name,
        "Gender": gender,
        "Age": age,
        "Department": V.pick(rng, rng.choice(V.DEPARTMENTS), language),
        "Examination Time": V.timestamp(rng, fmt, day, t_exam),
        "Sample Collection Time": V.timestamp(rng, fmt, day, t_collect),
        "Examination Name": exam_name,
        "Examination Site": story.get("Examination Site", ""),
    }
    order = [
        "Name",
        "Gender",
        "Age",
        "Department",
        "Examination Name",
        "Examination Site",
        "Sample Collection Time",
        "Examination Time",
    ]
    if not lab:
        keep.discard("Sample Collection Time")
        if tiny and rng.random() < 0.3:
            keep.add("Examination Site")
    else:
        keep.discard("Examination Site")
    if c.title_exam:
        keep.discard("Examination Name")
    c.header = [(k, values[k]) for k in order if k == "Name" or k in keep]
    if not tiny:
        extras = [("pid", str(rng.randint(10**6, 10**8 - 1)))]
        if rng.random() < 0.4:
            extras.append(("bed", str(rng.randint(1, 60))))
        if lab and rng.random() < 0.7:
            extras.append(("sample_no", f"{rng.randint(1, 9999):04d}"))
        if lab and doc_type in V.SPECIMENS and rng.random() < 0.6:
            extras.append(("sample_type", V.pick(rng, V.SPECIMENS[doc_type], language)))
        if rng.random() < 0.7:
            extras.append(("doctor", V.person(rng, language)[0]))
        for e in extras:  # extras sit between schema fields, as on real forms
            c.header.insert(rng.randint(1, len(c.header)), e)
        c.footer.append(("report_time", V.timestamp(rng, fmt, day, min(t_report, 23 * 60 + 59))))
        if rng.random() < 0.3:
            c.footer.insert(0, ("Others", V.pick(rng, rng.choice(V.REMARKS), language)))

    if lab:
        tests = V.TESTS[doc_type]
        n = rng.randint(1, 4) if tiny else rng.randint(5, min(15, len(tests)))
        chosen = [tests[i] for i in sorted(rng.sample(range(len(tests)), n))]
        c.mark_style = fam.flag
        if tiny:
            c.item_style = "short" if zh else "abbr"
            c.tiny_units = rng.random() < 0.4
        else:
            c.item_style = rng.choice(("full", "both", "full") if zh else ("abbr", "full", "both"))
        short = "short" if zh else "abbr"
        for t in chosen:
            row = V.lab_row(
                rng, t, sex, language, c.mark_style, c.item_style, 0.3, "" if zh else fam.range_style
            )
            c.rows.append(row)
            c.short_rows.append({**row, "Item Name": V.item_name(t, language, short)})
    else:
        c.sections = [
            ("Examination Description", story["Examination Description"]),
            ("Diagnosis", story["Diagnosis"]),
        ]
        advice = story.get("Treatment Recommendations")
        if advice and (not tiny or rng.random() < 0.3):
            c.sections.append(("Treatment Recommendations", advice))
    return c
