"""`python -m stack up|down|status` — the team stack on this host (docs/team.md).

up      start what is not running (idempotent): PostgreSQL, MLflow, Prefect server, pool, worker,
        deployments, DVC remote of this checkout
down    stop everything; state stays in .stack/ (a later `up` carries on)
status  what runs, where
"""

from __future__ import annotations

import argparse
import sys
import time

from medvie.env import apply_defaults
from medvie.errors import MedvieError
from medvie.registry.promotion import register_config
from stack import dvc_remote, mlflow_server, postgres, prefect_server, procs
from stack.config import USERS, WORK_POOL, Stack, load_secrets, write_client_envs


def say(msg: str) -> None:
    print(f"stack: {msg}", flush=True)


def up(stack: Stack, *, deploy: bool = True) -> dict[str, float]:
    """Bring every service up; returns seconds per step."""
    times: dict[str, float] = {}
    t = time.monotonic()
    sec = load_secrets(stack)
    write_client_envs(stack, sec)
    if postgres.init(stack, sec["PG_SUPERUSER_PASSWORD"]):
        say(f"PostgreSQL cluster created in {stack.pg_data}")
    say(
        "PostgreSQL "
        + ("started" if postgres.start(stack) else "already running")
        + f" on port {stack.pg_port}"
    )
    created = postgres.ensure_databases(stack, sec)
    say(f"databases mlflow, prefect ready{' (created: ' + ', '.join(created) + ')' if created else ''}")
    times["postgres"] = time.monotonic() - t

    t = time.monotonic()
    started = mlflow_server.start(stack, sec)
    say(f"MLflow server {'started' if started else 'already running'} at {stack.mlflow_url}")
    for what in mlflow_server.bootstrap(stack, sec, register_config(stack.root).name):
        say(f"MLflow: created {what}")
    times["mlflow"] = time.monotonic() - t

    t = time.monotonic()
    started = prefect_server.start_server(stack, sec)
    say(f"Prefect server {'started' if started else 'already running'} at {stack.prefect_api}")
    if prefect_server.ensure_pool(stack, sec):
        say(f"Prefect: created process work pool {WORK_POOL}")
    if prefect_server.ensure_zombie_automation(stack, sec):
        say("Prefect: created the automation that marks runs without heartbeats Crashed")
    if deploy:
        names = prefect_server.deploy(stack, sec)
        say(f"Prefect: {len(names)} deployments on pool {WORK_POOL}: {', '.join(names)}")
    worker = prefect_server.start_worker(stack, sec)
    say(f"Prefect worker {'started' if worker else 'already running'} (MLflow user trainer)")
    times["prefect"] = time.monotonic() - t

    if dvc_remote.configure(stack.root, stack.dvc_remote):
        say(f"DVC: default remote '{dvc_remote.REMOTE}' -> {stack.dvc_remote} (.dvc/config.local)")
    say(f"clients: set -a; . {stack.env_file('trainer')}; set +a   (also {', '.join(USERS)})")
    return times


def down(stack: Stack) -> None:
    for name in prefect_server.stop_workers(stack):
        say(f"stopped {name}")
    if prefect_server.stop_server(stack):
        say("stopped Prefect server")
    if mlflow_server.stop(stack):
        say("stopped MLflow server")
    if postgres.stop(stack):
        say("stopped PostgreSQL (fast shutdown: committed data is kept)")
    say(f"state kept in {stack.dir}")


def status(stack: Stack) -> int:
    sec = load_secrets(stack) if stack.secrets_file.exists() else None
    rows = [
        ("postgres", postgres.is_running(stack), f"127.0.0.1:{stack.pg_port}"),
        ("mlflow", mlflow_server.healthy(stack), stack.mlflow_url),
        ("prefect-server", bool(sec) and prefect_server.healthy(stack, sec), stack.prefect_api),
        ("prefect-worker-1", procs.running_pid(stack, "prefect-worker-1") is not None, WORK_POOL),
    ]
    for name, ok, where in rows:
        print(f"{name:18} {'up' if ok else 'down':5} {where}")
    return 0 if all(ok for _, ok, _ in rows) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stack", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["up", "down", "status"])
    args = ap.parse_args(argv)
    apply_defaults()
    stack = Stack.here()
    try:
        if args.command == "up":
            t = time.monotonic()
            up(stack)
            say(f"up in {time.monotonic() - t:.0f}s")
        elif args.command == "down":
            down(stack)
        else:
            return status(stack)
    except MedvieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
