"""Pretraining data: held-out families are never drawn, OCR-like text rows, made-up labels, batches."""

from __future__ import annotations

import random
import re

import pytest

from medvie.data.families import DEFAULT_HOLDOUT, FAMILY_NAMES, family
from medvie.errors import ConfigError
from medvie.training.pretrain import data as D
from medvie.training.pretrain.config import PretrainConfig

NOVEL = re.compile(r"[A-Z][a-z]+( [A-Z][a-z]+)?|[A-Z]+( [A-Z]+)?")


@pytest.fixture(scope="module")
def processor():
    from medvie.modeling.processor import build_processor
    from medvie.modeling.tiny import build_tokenizer

    return build_processor(build_tokenizer("bpe"))


@pytest.fixture(scope="module")
def schema():
    return D._schema()


def _family_page(name: str, seed: int = 0, preset: str = "tiny", doc_type: str = "cbc") -> dict:
    from medvie.data.synth import render_report

    return D._page(render_report(seed, preset, "en", doc_type, families=(name,)))


# ---------------------------------------------------------------- which families are drawn


def test_training_families_leave_out_the_held_out_ones():
    kept = D.training_families(DEFAULT_HOLDOUT)
    assert kept == tuple(f for f in FAMILY_NAMES if f not in DEFAULT_HOLDOUT)
    assert D.training_families(()) == FAMILY_NAMES
    with pytest.raises(ConfigError, match="every report family is held out"):
        D.training_families(FAMILY_NAMES)
    with pytest.raises(ConfigError, match="'atlantis'"):
        D.training_families(("atlantis",))


def test_default_renderer_draws_only_the_given_families():
    render = D.default_renderer("tiny", ("summit", "harbor"))
    drawn = {render(seed, "en").meta["family"] for seed in range(12)}
    assert drawn == {"summit", "harbor"}
    everything = D.default_renderer("tiny")  # no list: every family, held-out ones included
    drawn_all = {everything(seed, "en").meta["family"] for seed in range(40)}
    assert len(drawn_all) >= 8 and drawn_all & set(DEFAULT_HOLDOUT)


def test_unseen_family_pages_are_of_the_excluded_families_only():
    assert D.unseen_family_pages(PretrainConfig()) == []
    pages = D.unseen_family_pages(PretrainConfig(exclude_families=("meadow",), eval_pages=3))
    assert len(pages) == 3 and {p["family"] for p in pages} == {"meadow"}
    assert all(p["lines"] and p["label"] for p in pages)


# ---------------------------------------------------------------- OCR-like rows


def test_join_lines_spaces_only_between_separated_items_and_breaks_rows():
    lines = [
        {"text": "WBC", "box": [0, 0, 40, 20]},
        {"text": "11.2", "box": [60, 1, 100, 21]},  # a gap: one space
        {"text": "(", "box": [110, 0, 116, 20]},
        {"text": "3.5-9.5", "box": [116, 0, 180, 20]},  # touching: no space
        {"text": ")", "box": [180, 1, 186, 21]},
        {"text": "HGB", "box": [0, 30, 40, 50]},  # next row
        {"text": "130", "box": [42, 31, 80, 51]},  # a hair apart counts as touching
        {"text": " / ", "box": [80, 31, 90, 51]},  # touching, but drawn with its own spaces: kept
        {"text": "45", "box": [90, 31, 100, 51]},
    ]
    assert D.join_lines(lines) == "WBC 11.2 (3.5-9.5)\nHGB130 / 45"
    assert D.join_lines([]) == ""


def test_join_lines_of_a_rendered_page_keeps_every_printed_value_on_its_row():
    page = _family_page("lakeview", seed=2)
    rows = D.join_lines(page["lines"]).split("\n")
    assert len(rows) >= 3 and all(rows)
    for row in page["label"]["Indicators"]:
        # a table row is one text row: the item name and its result share it
        assert any(row["Item Name"] in r and row["Result"] in r for r in rows), row


# ---------------------------------------------------------------- made-up labels


def test_relabel_swaps_only_printed_labels_and_returns_the_words():
    page = _family_page("riverside", seed=3)
    fam = family("riverside")
    for seed in range(20):
        lines, extra = D.relabel(page, random.Random(seed))
        if "Name" in extra:
            break
    else:
        raise AssertionError("no seed swapped the Name label")
    assert len(lines) == len(page["lines"])
    assert all(set(words) and len(words) == 1 and NOVEL.fullmatch(words[0]) for words in extra.values())
    changed = 0
    for old, new in zip(page["lines"], lines, strict=True):
        assert new["box"] == old["box"] and new["field"] == old["field"]
        if old["field"] is not None:  # values are never touched
            assert new["text"] == old["text"]
        elif new["text"] != old["text"]:
            changed += 1
            assert any(new["text"].startswith(w[0]) for w in extra.values()), (old, new)
    assert changed >= 1
    name_label = next(ln for ln in lines if ln["text"].startswith(extra["Name"][0]))
    assert name_label["text"] == extra["Name"][0] + ":"  # the separator stays
    assert not any(ln["text"] == fam.label("Name", False) + ":" for ln in lines)

    user_page = {**page, "family": None, "form": None}  # a page of no synthetic family
    assert D.relabel(user_page, random.Random(0)) == (page["lines"], {})


def test_novel_labels_appear_as_aliases_in_the_prompt_and_in_the_hints(monkeypatch, schema):
    page = _family_page("riverside", seed=3)
    seen: list[dict] = []
    real = D.relabel

    def spy(p, rng):
        out = real(p, rng)
        seen.append(out[1])
        return out

    monkeypatch.setattr(D, "relabel", spy)
    for seed in range(60):
        seen.clear()
        ex = D.make_example(page, "extract", random.Random(seed), 1, schema, hints=1.0, novel=1.0)
        [extra] = seen  # novel=1.0: every hinted example is relabelled
        if "Name" in extra and '"Name":' in ex["text"]:
            break
    else:
        raise AssertionError("no example asked Name with a swapped Name label")
    word = extra["Name"][0]
    hints, _, task = ex["text"].partition("Extract the following keys")
    assert hints.startswith("Text read from the document") and word in hints
    [described] = [ln for ln in task.splitlines() if ln.lstrip().startswith('"Name":')]
    printed_as = described.split("printed as:", 1)[1]
    assert word in [w.strip() for w in printed_as.split("|")]
    assert "Patient Name" in printed_as  # the schema's own aliases stay
    assert ex["target"].startswith("<think>") and ex["truth"]["Name"] == page["label"]["Name"]

    # without novel labels the prompt names no made-up word
    seen.clear()
    plain = D.make_example(page, "extract", random.Random(seed), 1, schema, hints=1.0, novel=0.0)
    assert not seen and word not in plain["text"]


# ---------------------------------------------------------------- batches


def test_draw_examples_echo_only_mix_gives_an_echo_batch(processor, schema):
    cfg = PretrainConfig(mix={"echo": 1.0}, batch_size=2, echo_batch_factor=3)
    rng = random.Random(0)
    for _ in range(3):
        examples = D.draw_examples(rng, [], cfg, processor.tokenizer, schema, max_lines=2)
        assert len(examples) == 6
        for ex in examples:
            assert ex["image"] is None and ex["text"].endswith(D.COPY)
            assert ex["target"] and ex["target"] in ex["text"]

    pool = [_family_page("harbor", seed=1)]
    lines_only = PretrainConfig(mix={"lines": 1.0}, batch_size=3)
    examples = D.draw_examples(rng, pool, lines_only, processor.tokenizer, schema, max_lines=2)
    assert len(examples) == 3 and all(
        ex["image"] is not None and ex["text"] == D.TRANSCRIBE for ex in examples
    )


def test_batch_stream_yields_padded_batches_from_training_families(monkeypatch, processor, schema):
    import medvie.data.synth as synth

    drawn: list[str] = []
    real = synth.render_report

    def spy(*args, **kwargs):
        rep = real(*args, **kwargs)
        drawn.append(rep.meta["family"])
        return rep

    monkeypatch.setattr(synth, "render_report", spy)
    cfg = PretrainConfig(
        batch_size=2,
        pool_size=2,
        mix={"lines": 0.5, "extract": 0.5},
        max_target_tokens=24,
        exclude_families=DEFAULT_HOLDOUT,
        hints=1.0,
        novel_labels=1.0,
    )
    stream = iter(D.BatchStream(cfg, processor, schema, start_step=0, max_lines=2))
    for _ in range(2):
        batch = next(stream)
        assert isinstance(batch, dict) and {"input_ids", "labels", "attention_mask"} <= set(batch)
        assert batch["input_ids"].shape == batch["labels"].shape and batch["input_ids"].shape[0] == 2
        supervised = batch["labels"] != -100
        assert supervised.any() and not supervised.all()
        assert (batch["labels"][supervised] == batch["input_ids"][supervised]).all()
    assert drawn and not set(drawn) & set(DEFAULT_HOLDOUT)
