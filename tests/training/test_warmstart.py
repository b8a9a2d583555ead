"""Warm start: the transcription/extraction mix, the SFT output, the pointer for real models."""

from __future__ import annotations

import json
import shutil

import pytest

from medvie.errors import DataError
from medvie.settings import parse_params
from medvie.training.warmstart import build_examples, run_warmstart, transcription_target


def _ws(**kw):
    return parse_params({"warmstart": kw}).warmstart


def _files(root):
    return root / "data" / "queries" / "train.jsonl", root / "data" / "ingested" / "records.jsonl"


@pytest.mark.parametrize(("share", "n_trans", "n_ext"), [(0.0, 0, 8), (1.0, 8, 0), (0.5, 8, 8), (0.2, 2, 8)])
def test_mix_follows_transcription_share(tmp_path, make_queries, share, n_trans, n_ext):
    make_queries(tmp_path)
    examples, counts = build_examples(*_files(tmp_path), _ws(transcription_share=share))
    assert (counts["transcription"], counts["extraction"]) == (n_trans, n_ext)
    texts = [e["completion"][0]["content"][0]["text"] for e in examples]
    assert sum(t.startswith("<think>") and t.endswith("</answer>") for t in texts) == n_ext
    assert sum(t.startswith("LAB REPORT\nName: P") for t in texts) == n_trans


def test_extraction_without_thinking_has_answer_only(tmp_path, make_queries):
    make_queries(tmp_path, thinking=False)
    examples, _ = build_examples(*_files(tmp_path), _ws(transcription_share=0))
    text = examples[0]["completion"][0]["content"][0]["text"]
    assert text.startswith("<answer>{") and json.loads(text[len("<answer>") : -len("</answer>")])["Name"]


def test_transcription_cut_at_a_line_end():
    layer = [{"text": "a" * 10}, {"text": "b" * 10}, {"text": "c" * 10}]
    assert transcription_target(layer, 25) == "a" * 10 + "\n" + "b" * 10


def test_transcription_without_text_layer_is_a_data_error(tmp_path, make_queries):
    make_queries(tmp_path)
    queries, records = _files(tmp_path)
    records.unlink()
    with pytest.raises(DataError, match="transcription_share: 0"):
        build_examples(queries, records, _ws(transcription_share=0.5))


def test_tiny_sft_writes_a_loadable_checkpoint(tmp_path, untrained_tiny, make_queries):
    from medvie.modeling.loading import load

    make_queries(tmp_path)
    shutil.copytree(untrained_tiny, tmp_path / "models" / "base")
    params = parse_params({"warmstart": {"steps": 2, "batch_size": 2}})
    out = tmp_path / "models" / "warmstart"
    summary = run_warmstart(
        params.warmstart,
        params.model,
        base_dir=tmp_path / "models" / "base",
        queries_dir=tmp_path / "data" / "queries",
        records_file=_files(tmp_path)[1],
        out_dir=out,
        work_dir=tmp_path / "build" / "warmstart",
    )
    assert summary["enabled"] and len(summary["loss"]) == 2
    assert (out / "config.json").exists() and not (out / "medvie_model.json").exists()
    model, _ = load(str(out))
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"


def test_real_model_gets_a_pointer_to_the_base(tmp_path, untrained_tiny):
    shutil.copytree(untrained_tiny, tmp_path / "models" / "base")
    params = parse_params({"model": {"name_or_path": "Qwen/Qwen2.5-VL-7B-Instruct"}})
    out = tmp_path / "models" / "warmstart"
    summary = run_warmstart(
        params.warmstart,
        params.model,
        base_dir=tmp_path / "models" / "base",
        queries_dir=tmp_path / "data" / "queries",
        records_file=_files(tmp_path)[1],
        out_dir=out,
        work_dir=tmp_path / "build",
    )
    assert summary == {"enabled": False}
    assert json.loads((out / "medvie_model.json").read_text()) == {"base": "../base", "adapter": None}


def test_pointer_chains_are_flattened(tmp_path):
    from medvie.training.pointers import resolve_base, write_pointer

    (tmp_path / "base").mkdir()
    (tmp_path / "hub").mkdir()
    write_pointer(tmp_path / "hub", "Qwen/Qwen2.5-VL-7B-Instruct")
    (tmp_path / "ws").mkdir()
    write_pointer(tmp_path / "ws", str(tmp_path / "base"))
    assert resolve_base(tmp_path / "ws") == str((tmp_path / "base").resolve())
    assert resolve_base(tmp_path / "hub") == "Qwen/Qwen2.5-VL-7B-Instruct"
