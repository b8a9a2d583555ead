"""A real MLflow tracking + registry store on a temporary SQLite database, one per test module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """`sqlite:///<tmp>/mlflow.db` (artifacts in `<tmp>/mlruns`), named by the MLflow variables every client,
    stage and served model reads."""
    from medvie.registry.promotion import registry_client

    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    uri = f"sqlite:///{path}"
    registry_client(uri).search_experiments()  # creates the tables
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("MLFLOW_REGISTRY_URI", uri)
        yield uri
        import mlflow

        # registering sets MLflow's process-wide URIs: forget them before the environment is restored
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
