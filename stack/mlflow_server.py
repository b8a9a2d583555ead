"""The MLflow tracking server: PostgreSQL backend, served artifacts, basic auth with the champion rule.

Users: `admin` (the auth app's bootstrap admin), `trainer` (logs runs, registers versions, moves
`challenger`), `reviewer` (moves `champion`). The admin creates the project's experiments and registered
model up front and grants both users EDIT on them, so whoever acts first does not end up sole owner.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from medvie.errors import MedvieError
from stack import procs
from stack.config import HOST, Stack
from stack.postgres import AUTH_SCHEMA

NAME = "mlflow"
EXPERIMENTS = ("medvie", "medvie-registry")  # training runs, registry audit events
REVIEWERS = ("reviewer",)


def backend_uri(stack: Stack, sec: dict[str, str]) -> str:
    # SQLAlchemy 2.1 defaults to psycopg 3; the stack extra installs psycopg2
    return stack.pg_url("mlflow", sec["PG_MLFLOW_PASSWORD"], "mlflow", "postgresql+psycopg2")


def write_auth_ini(stack: Stack, sec: dict[str, str]) -> None:
    from stack.config import write_private

    # `%` doubled: MLflow reads this file with configparser interpolation
    auth_db = backend_uri(stack, sec) + f"?options=-csearch_path%%3D{AUTH_SCHEMA}"
    stack.auth_ini.parent.mkdir(parents=True, exist_ok=True)
    body = (
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {auth_db}\n"
        "admin_username = admin\n"
        "authorization_function = stack.mlflow_auth:authenticate\n"
        "grant_default_workspace_access = false\n"
        # PBKDF2 per request capped the server at ~10 metrics/s under 20 clients; a cached check is
        # ~3x faster, and a changed password may still work for up to this long
        "auth_cache_ttl_seconds = 60\n"
        "\n[medvie]\n"
        "protected_aliases = champion\n"
        f"reviewers = {', '.join(REVIEWERS)}\n"
    )
    # reuse the private writer: the file holds the database password
    write_private(stack.auth_ini, {}, "MLflow basic-auth config, written by `make stack`")
    with stack.auth_ini.open("a", encoding="utf-8") as fh:
        fh.write(body)


def server_env(stack: Stack, sec: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING_", "PREFECT_API_"))}
    env.update(
        MLFLOW_BACKEND_STORE_URI=backend_uri(stack, sec),
        MLFLOW_AUTH_CONFIG_PATH=str(stack.auth_ini),
        MLFLOW_AUTH_ADMIN_PASSWORD=sec["MLFLOW_ADMIN_PASSWORD"],
        MLFLOW_FLASK_SERVER_SECRET_KEY=sec["MLFLOW_FLASK_SECRET_KEY"],
        MLFLOW_ENABLE_TELEMETRY="false",
        DO_NOT_TRACK="1",
        # the auth app imports `stack.mlflow_auth` from the project
        PYTHONPATH=os.pathsep.join(filter(None, [str(stack.root), os.environ.get("PYTHONPATH")])),
    )
    return env


def healthy(stack: Stack) -> bool:
    return procs.http_ok(f"{stack.mlflow_url}/health")


def start(stack: Stack, sec: dict[str, str], workers: int = 2) -> bool:
    """Start the server unless it answers already; False if it was running."""
    if procs.running_pid(stack, NAME) and healthy(stack):
        return False
    procs.stop(stack, NAME)  # a stale process that does not answer
    write_auth_ini(stack, sec)
    stack.artifacts.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        HOST,
        "--port",
        str(stack.mlflow_port),
        "--workers",
        str(workers),
        "--serve-artifacts",
        "--artifacts-destination",
        str(stack.artifacts),  # production: s3://bucket/prefix, same flag
        "--app-name",
        "basic-auth",
    ]
    proc = procs.start(stack, NAME, cmd, server_env(stack, sec))
    procs.wait_for(
        f"MLflow server at {stack.mlflow_url}",
        lambda: healthy(stack),
        timeout=180,
        log=stack.logs / f"{NAME}.log",
        pid=proc.pid,
    )
    return True


@contextlib.contextmanager
def acting_as(stack: Stack, user: str, sec: dict[str, str]) -> Iterator[None]:
    """MLflow's clients read credentials from the environment: set them for the block only."""
    keys = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(
        MLFLOW_TRACKING_URI=stack.mlflow_url,
        MLFLOW_TRACKING_USERNAME=user,
        MLFLOW_TRACKING_PASSWORD=sec[f"MLFLOW_{user.upper()}_PASSWORD"],
    )
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def bootstrap(stack: Stack, sec: dict[str, str], model_name: str) -> list[str]:
    """Users, experiments, the registered model and the grants; each only when missing."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient

    done = []
    with acting_as(stack, "admin", sec):
        auth = AuthServiceClient(stack.mlflow_url)
        client = MlflowClient(stack.mlflow_url, stack.mlflow_url)
        for user in ("trainer", "reviewer"):
            try:
                auth.get_user(user)
            except MlflowException:
                auth.create_user(user, sec[f"MLFLOW_{user.upper()}_PASSWORD"])
                done.append(f"user {user}")
        exp_ids = {}
        for name in EXPERIMENTS:
            exp = client.get_experiment_by_name(name)
            exp_ids[name] = exp.experiment_id if exp else client.create_experiment(name)
        if not client.search_registered_models(f"name = '{model_name}'"):
            client.create_registered_model(model_name, description="medvie extractor (team stack)")
            done.append(f"model {model_name}")
        grants = [
            ("trainer", "experiment", exp_ids["medvie"], "EDIT"),
            ("trainer", "experiment", exp_ids["medvie-registry"], "EDIT"),
            ("trainer", "registered_model", model_name, "EDIT"),
            ("reviewer", "experiment", exp_ids["medvie-registry"], "EDIT"),
            ("reviewer", "registered_model", model_name, "EDIT"),
        ]
        for user, kind, rid, level in grants:
            if _granted(auth, user, kind, rid) != level:
                auth.grant_user_permission(user, kind, rid, level)
                done.append(f"{user} {level} on {kind} {rid}")
    return done


def _granted(auth, user: str, kind: str, rid: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        result = auth.get_user_permission(user, kind, rid)
    except MlflowException:
        return None
    perm = getattr(result, "permission", None)
    return getattr(perm, "permission", perm) if perm is not None else None


def stop(stack: Stack) -> bool:
    return procs.stop(stack, NAME)


def require(stack: Stack) -> None:
    if not healthy(stack):
        raise MedvieError(f"MLflow server at {stack.mlflow_url} is not answering; run `make stack`")
