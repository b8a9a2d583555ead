"""A tracking server that refuses an alias move: one-line error for `promote`, "not moved" for the gate."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from mlflow.exceptions import MlflowException, RestException

from medvie.registry.promotion import (
    RegistryPermissionError,
    gate_and_promote,
    permission_error,
    promote,
)

URI = "http://127.0.0.1:5050"
DENIED = {"error_code": "PERMISSION_DENIED", "message": "user 'trainer' may not move alias 'champion'"}


class Registry:
    """The calls promotion makes, with `champion` refused as the stack's server refuses it."""

    tracking_uri = URI

    def __init__(self):
        self.aliases = {"challenger": "2"}
        self.versions = {"1": {}, "2": {"metrics.f1": "0.5", "test_set_hash": "h"}}

    def get_model_version(self, name, version):
        if version not in self.versions:
            raise MlflowException("no such version")
        return SimpleNamespace(version=version, tags=self.versions[version])

    def get_model_version_by_alias(self, name, alias):
        if alias not in self.aliases:
            raise MlflowException("no alias")
        return self.get_model_version(name, self.aliases[alias])

    def set_registered_model_alias(self, name, alias, version):
        if alias == "champion":
            raise RestException(DENIED)
        self.aliases[alias] = version

    def set_model_version_tag(self, *a):
        pass

    def set_registered_model_tag(self, *a):
        pass

    def get_registered_model(self, name):
        return SimpleNamespace(tags={})


def test_promote_refused_is_one_line_naming_server_user_and_fix(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "trainer")
    reg = Registry()
    with pytest.raises(RegistryPermissionError) as err:
        promote("medvie", "champion", "2", "try", client=reg)
    msg = str(err.value)
    assert (
        "\n" not in msg and URI in msg and "'trainer'" in msg and "may not move" in msg and "reviewer" in msg
    )
    assert "champion" not in reg.aliases


def test_gate_passes_but_leaves_champion_to_a_reviewer(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "trainer")
    decision = gate_and_promote("medvie", client=Registry())
    assert decision["promoted"] is False and decision["champion"] is None
    assert (
        decision["why"].startswith("no champion yet; passed but not moved")
        and "may not move" in decision["why"]
    )


def test_other_alias_moves_still_work():
    reg = Registry()
    promote("medvie", "challenger", "1", "test", client=reg)
    assert reg.aliases["challenger"] == "1"


def test_only_refusals_become_permission_errors():
    assert permission_error(RestException(DENIED), URI, "m", "champion") is not None
    unauth = RestException({"error_code": "UNAUTHENTICATED", "message": "who?"})
    assert "MLFLOW_TRACKING_PASSWORD" in str(permission_error(unauth, URI, "m", "champion"))
    assert permission_error(MlflowException("connection refused"), URI, "m", "champion") is None
