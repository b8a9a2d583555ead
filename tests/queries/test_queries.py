import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medvie.errors import ConfigError, DataError
from medvie.queries.build import record_queries
from medvie.queries.config import QueriesConfig
from medvie.queries.pipeline import build_query_sets, run_queries
from medvie.queries.schema import load_schema

SCHEMA_FILE = __import__("pathlib").Path(__file__).resolve().parents[2] / "schemas" / "medical.json"
SCHEMA = load_schema(SCHEMA_FILE)
ROW_FIELDS = [f.key for f in SCHEMA.spec("Indicators").fields]
SCALAR_KEYS = [k for k in SCHEMA.key_names if k != "Indicators"]
value = st.text(min_size=1, max_size=6)


@st.composite
def labels(draw):
    keys = draw(st.lists(st.sampled_from(SCALAR_KEYS), unique=True, max_size=len(SCALAR_KEYS)))
    label = {k: draw(value) for k in keys}
    if draw(st.booleans()) or not label:
        fields = draw(st.lists(st.sampled_from(ROW_FIELDS), unique=True, min_size=1))
        rows = draw(st.lists(st.fixed_dictionaries({f: value for f in fields}), min_size=1, max_size=4))
        label["Indicators"] = rows
    return label


def _query(label, cfg, strategy="subset", count=3, rid="x"):
    rec = {"id": rid, "label": label, "doc_type": "cbc", "meta": {"language": "en"}}
    return record_queries(rec, SCHEMA, cfg, strategy=strategy, count=count, image="i.png", split="train")


def _prompt(q):
    return q["prompt"][0]["content"][1]["text"]


def _prompt_keys(text):
    return set(re.findall(r'^\s*"([^"]+)":', text, flags=re.MULTILINE))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    label=labels(),
    kmin=st.integers(1, 4),
    extra=st.integers(0, 6),
    prob=st.floats(0, 1),
    strategy=st.sampled_from(["subset", "all"]),
    seed=st.integers(0, 3),
)
def test_truth_is_exactly_the_asked_subset(label, kmin, extra, prob, strategy, seed):
    cfg = QueriesConfig(keys_min=kmin, keys_max=kmin + extra, row_fields_subset_prob=prob, seed=seed)
    for q in _query(label, cfg, strategy):
        truth = json.loads(q["truth"])
        assert list(truth) == q["keys"]
        row_fields = json.loads(q["row_fields"])
        if strategy == "subset":
            assert set(q["keys"]) <= set(label)
            assert min(kmin, len(label)) <= len(q["keys"]) <= kmin + extra
        else:
            assert q["keys"] == SCHEMA.key_names
        for key in q["keys"]:
            if key not in label:
                assert truth[key] in ("", [])
            elif key in row_fields:
                assert truth[key] == [{f: r[f] for f in row_fields[key] if f in r} for r in label[key]]
                assert all(truth[key])  # a restricted row is never empty
            else:
                assert truth[key] == label[key]
        # the prompt describes exactly the asked keys (and asked row fields)
        asked_fields = set()
        if "Indicators" in q["keys"]:
            asked_fields = set(row_fields.get("Indicators", ROW_FIELDS))
        assert _prompt_keys(_prompt(q)) == set(q["keys"]) | asked_fields
        for key in q["keys"]:
            assert f"// {SCHEMA.spec(key).description['en']}" in _prompt(q)


def test_queries_are_deterministic_and_order_independent(ingested):
    _, records = ingested
    cfg = QueriesConfig(per_record=3, seed=5)
    sel = [r for r in records if r["split"] == "train"]
    a = build_query_sets(records, sel, cfg, "out", schema_path=SCHEMA_FILE)
    b = build_query_sets(records[::-1], sel[::-1], cfg, "out", schema_path=SCHEMA_FILE)

    def key(rows):
        return sorted(json.dumps(q, sort_keys=True) for q in rows)

    assert all(key(a[s]) == key(b[s]) for s in a)
    c = build_query_sets(records, sel, cfg.model_copy(update={"seed": 6}), "out", schema_path=SCHEMA_FILE)
    assert key(a["train"]) != key(c["train"])


def test_mixed_strategy_asks_all_keys_in_its_share_of_train_queries(ingested):
    _, records = ingested
    sel = [r for r in records if r["split"] == "train"]
    cfg = QueriesConfig(strategy="mixed", per_record=4, all_share=0.25, seed=1)
    train = build_query_sets(records, sel, cfg, "out", schema_path=SCHEMA_FILE)["train"]
    for rec in sel:
        mine = [q for q in train if q["record_id"] == rec["id"]]
        assert sorted(q["strategy"] for q in mine) == ["all", "subset", "subset", "subset"]
        everything = [q for q in mine if q["strategy"] == "all"][0]
        assert everything["keys"] == [SCHEMA.spec(k).name("en") for k in SCHEMA.key_names]
    # the subset queries are those of the plain subset strategy with one query fewer
    plain = build_query_sets(
        records,
        sel,
        cfg.model_copy(update={"strategy": "subset", "per_record": 3}),
        "out",
        schema_path=SCHEMA_FILE,
    )["train"]
    assert [q for q in train if q["strategy"] == "subset"] == plain


def test_prompt_wording_and_thinking_flag():
    label = {"Name": "A", "Age": "3"}
    think = _prompt(_query(label, QueriesConfig())[0])
    assert "<think></think>" in think and "<answer></answer>" in think and "JSON" in think
    plain = _query(label, QueriesConfig(thinking=False))[0]
    assert "<think>" not in _prompt(plain) and "<answer></answer>" in _prompt(plain)
    assert plain["thinking"] is False
    assert plain["prompt"][0]["content"][0] == {"type": "image"}


def test_chinese_key_names_in_prompt_and_truth():
    label = {"Name": "王芳", "Indicators": [{"Item Name": "白细胞", "Result": "5"}]}
    q = _query(label, QueriesConfig(key_language="zh", strategy="all"), "all", count=1)[0]
    truth = json.loads(q["truth"])
    assert truth["姓名"] == "王芳" and truth["指标"] == [{"项目名称": "白细胞", "结果": "5"}]
    assert '"姓名": ""' in _prompt(q) and "<answer></answer>" in _prompt(q)
    auto = _query(label, QueriesConfig(key_language="auto"), count=1)[0]
    assert auto["language"] == "en"  # meta.language wins over the label's script


def test_unknown_key_and_empty_label_are_errors():
    with pytest.raises(DataError, match=r"record 'x': label key 'Blood Type' is not in schema"):
        _query({"Name": "A", "Blood Type": "O"}, QueriesConfig())
    with pytest.raises(DataError, match="field 'Colour' of 'Indicators'"):
        _query({"Indicators": [{"Colour": "red"}]}, QueriesConfig())
    with pytest.raises(DataError, match="empty label"):
        _query({}, QueriesConfig())


def test_custom_schema_needs_no_code_change(tmp_path):
    path = tmp_path / "invoice.json"
    path.write_text(
        json.dumps(
            {
                "name": "invoice",
                "document": "invoice",
                "keys": [
                    {"key": "Seller", "description": "who sells"},
                    {
                        "key": "Lines",
                        "type": "list",
                        "description": "items",
                        "fields": [
                            {"key": "Item", "description": "what"},
                            {"key": "Price", "description": "how much"},
                        ],
                    },
                ],
            }
        )
    )
    schema = load_schema(path)
    rec = {"id": "inv", "label": {"Seller": "ACME", "Lines": [{"Item": "nut", "Price": "1"}]}}
    q = record_queries(
        rec, schema, QueriesConfig(strategy="all"), strategy="all", count=1, image="i", split="x"
    )[0]
    assert json.loads(q["truth"]) == rec["label"] and "from the invoice in the image" in _prompt(q)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keys": [{"key": "L", "type": "list"}]}))
    with pytest.raises(ConfigError, match="bad.json.*needs 'fields'"):
        load_schema(bad)


def test_run_queries_writes_splits_and_load_queries_gives_pil(ingested, tmp_path):
    from PIL import Image

    from medvie.queries.dataset import load_queries

    root, records = ingested
    selected = tmp_path / "data" / "selected.jsonl"
    selected.write_text("".join(json.dumps({"id": r["id"]}) + "\n" for r in records if r["split"] == "train"))
    out = tmp_path / "data" / "queries"
    summary = run_queries(
        QueriesConfig(per_record=2, text_hints="layer"),
        records=root,
        selected=selected,
        text=None,
        schema=SCHEMA_FILE,
        out=out,
    )
    assert summary["train"] == {
        "queries": 6,
        "records": 3,
        "strategies": {"subset": 6},
        "doc_types": {"cbc": 2, "imaging": 2, "pathology": 2},
    }
    assert summary["test"]["strategies"] == {"subset": 3, "all": 3}
    ds = load_queries(out / "train.jsonl")
    row = ds[0]
    assert isinstance(row["image"], Image.Image) and row["image"].size == (32, 40)
    assert (
        row["prompt"][0]["role"] == "user"
        and "Text read from the document" in row["prompt"][0]["content"][1]["text"]
    )
    assert isinstance(row["truth"], str) and isinstance(row["thinking"], bool)
    # what GRPOTrainer does with an `image` column
    from trl.data_utils import prepare_multimodal_messages

    msgs = prepare_multimodal_messages(row["prompt"], images=[row["image"]])
    assert msgs[0]["content"][0]["image"] is row["image"]
    assert len(load_queries(out / "val.jsonl")) == 6


def test_missing_selected_record_is_an_error(ingested, tmp_path):
    root, _ = ingested
    selected = tmp_path / "selected.jsonl"
    selected.write_text(json.dumps({"id": "nope"}) + "\n")
    with pytest.raises(DataError, match="'nope' is not in the ingested records"):
        run_queries(
            QueriesConfig(),
            records=root,
            selected=selected,
            text=None,
            schema=SCHEMA_FILE,
            out=tmp_path / "q",
        )


def test_rows_may_ask_a_subset_of_their_fields():
    label = {
        "Name": "A",
        "Indicators": [
            {"Item Name": "WBC", "Result": "1", "Unit": "g"},
            {"Item Name": "HGB", "Result": "2", "Unit": "g", "Abnormal Mark": "↑"},
        ],
    }
    qs = _query(label, QueriesConfig(row_fields_subset_prob=1.0, keys_min=2, keys_max=2), count=4)
    fields = [json.loads(q["row_fields"]).get("Indicators") for q in qs]
    assert all(f and set(f) < {"Item Name", "Result", "Unit"} for f in fields)  # only fields every row has
    whole = _query(label, QueriesConfig(row_fields_subset_prob=0.0, keys_min=2, keys_max=2), count=1)[0]
    assert json.loads(whole["truth"])["Indicators"] == label["Indicators"]


def test_yaml_bare_off_means_off():
    import yaml

    from medvie.settings import parse_params

    raw = yaml.safe_load("queries:\n  text_hints: off\n")
    assert parse_params(raw).queries.text_hints == "off"
    with pytest.raises(ConfigError, match="queries.text_hints"):
        parse_params({"queries": {"text_hints": "maybe"}})
