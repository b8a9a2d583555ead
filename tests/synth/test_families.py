"""Report families: each renders with an exact label, and families differ in what carries meaning."""

from __future__ import annotations

import re

import pytest

from medvie.data.families import DEFAULT_HOLDOUT, FAMILIES, FAMILY_NAMES, check_families, family
from medvie.data.synth import DOC_TYPES, render_report, write_dataset
from medvie.data.synth.values import GENDER_WORDS, MARKS, RANGE_SEPS
from medvie.errors import ConfigError
from medvie.settings import parse_params

LAB = ("cbc", "biochemistry", "urinalysis", "lipid", "thyroid")
MARK_SEPS = (":", " :", " -", " =")


def _flat(label: dict) -> dict:
    out = {}
    for k, v in label.items():
        if k == "Indicators":
            for i, row in enumerate(v):
                for rk, rv in row.items():
                    out[f"Indicators.{i}.{rk}"] = rv
        else:
            out[k] = v
    return out


def _printed(rep) -> dict:
    parts: dict[str, list[str]] = {}
    for line in rep.meta["text_layer"]:
        if line["field"]:
            parts.setdefault(line["field"], []).append(line["text"])
    joiner = "" if rep.meta["language"] == "zh" else " "
    return {k: joiner.join(v) for k, v in parts.items()}


def _texts(rep) -> list[str]:
    return [line["text"] for line in rep.meta["text_layer"]]


def _find(fam_name: str, want, seeds=range(60), preset="full", doc_type="cbc", language="en"):
    """The first report of the family whose label satisfies `want`."""
    for seed in seeds:
        rep = render_report(seed, preset, language, doc_type, families=(fam_name,))
        if want(rep.label):
            return rep
    raise AssertionError(f"no {fam_name} page satisfies the condition in {len(seeds)} seeds")


def _strip_mark(text: str, sep: str) -> str:
    if sep in MARK_SEPS:
        assert text.endswith(sep), (text, sep)
        return text[: -len(sep)]
    return text


def _label_before(rep, key: str) -> tuple[str, int]:
    """The printed text item that labels `key`'s value (dot leaders skipped), and its index."""
    lines = rep.meta["text_layer"]
    at = next(i for i, ln in enumerate(lines) if ln["field"] == key)
    for i in range(at - 1, -1, -1):
        if lines[i]["field"] is None and set(lines[i]["text"]) != {"."}:
            return lines[i]["text"], i
    raise AssertionError(f"nothing printed before {key}")


def _same_row(a: list[float], b: list[float]) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0.5 * min(a[3] - a[1], b[3] - b[1])


# ---------------------------------------------------------------- the catalogue


def test_at_least_twelve_families_with_unique_names():
    assert len(FAMILIES) >= 12
    assert len(set(FAMILY_NAMES)) == len(FAMILY_NAMES) == len(FAMILIES)
    assert FAMILY_NAMES == tuple(f.name for f in FAMILIES)
    assert set(DEFAULT_HOLDOUT) < set(FAMILY_NAMES)  # some families stay in training
    assert check_families(list(DEFAULT_HOLDOUT)) == DEFAULT_HOLDOUT
    assert family("hillcrest").header == "sentence"


def test_unknown_family_is_a_config_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="'atlantis'"):
        family("atlantis")
    with pytest.raises(ConfigError, match="'atlantis'"):
        check_families(["riverside", "atlantis"])
    with pytest.raises(ConfigError, match="'atlantis'"):
        render_report(0, "tiny", "en", "cbc", families=("riverside", "atlantis"))
    with pytest.raises(ConfigError, match="'atlantis'"):
        write_dataset(tmp_path / "out", 2, 0, families=("atlantis",))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("section", ["holdout_families", "synthetic"])
def test_data_config_rejects_an_unknown_family_naming_it(section):
    raw = ["riverside", "atlantis"]
    data = {"holdout_families": raw} if section == "holdout_families" else {"synthetic": {"families": raw}}
    with pytest.raises(ConfigError, match="atlantis") as err:
        parse_params({"data": data})
    assert section in str(err.value) and "\n" not in str(err.value)
    ok = parse_params({"data": {"holdout_families": ["meadow"], "synthetic": {"families": ["riverside"]}}})
    assert ok.data.holdout_families == ["meadow"] and ok.data.synthetic.families == ["riverside"]
    assert parse_params({}).data.holdout_families == list(DEFAULT_HOLDOUT)


# ---------------------------------------------------------------- every family renders exactly


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_every_family_renders_every_doc_type_with_the_printed_label(name):
    languages = (
        ("en", "zh") if name in ("riverside", "eastport", "oakwood", "hillcrest", "greenwood") else ("en",)
    )
    for language in languages:
        for preset in ("tiny", "full"):
            for doc_type in DOC_TYPES:
                rep = render_report(7, preset, language, doc_type, families=(name,))
                where = (name, language, preset, doc_type)
                assert rep.meta["family"] == name and rep.doc_type == doc_type, where
                assert _printed(rep) == _flat(rep.label), where
                assert rep.label.get("Name"), where
                if doc_type in LAB:
                    assert rep.label["Indicators"], where
                    assert all("Result" in row for row in rep.label["Indicators"]), where
                else:
                    assert {"Examination Description", "Diagnosis"} <= set(rep.label), where


def test_a_family_list_only_draws_those_families():
    drawn = {
        render_report(seed, "tiny", "en", families=("summit", "harbor")).meta["family"] for seed in range(16)
    }
    assert drawn == {"summit", "harbor"}
    a = render_report(3, "tiny", "en", "cbc", families=("lakeview",))
    b = render_report(3, "tiny", "en", "cbc", families=("lakeview",))
    assert a.label == b.label and a.meta == b.meta


# ---------------------------------------------------------------- families differ in what carries meaning


def test_name_label_and_separator_are_printed_in_the_family_wording():
    printed_names, seps = {}, set()
    for fam in FAMILIES:
        if fam.header == "sentence":
            continue
        rep = render_report(0, "full", "en", "cbc", families=(fam.name,))
        text, at = _label_before(rep, "Name")
        assert _strip_mark(text, fam.sep) == fam.label("Name", False), (fam.name, text)
        lines = rep.meta["text_layer"]
        if fam.sep == "dots":  # dot leaders between label and value
            assert set(lines[at + 1]["text"]) == {"."}, fam.name
        printed_names[fam.name] = _strip_mark(text, fam.sep)
        seps.add(fam.sep)
    assert len(set(printed_names.values())) >= 4, printed_names
    assert len({printed_names[n] for n in ("riverside", "bayside", "northfield", "eastport")}) == 4
    assert printed_names["northfield"].isupper()  # capitals
    assert len(seps) >= 3 and {"dots", "gap", "box"} & seps


def test_flags_ranges_and_gender_follow_the_family_style():
    flag_styles, range_styles = set(), set()
    for fam in FAMILIES:
        marks, ranges = set(), set()
        for seed in range(4):
            rep = render_report(seed, "full", "en", LAB[seed % len(LAB)], families=(fam.name,))
            for row in rep.label["Indicators"]:
                if "Abnormal Mark" in row:
                    marks.add(row["Abnormal Mark"])
                m = re.fullmatch(r"(\d+(?:\.\d+)?)(\D+?)(\d+(?:\.\d+)?)", row.get("Reference Range", ""))
                if m:
                    ranges.add(m[2])
            if "Gender" in rep.label:
                assert rep.label["Gender"] in GENDER_WORDS[fam.gender], (fam.name, rep.label["Gender"])
        assert marks and marks <= set(MARKS[fam.flag]), (fam.name, marks)
        flag_styles.add(fam.flag)
        if "Reference Range" in fam.cols:
            assert ranges == {RANGE_SEPS[fam.range_style]}, (fam.name, ranges)
            range_styles.add(fam.range_style)
        else:  # a form without a range column prints no range
            assert not ranges, fam.name
    assert len(flag_styles) >= 3 and len(range_styles) >= 3


def test_table_headers_follow_the_family_column_order():
    seen_orders = set()
    for fam in FAMILIES:
        rep = render_report(1, "full", "en", "cbc", families=(fam.name,))
        texts = _texts(rep)
        heads = [fam.head(col, False) for col in fam.cols]
        starts = [i for i in range(len(texts)) if texts[i : i + len(heads)] == heads]
        if fam.table in ("none", "inline"):
            assert not starts, fam.name  # no header row at all
            continue
        assert starts, (fam.name, heads)
        boxes = [rep.meta["text_layer"][starts[0] + j]["box"] for j in range(len(heads))]
        assert [b[0] for b in boxes] == sorted(b[0] for b in boxes), fam.name  # left to right
        seen_orders.add(tuple(c.rstrip("+") for c in fam.cols))
    assert len(seen_orders) >= 3


def test_held_out_families_bring_a_form_no_in_family_family_prints():
    in_family = [f for f in FAMILIES if f.name not in DEFAULT_HOLDOUT]
    held_out = [family(n) for n in DEFAULT_HOLDOUT]
    in_seps, in_tables, in_headers = ({getattr(f, a) for f in in_family} for a in ("sep", "table", "header"))
    new_sep_or_table = [f.name for f in held_out if f.sep not in in_seps or f.table not in in_tables]
    assert new_sep_or_table, "a held-out family should use a separator or table style no in-family one uses"
    for f in held_out:  # each held-out family differs in at least one structural trait
        assert f.sep not in in_seps or f.table not in in_tables or f.header not in in_headers, f.name


# ---------------------------------------------------------------- combined fields and sentences


@pytest.mark.parametrize("name", ["eastport", "pinecrest"])
def test_sex_and_age_print_as_one_item_with_both_keys_in_the_label(name):
    fam = family(name)
    rep = _find(name, lambda lab: "Gender" in lab and "Age" in lab)
    lines = rep.meta["text_layer"]
    g = next(i for i, ln in enumerate(lines) if ln["field"] == "Gender")
    assert [ln["field"] for ln in lines[g : g + 3]] == ["Gender", None, "Age"]
    assert lines[g + 1]["text"].strip() == "/"
    assert _strip_mark(lines[g - 1]["text"], fam.sep) == fam.label("Sex / Age", False)
    assert lines[g]["text"] == rep.label["Gender"] and lines[g + 2]["text"] == rep.label["Age"]
    for key in ("Gender", "Age"):  # no separate item for either
        assert fam.label(key, False) + fam.sep not in _texts(rep), key
    assert all(_same_row(lines[g]["box"], lines[j]["box"]) for j in (g - 1, g + 2))


def test_name_paren_puts_gender_and_age_inside_the_name_item():
    rep = _find("oakwood", lambda lab: "Gender" in lab and "Age" in lab)
    fields = [ln["field"] for ln in rep.meta["text_layer"]]
    n = fields.index("Name")
    assert fields[n : n + 5] == ["Name", None, "Gender", None, "Age"]
    assert rep.meta["text_layer"][n - 1]["text"] == family("oakwood").label("Name", False) + ":"
    assert {"Name", "Gender", "Age"} <= set(rep.label)


def test_sentence_header_prints_name_gender_age_on_one_line():
    fam = family("hillcrest")
    rep = _find("hillcrest", lambda lab: "Gender" in lab and "Age" in lab)
    lines = rep.meta["text_layer"]
    fields = [ln["field"] for ln in lines]
    n = fields.index("Name")
    assert fields[n : n + 5] == ["Name", None, "Gender", None, "Age"]
    assert [lines[n + 1]["text"], lines[n + 3]["text"]] == [",", ","]
    boxes = [lines[n + j]["box"] for j in (0, 2, 4)]
    assert all(_same_row(boxes[0], b) for b in boxes[1:])
    assert boxes[0][0] < boxes[1][0] < boxes[2][0]
    texts = _texts(rep)
    for key in ("Name", "Gender", "Age"):  # no label printed for the patient fields
        assert not any(t.rstrip(" :=-") == fam.label(key, False) for t in texts), key
    assert rep.label["Gender"] in GENDER_WORDS["lower"]


def test_recombined_forms_mix_only_the_listed_families_traits_and_shuffle_headed_columns():
    import random

    from medvie.data.families import HEADED_TABLES, recombine

    kept = tuple(n for n in FAMILY_NAMES if n not in DEFAULT_HOLDOUT)
    pool = [family(n) for n in kept]
    orders, rng = set(), random.Random(0)
    for _ in range(200):
        form = recombine(kept, rng)
        assert form.sep in {f.sep for f in pool} and form.header in {f.header for f in pool}
        assert form.flag in {f.flag for f in pool} and form.table in {f.table for f in pool}
        assert all(form.labels[k] in {f.labels[k] for f in pool} for k in form.labels)
        assert form.cols[0] == "Item Name" and sorted(form.cols) in [sorted(f.cols) for f in pool]
        if form.table in HEADED_TABLES:
            orders.add(form.cols)
    # a held-out family's own traits never leak in: no dot leaders, no unmarked labels, no sentence header
    assert not {"dots", "gap"} & {f.sep for f in pool} and "sentence" not in {f.header for f in pool}
    assert len(orders) > len({f.cols for f in pool})  # column orders no listed family prints


def test_recombining_leaves_other_reports_as_they_were_and_prints_the_form_exactly():
    kept = tuple(n for n in FAMILY_NAMES if n not in DEFAULT_HOLDOUT)
    for seed in range(24):
        plain = render_report(seed, "tiny", "en", families=kept)
        assert plain.form == family(plain.meta["family"])
        again = render_report(seed, "tiny", "en", families=kept, recombine=0.0)
        assert again.image.tobytes() == plain.image.tobytes()
        mixed = render_report(seed, "tiny", "en", families=kept, recombine=1.0)
        assert mixed.meta["family"].endswith("~") and mixed.form.name == mixed.meta["family"]
        assert _printed(mixed) == _flat(mixed.label), seed  # the label is what the page prints
