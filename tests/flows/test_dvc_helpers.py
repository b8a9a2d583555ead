"""DVC subprocess helpers: stage order, failure messages, transient classification."""

from __future__ import annotations

import pytest

from flows import _dvc
from flows._report import metrics_markdown
from medvie.errors import MedvieError

DVC_FAILURE = """\
loading the model ...
error: params.yaml 'fail' is hard; set it to none
ERROR: failed to reproduce 'evaluate': failed to run: python step.py evaluate, exited with 1
"""


def test_failure_message_is_the_stage_line_not_dvcs():
    assert _dvc.failure_message(DVC_FAILURE) == "error: params.yaml 'fail' is hard; set it to none"


def test_failure_message_falls_back_to_dvcs_first_error_line():
    stderr = (
        "ERROR: failed to reproduce 'b':  output 'b.txt' is already tracked by SCM (e.g. Git).\n"
        "    You can remove it from Git, then add to DVC.\n"
    )
    assert (
        _dvc.failure_message(stderr)
        == "failed to reproduce 'b':  output 'b.txt' is already tracked by SCM (e.g. Git)."
    )


def test_dvcs_own_error_wins_over_an_earlier_stages_progress_output():
    stderr = (
        "ocr: 0page [00:00, ?page/s]\n"
        "ERROR: failed to reproduce 'model': [Errno 2] No such file or directory: 'pretrained/tiny'\n"
    )
    assert _dvc.failure_message(stderr) == (
        "failed to reproduce 'model': [Errno 2] No such file or directory: 'pretrained/tiny'"
    )


@pytest.mark.parametrize(
    ("stderr", "code", "transient"),
    [
        (DVC_FAILURE, 255, False),
        ("ERROR: Unable to acquire lock. Most likely another DVC process is running", 255, True),
        (
            "ERROR: failed to reproduce 'train': failed to run: python -m stages.train, exited with -9",
            255,
            True,
        ),
        ("sqlite3.OperationalError: database is locked\nERROR: failed to reproduce 'x'", 255, True),
    ],
)
def test_transient_classification(stderr, code, transient):
    assert _dvc.is_transient(stderr, code) is transient


def test_topological_order_breaks_ties_by_file_order_and_rejects_cycles():
    dot = (
        'strict digraph {\n"evaluate";\n"register";\n"prepare";\n"train";\n"aux";\n'
        '"evaluate" -> "register";\n"prepare" -> "train";\n"train" -> "evaluate";\n}\n'
    )
    assert _dvc.topological(*_dvc.parse_dot(dot)) == ["prepare", "train", "evaluate", "register", "aux"]
    with pytest.raises(MedvieError, match="cycle"):
        _dvc.topological(["a", "b"], [("a", "b"), ("b", "a")])


def test_stage_order_comes_from_the_projects_dvc_yaml(fake):
    assert _dvc.stage_order(fake.root) == ["prepare", "train", "evaluate", "register"]


def test_set_param_values_use_override_syntax():
    assert [_dvc.format_value(v) for v in (True, None, 0.3, "fuzzy", [1.0, 2.0])] == [
        "true",
        "null",
        "0.3",
        "fuzzy",
        "[1.0, 2.0]",
    ]


def test_metrics_markdown_tabulates_models_by_metric():
    md = metrics_markdown(
        {"metrics/eval.json": {"grpo": {"f1": 0.81234, "per_key": {}}, "base": {"f1": 0.2}, "n": 20}}
    )
    assert "| | f1 |" in md.replace("|  |", "| |")
    assert "| grpo | 0.8123 |" in md and "| base | 0.2 |" in md and "| n | 20 |" in md
