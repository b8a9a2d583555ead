"""Train/serve parity: a model registered by the register stage is asked, by the pyfunc, by `medvie extract`
and by `mlflow models serve`, exactly what the evaluate stage asked it, and answers the same bytes.

A tiny project is built by the stages' own entry points: synthetic reports -> ingest -> OCR (tesseract)
-> queries with OCR text hints -> the embedded tiny model (pretrained/tiny) -> evaluate -> register.
Serving then gets the reports' source images (not the ingested copies) and the keys each test query asked.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import mlflow
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from registry_helpers import ModelServer, write_source  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "schemas" / "medical.json"
NAME = "medvie-parity"
REPORTS = [(11, "cbc"), (12, "imaging"), (13, "biochemistry")]
HINTS_HEAD = "Text read from the document"


@pytest.fixture(scope="module")
def project(tmp_path_factory, store):
    """Run the stages' entry points on three synthetic reports; the evaluate stage's answers are the
    reference."""
    from medvie.evaluation.evaluate import load_eval_queries
    from medvie.io import read_json, read_jsonl, write_json, write_jsonl
    from medvie.settings import parse_params
    from stages import evaluate, ingest, model, ocr, queries, register

    root = tmp_path_factory.mktemp("project")
    source = write_source(root, REPORTS)

    params = parse_params(
        {
            "data": {"source": "source", "split": {"train": 0.0, "val": 0.0, "test": 1.0}},
            "text": {"engine": "tesseract", "languages": ["eng"], "for_baseline": "never"},
            "queries": {"text_hints": "ocr", "schema": str(SCHEMA), "val_max": 0, "test_max": 10},
            "model": {"tiny_dir": str(REPO / "pretrained" / "tiny")},
            # batches of 4 of the 6 queries, ordered by prompt length: `medvie extract` below batches its 3
            # images otherwise, so the answers must not depend on which queries share a batch; two models
            # in two workers, as params.yaml evaluates: the registered one answers in a process of its own
            "evaluate": {
                "models": ["base", "grpo"],
                "baselines": [],
                "max_new_tokens": 48,
                "batch_size": 4,
                "workers": 2,
            },
            "register": {"name": NAME, "model": "grpo"},
        }
    )
    with pytest.MonkeyPatch.context() as mp:
        # the stages' own MLflow store (evaluation logs there) is the test's store
        mp.setenv("MEDVIE_MLFLOW_STORE_ROOT", str(Path(store.removeprefix("sqlite:///")).parent))
        ingest.main(params, root)
        write_jsonl(root / "data" / "selected.jsonl", [{"id": "r0"}])  # the sample stage's output
        ocr.main(params, root)
        queries.main(params, root)
        model.main(params, root)
        write_json(root / "models" / "grpo" / "medvie_model.json", {"base": "../base", "adapter": None})
        evaluate.main(params, root)
        register.main(params, root)
    rows = load_eval_queries(root / params.evaluate.queries)
    answers = {p["id"]: p["prediction"] for p in read_jsonl(root / "reports" / "predictions" / "grpo.jsonl")}
    records = read_jsonl(root / "data" / "ingested" / "records.jsonl")
    return {
        "root": root,
        "params": params,
        "rows": rows,
        "answers": answers,
        "sources": {r["id"]: str(source / r["source_image"]) for r in records},
        "registered": read_json(root / "reports" / "registry.json"),
        "uri": f"models:/{NAME}@champion",
    }


def request(project, row) -> dict:
    """What a client sends for an evaluation query: the report's source image, the keys (row fields) asked."""
    row_fields = json.loads(row["row_fields"])  # English names are the canonical keys
    return {
        "image": project["sources"][row["record_id"]],
        "keys": {k: row_fields.get(k) for k in row["canonical_keys"]},
    }


@pytest.fixture(scope="module")
def served(project):
    return mlflow.pyfunc.load_model(project["uri"])


def test_the_registered_version_carries_the_recipe_the_model_was_evaluated_with(project):
    from medvie.registry.recipe import Recipe

    reg = project["registered"]
    assert reg["aliases"] == {"champion": reg["version"], "challenger": reg["version"]}
    assert reg["decision"]["why"] == "no champion yet" and reg["promotion"]["action"] == "gate"
    path = mlflow.artifacts.download_artifacts(f"models:/{NAME}/{reg['version']}")
    recipe = Recipe.read(Path(path) / "artifacts" / "recipe.json")
    assert recipe == Recipe.from_params(project["params"], project["root"])
    assert recipe.queries == {
        "thinking": True,
        "text_hints": "ocr",
        "hint_positions": False,
        "hint_max_lines": 200,
        "key_language": "en",
        "key_aliases": True,
    }
    assert recipe.text == {
        "engine": "tesseract",
        "languages": ["eng"],
        "psm": 3,
        "min_confidence": 0.0,
        "timeout_s": 120,
    }
    greedy = {
        "do_sample": False,
        "temperature": 1.0,
        "top_p": 1.0,
        "top_k": 50,
        "repetition_penalty": 1.0,
        "num_beams": 1,
    }
    assert recipe.generation.model_dump() == {
        "max_new_tokens": 48,
        "batch_size": 4,
        "device": "cpu",
        "dtype": "auto",
        "decoding": greedy,
    }
    assert recipe.schema_ == json.loads(SCHEMA.read_text(encoding="utf-8"))


def test_pyfunc_asks_the_evaluate_prompts_and_gives_its_answers_byte_for_byte(project, served, tmp_path):
    rows = project["rows"]
    assert {r["strategy"] for r in rows} == {"subset", "all"} and len(rows) == 2 * len(REPORTS)
    requests = [request(project, r) for r in rows]

    queries = served.unwrap_python_model().extractor.queries_for(requests, tmp_path)
    assert [q["prompt"] for q in queries] == [r["prompt"] for r in rows]
    assert all(HINTS_HEAD in r["prompt"][0]["content"][1]["text"] for r in rows)  # OCR ran inside serving
    for q, r in zip(queries, rows, strict=True):  # the source image normalised as ingest did: the same pixels
        with Image.open(q["image_path"]) as got, Image.open(r["image_path"]) as want:
            assert got.size == want.size and got.convert("RGB").tobytes() == want.convert("RGB").tobytes()

    out = served.predict(requests)
    assert [o["raw"] for o in out] == [project["answers"][r["id"]] for r in rows]
    assert all(isinstance(o["raw"], str) and o["raw"] for o in out)


def test_extract_command_gives_the_evaluate_answers(project):
    import typer
    from typer.testing import CliRunner

    from medvie.cli.registry import register

    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    runner = CliRunner()
    rows = {r["id"]: r for r in project["rows"]}
    images = [project["sources"][f"r{i}"] for i in range(len(REPORTS))]

    every = runner.invoke(app, ["extract", *images, "--model", project["uri"], "--raw"])
    assert every.exit_code in (0, 1), every.output  # 1: no image gave JSON (a tiny model may not)
    lines = [json.loads(line) for line in every.stdout.splitlines()]
    assert [ln["image"] for ln in lines] == images
    assert [ln["raw"] for ln in lines] == [project["answers"][f"r{i}:all:0"] for i in range(len(REPORTS))]

    subset = rows["r1:subset:0"]
    keys = json.dumps(request(project, subset)["keys"])
    one = runner.invoke(app, ["extract", images[1], "--model", project["uri"], "--keys", keys, "--raw"])
    assert json.loads(one.stdout.splitlines()[0])["raw"] == project["answers"][subset["id"]], one.output


def test_bad_requests_fail_alone(project, served, tmp_path):
    good = request(project, project["rows"][0])
    (tmp_path / "bad.png").write_bytes(b"not an image")
    png = Path(good["image"]).read_bytes()
    out = served.predict(
        [
            {"image": str(tmp_path / "bad.png")},
            {"image": "definitely-missing.png"},
            {"image": good["image"], "keys": ["NoSuchKey"]},
            {"image": good["image"], "keys": {"Name": ["Result"]}},
            good,
            {"image": base64.b64encode(png).decode(), "keys": json.dumps(good["keys"])},
        ]
    )
    assert out[0]["ok"] is False and "not a readable image" in out[0]["error"]
    assert "file not found" in out[1]["error"]
    assert "NoSuchKey" in out[2]["error"] and "cannot be asked" in out[3]["error"]
    assert out[4]["raw"] == out[5]["raw"] == project["answers"][project["rows"][0]["id"]]


def test_mlflow_models_serve_gives_the_evaluate_answers(project, store):
    row = next(r for r in project["rows"] if r["strategy"] == "subset")
    req = request(project, row)
    image = base64.b64encode(Path(req["image"]).read_bytes()).decode()
    with ModelServer(project["uri"], store) as server:
        preds = server.invoke(
            [{"image": image, "keys": json.dumps(req["keys"])}, {"image": "definitely-missing.png"}]
        )
    assert len(preds) == 2
    assert preds[0]["raw"] == project["answers"][row["id"]]
    assert preds[1]["ok"] is False and "not found" in preds[1]["error"]
