"""The stack's pieces that need no server: the champion rule, secrets, DVC remote paths, params overlay."""

from __future__ import annotations

import json
import stat

import pytest
import yaml
from flask import Flask

from stack import check, dvc_remote, faults, mlflow_auth
from stack.config import SECRET_KEYS, Stack, client_env, load_secrets, read_env_file

ROUTE = "/api/2.0/mlflow/registered-models/alias"


@pytest.fixture
def rules(tmp_path, monkeypatch):
    ini = tmp_path / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\ndatabase_uri = x%%3Dy\n\n[medvie]\nprotected_aliases = champion\nreviewers = reviewer\n"
    )
    monkeypatch.setenv("MLFLOW_AUTH_CONFIG_PATH", str(ini))
    mlflow_auth.rules.cache_clear()
    monkeypatch.setattr(mlflow_auth, "is_admin", lambda user: user == "admin")
    yield
    mlflow_auth.rules.cache_clear()


@pytest.mark.parametrize(
    ("user", "alias", "allowed"),
    [
        ("trainer", "champion", False),
        ("trainer", "challenger", True),
        ("reviewer", "champion", True),
        ("admin", "champion", True),
        ("stranger", "champion", False),
    ],
)
def test_champion_rule(rules, user, alias, allowed):
    assert mlflow_auth.may_move(user, alias) is allowed


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_alias_requests_are_recognised(rules, method):
    app = Flask(__name__)
    with app.test_request_context(ROUTE, method=method, json={"name": "medvie", "alias": "champion"}):
        assert mlflow_auth.requested_alias() == "champion"
    with app.test_request_context(ROUTE, method="DELETE", query_string={"alias": "champion"}):
        assert mlflow_auth.requested_alias() == "champion"
    with app.test_request_context(
        "/api/2.0/mlflow/runs/log-batch", method="POST", json={"alias": "champion"}
    ):
        assert mlflow_auth.requested_alias() is None


def test_refusal_is_mlflows_permission_denied(rules):
    app = Flask(__name__)
    with app.test_request_context(ROUTE, method="POST"):
        resp = mlflow_auth.denied("trainer", "champion")
    body = json.loads(resp.get_data())
    assert resp.status_code == 403 and body["error_code"] == "PERMISSION_DENIED"
    assert "trainer" in body["message"] and "reviewer" in body["message"]


def test_secrets_generated_once_private_and_complete(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDVIE_STACK_DIR", str(tmp_path / ".stack"))
    stack = Stack.here(tmp_path)
    first = load_secrets(stack)
    assert set(SECRET_KEYS) <= set(first) and len(set(first.values())) == len(first)
    assert stat.S_IMODE(stack.secrets_file.stat().st_mode) == 0o600
    assert load_secrets(stack) == first == read_env_file(stack.secrets_file)
    env = client_env(stack, "trainer", first)
    assert env["MLFLOW_TRACKING_USERNAME"] == "trainer" and env["MLFLOW_TRACKING_URI"].startswith(
        "http://127.0.0.1:"
    )


def test_ports_and_state_dir_are_overridable(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDVIE_STACK_MLFLOW_PORT", "6001")
    monkeypatch.delenv("MEDVIE_STACK_DIR", raising=False)
    stack = Stack.here(tmp_path)
    assert stack.mlflow_url == "http://127.0.0.1:6001" and stack.dir == tmp_path.resolve() / ".stack"


def test_dvc_local_remote_compared_resolved(tmp_path):
    remote = tmp_path / ".stack" / "dvc-remote"
    assert dvc_remote.same_url(tmp_path, "../.stack/dvc-remote", str(remote))
    assert not dvc_remote.same_url(tmp_path, "../elsewhere", str(remote))
    assert dvc_remote.same_url(tmp_path, "s3://bucket/x", "s3://bucket/x")


def test_short_params_overlay_is_valid(tmp_path):
    from medvie.settings import load_params

    params = tmp_path / "params.yaml"
    params.write_text((check.Path(__file__).resolve().parents[2] / "params.yaml").read_text())
    check.set_params(params, check.SHORT_PARAMS)
    loaded = load_params(params)
    assert loaded.train.grpo["max_steps"] == 2 and loaded.queries.test_max == 4
    assert yaml.safe_load(params.read_text())["data"]["holdout_families"] == []


def test_pulled_clone_may_lack_only_the_unpushed_feature_cache():
    only_cache = {"select": [{"changed outs": {check.UNPUSHED: "deleted"}}]}
    assert check.to_reproduce(only_cache) == {}
    more = {"select": [{"changed outs": {check.UNPUSHED: "deleted", "data/selected.jsonl": "deleted"}}]}
    assert check.to_reproduce(more) == more
    deps = {"train": [{"changed deps": {"params.yaml": "modified"}}]}
    assert check.to_reproduce({**only_cache, **deps}) == deps
    assert check.to_reproduce({"select": ["changed command"]}) == {"select": ["changed command"]}


def test_fault_failure_is_one_error_line_naming_the_server():
    url = "http://127.0.0.1:5050"
    msg = f"error: MLflow tracking server {url} stopped answering at step 2; checkpoints are kept"
    assert faults.is_one_line_error(f"INFO step 1\n{msg}\n", url)
    # a progress bar interrupted mid-line: the error follows its last update on the same line
    bar = " 33%|###       | 2/6 [00:28<00:57, 14.36s/it]"
    assert faults.error_lines(f"{bar}\r{bar}{msg}\n{bar}\n") == [msg]
    assert faults.is_one_line_error(f"{bar}{msg}\n{bar}", url)
    assert not faults.is_one_line_error("Traceback (most recent call last):\n" + msg, url)
    assert not faults.is_one_line_error(msg.replace(url, "the server"), url)
    assert not faults.is_one_line_error(f"{msg}\n{msg}\n", url)
    assert not faults.is_one_line_error("killed\n", url)


def test_process_groups_include_a_child_in_its_own_session():
    import os
    import subprocess
    import sys

    code = "import subprocess,sys,time; subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)'],"
    code += " start_new_session=True); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        groups = faults.wait_until(
            "child started", lambda: (g := faults.process_groups(parent.pid)) and len(g) == 2 and g, 20, 0.1
        )
        assert parent.pid in groups
        faults.kill_groups(groups)
        parent.wait(timeout=10)
        faults.wait_until("all gone", lambda: not any(faults.procs.alive(g) for g in groups), 10, 0.1)
    finally:
        for g in faults.process_groups(parent.pid) | {parent.pid}:
            try:
                os.killpg(g, 9)
            except ProcessLookupError:
                pass


def test_wait_until_reports_the_last_error():
    def boom():
        raise RuntimeError("connection refused\nmore")

    with pytest.raises(faults.FaultFailed, match="connection refused"):
        faults.wait_until("probe", boom, 0.3, 0.1)
