"""Deployments and their schedules; one command starts a local Prefect server and serves them all.

    python -m flows.deploy serve [--port 4200]     # server on 127.0.0.1 + runner for every deployment
    python -m flows.deploy serve --api-url URL     # serve against a server that already runs
    python -m flows.deploy list                    # what would be deployed, with schedules
    python -m flows.deploy deploy --pool NAME      # register them with a work pool (workers run them)

`serve` keeps one process running every flow; `deploy` is the team setup (docs/team.md): the deployments
live on the server and any worker of the process pool picks up their runs, in `--working-dir`.

Schedules: nightly retrain (a no-op unless `dvc status` sees a change, e.g. new labelled data
in the source folder) and a weekly reward sweep. Pipeline, promotion, rollback and a
healthcheck are deployed without a schedule, to be triggered by hand or by automations.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.types.entrypoint import EntrypointType

import flows._setup  # noqa: F401  (environment defaults before Prefect loads its settings)
from flows import _dvc
from flows.pipeline import pipeline
from flows.promote import gate_flow, promote_flow, rollback_flow
from flows.sweep import sweep
from medvie.env import project_root

NIGHTLY_CRON = "0 2 * * *"  # 02:00 every day
WEEKLY_CRON = "0 3 * * 6"  # 03:00 every Saturday
DEFAULT_PORT = 4200
HOST = "127.0.0.1"


@flow(name="medvie-retrain")
def retrain(force: bool = False, root: str | None = None) -> dict[str, Any]:
    """Run the pipeline only if DVC sees a change (new labelled data, params, code)."""
    root = str(Path(root).resolve() if root else project_root())
    changed = _dvc.status(Path(root))
    if not changed and not force:
        get_run_logger().info("dvc status: everything up to date; nothing to retrain")
        return {"ran": False, "changed": {}}
    get_run_logger().info(f"dvc status: changed stages {sorted(changed)}")
    return {"ran": True, "changed": sorted(changed), "result": pipeline(root=root)}


@flow(name="medvie-healthcheck")
def healthcheck(sleep_s: float = 0.0) -> dict[str, str]:
    """Trivial deployment that proves the server → runner → flow path works; `sleep_s` keeps it running
    (heartbeats included) that long, for the stack's worker-failure drill (`make stack-faults`)."""
    if sleep_s > 0:
        time.sleep(sleep_s)
    return {"status": "ok", "root": str(project_root())}


def deployments(
    nightly_cron: str = NIGHTLY_CRON, weekly_cron: str = WEEKLY_CRON, job_variables: dict | None = None
) -> list:
    """Every deployment of the project (RunnerDeployment objects, not yet registered).

    Module-path entrypoints: a process worker imports the flows from its working directory, so a work
    pool needs no code storage (`job_variables={"working_dir": ...}` names the checkout)."""
    module = EntrypointType.MODULE_PATH  # runs from the project root, independent of file paths
    common: dict[str, Any] = {"entrypoint_type": module, "job_variables": job_variables}
    return [
        retrain.to_deployment(
            "nightly", cron=nightly_cron, description="Retrain when DVC sees new data or changes", **common
        ),
        sweep.to_deployment(
            "weekly",
            cron=weekly_cron,
            description="Reward-configuration sweep; promotes the best if better",
            **common,
        ),
        pipeline.to_deployment("manual", description="Full pipeline, now", **common),
        gate_flow.to_deployment("manual", **common),
        promote_flow.to_deployment("manual", **common),
        rollback_flow.to_deployment("manual", **common),
        healthcheck.to_deployment("healthcheck", **common),
    ]


def deploy_to_pool(
    pool: str,
    working_dir: str | None = None,
    nightly_cron: str = NIGHTLY_CRON,
    weekly_cron: str = WEEKLY_CRON,
) -> list[str]:
    """Register every deployment with work pool `pool` on the server $PREFECT_API_URL names; idempotent
    (a deployment is updated in place). Returns `flow/deployment` names."""
    from prefect import deploy

    job_variables = {"working_dir": str(Path(working_dir or project_root()).resolve())}
    found = deployments(nightly_cron, weekly_cron, job_variables=job_variables)
    deploy(*found, work_pool_name=pool, build=False, push=False, print_next_steps_message=False)
    return [f"{d.flow_name}/{d.name}" for d in found]


def wait_healthy(api_url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll `<api>/health` until it answers; fail early if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"prefect server at {api_url} not healthy after {timeout:.0f}s")


def server_command(port: int, *, ui: bool = True) -> list[str]:
    """`prefect server start` on loopback, with this Python (the project's environment)."""
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)]
    return [*cmd, "--analytics-off", "--ui" if ui else "--no-ui"]


def start_server(port: int, *, ui: bool = True, own_group: bool = False) -> subprocess.Popen:
    """`prefect server start` on loopback; `own_group` puts it in a new process group (stop it whole)."""
    return subprocess.Popen(
        server_command(port, ui=ui), stdin=subprocess.DEVNULL, start_new_session=own_group
    )


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM (the whole group if `proc` leads one), then SIGKILL after `timeout` seconds."""
    if proc.poll() is not None:
        return

    def send(sig: int) -> None:
        try:
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait()


def _terminate_gracefully(signum, frame) -> None:
    raise KeyboardInterrupt  # so `finally` stops the server; Prefect's runner shuts down on it too


def serve(
    api_url: str | None = None,
    port: int = DEFAULT_PORT,
    ui: bool = True,
    nightly_cron: str = NIGHTLY_CRON,
    weekly_cron: str = WEEKLY_CRON,
) -> None:
    """Start a server (unless `api_url` names a running one) and serve every deployment."""
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    signal.signal(signal.SIGTERM, _terminate_gracefully)
    server = None
    if api_url is None:
        api_url = f"http://{HOST}:{port}/api"
        server = start_server(port, ui=ui)
    try:
        wait_healthy(api_url, proc=server)
        os.environ["PREFECT_API_URL"] = api_url  # flow-run subprocesses inherit it
        print(
            f"Prefect API: {api_url}" + (f"  UI: http://{HOST}:{port}" if server and ui else ""), flush=True
        )
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            prefect_serve(*deployments(nightly_cron, weekly_cron))
    finally:
        if server is not None:
            stop(server)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="start a local server and serve every deployment")
    s.add_argument("--port", type=int, default=DEFAULT_PORT)
    s.add_argument("--api-url", help="use this running Prefect API instead of starting a server")
    s.add_argument("--no-ui", action="store_true")
    s.add_argument("--nightly-cron", default=NIGHTLY_CRON)
    s.add_argument("--weekly-cron", default=WEEKLY_CRON)
    sub.add_parser("list", help="print the deployments and their schedules")
    d = sub.add_parser("deploy", help="register every deployment with a work pool ($PREFECT_API_URL)")
    d.add_argument("--pool", required=True, help="a process work pool (`prefect work-pool create`)")
    d.add_argument("--working-dir", help="the checkout the worker runs flows in (default: this project)")
    d.add_argument("--nightly-cron", default=NIGHTLY_CRON)
    d.add_argument("--weekly-cron", default=WEEKLY_CRON)
    args = ap.parse_args(argv)
    if args.command == "deploy":
        for name in deploy_to_pool(args.pool, args.working_dir, args.nightly_cron, args.weekly_cron):
            print(f"deployed {name} to work pool {args.pool}")
        return 0
    if args.command == "list":
        for d in deployments():
            crons = [getattr(s.schedule, "cron", None) for s in d.schedules or []]
            print(f"{d.flow_name}/{d.name}\t{', '.join(c for c in crons if c) or '-'}")
        return 0
    serve(
        api_url=args.api_url,
        port=args.port,
        ui=not args.no_ui,
        nightly_cron=args.nightly_cron,
        weekly_cron=args.weekly_cron,
    )
    return 0


if __name__ == "__main__":
    # run the copy imported as `flows.deploy`: deployments name their flows by module path,
    # and `__main__.healthcheck` cannot be loaded by the flow-run process
    from flows.deploy import main as _main

    raise SystemExit(_main())
