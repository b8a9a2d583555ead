"""The Prefect server on PostgreSQL (asyncpg) with API auth, a process work pool, a worker, the
deployments, and the automation that marks a flow run Crashed when its heartbeats stop (its worker
died with it).

The worker runs flows as the MLflow user `trainer`: it can train and register, not move `champion`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from medvie.errors import MedvieError
from stack import procs
from stack.config import PREFECT_AUTH_USER, WORK_POOL, Stack, client_env

SERVER = "prefect-server"
HEARTBEAT_S = 30  # Prefect's minimum
CRASH_AFTER = timedelta(seconds=3 * HEARTBEAT_S)
ZOMBIE_AUTOMATION = "medvie: crash flow runs without heartbeats"


def worker_name(i: int = 1) -> str:
    return f"prefect-worker-{i}"


def auth_string(sec: dict[str, str]) -> str:
    return f"{PREFECT_AUTH_USER}:{sec['PREFECT_AUTH_PASSWORD']}"


def _base_env(stack: Stack) -> dict[str, str]:
    drop = ("PREFECT_", "MLFLOW_TRACKING_", "MLFLOW_REGISTRY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


def server_env(stack: Stack, sec: dict[str, str]) -> dict[str, str]:
    env = _base_env(stack)
    env.update(
        PREFECT_HOME=str(stack.prefect_home / "server"),
        PREFECT_API_DATABASE_CONNECTION_URL=stack.pg_url(
            "prefect", sec["PG_PREFECT_PASSWORD"], "prefect", "postgresql+asyncpg"
        ),
        PREFECT_SERVER_API_AUTH_STRING=auth_string(sec),
        PREFECT_API_AUTH_STRING=auth_string(sec),  # the server's own client, if a service needs one
        PREFECT_API_URL=stack.prefect_api,
    )
    return env


def client_environ(stack: Stack, sec: dict[str, str], user: str = "trainer") -> dict[str, str]:
    """The environment of a Prefect client or worker: API + auth, MLflow as `user`."""
    env = _base_env(stack)
    env.update(client_env(stack, user, sec))
    env.update(
        PREFECT_HOME=str(stack.prefect_home / "client"),
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY=str(HEARTBEAT_S),
        MLFLOW_REGISTRY_URI=stack.mlflow_url,
        PATH=os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")]),
        OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),
    )
    return env


def healthy(stack: Stack, sec: dict[str, str]) -> bool:
    import base64
    import urllib.request

    req = urllib.request.Request(f"{stack.prefect_api}/health")
    req.add_header("Authorization", "Basic " + base64.b64encode(auth_string(sec).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


def start_server(stack: Stack, sec: dict[str, str]) -> bool:
    if procs.running_pid(stack, SERVER) and healthy(stack, sec):
        return False
    procs.stop(stack, SERVER)
    (stack.prefect_home / "server").mkdir(parents=True, exist_ok=True)
    from flows.deploy import server_command

    proc = procs.start(stack, SERVER, server_command(stack.prefect_port), server_env(stack, sec))
    procs.wait_for(
        f"Prefect server at {stack.prefect_api}",
        lambda: healthy(stack, sec),
        timeout=240,
        log=stack.logs / f"{SERVER}.log",
        pid=proc.pid,
    )
    return True


def python(stack: Stack, sec: dict[str, str], args: list[str], check: bool = True):
    """`python ARGS` as a Prefect client of the stack; a failure is one line."""
    proc = subprocess.run(
        [sys.executable, *args],
        env=client_environ(stack, sec),
        cwd=stack.root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    if check and proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise MedvieError(f"python {' '.join(args[:4])} failed: {last}")
    return proc


def prefect_cli(stack: Stack, sec: dict[str, str], *args: str, check: bool = True):
    return python(stack, sec, ["-m", "prefect", *args], check=check)


def ensure_pool(stack: Stack, sec: dict[str, str]) -> bool:
    if prefect_cli(stack, sec, "work-pool", "inspect", WORK_POOL, check=False).returncode == 0:
        return False
    prefect_cli(stack, sec, "work-pool", "create", WORK_POOL, "--type", "process")
    return True


def start_worker(stack: Stack, sec: dict[str, str], i: int = 1) -> bool:
    name = worker_name(i)
    if procs.running_pid(stack, name):
        return False
    cmd = [sys.executable, "-m", "prefect", "worker", "start", "--pool", WORK_POOL, "--type", "process"]
    cmd += ["--name", f"medvie-{name}"]
    procs.start(stack, name, cmd, client_environ(stack, sec))
    return True


def deploy(stack: Stack, sec: dict[str, str]) -> list[str]:
    """Every deployment of flows/deploy.py, registered with the pool (runs in this checkout)."""
    proc = python(stack, sec, ["-m", "flows.deploy", "deploy", "--pool", WORK_POOL])
    return [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("deployed ")]


def ensure_zombie_automation(stack: Stack, sec: dict[str, str]) -> bool:
    """Prefect's documented zombie-flow rule: no heartbeat (nor final state) within 3 beats -> Crashed."""
    code = f"""
from datetime import timedelta
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
name = {ZOMBIE_AUTOMATION!r}
with get_client(sync_client=True) as client:
    if client.read_automations_by_name(name):
        print("exists")
    else:
        final = ["Completed", "Failed", "Cancelled", "Crashed"]
        client.create_automation(AutomationCore(
            name=name,
            trigger=EventTrigger(
                after={{"prefect.flow-run.heartbeat"}},
                expect={{"prefect.flow-run.heartbeat", *("prefect.flow-run." + s for s in final)}},
                match={{"prefect.resource.id": ["prefect.flow-run.*"]}},
                for_each={{"prefect.resource.id"}},
                posture=Posture.Proactive,
                threshold=1,
                within=timedelta(seconds={int(CRASH_AFTER.total_seconds())}),
            ),
            actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                        message="no heartbeat: its worker or host died")],
        ))
        print("created")
"""
    return python(stack, sec, ["-c", code]).stdout.strip() == "created"


def stop_workers(stack: Stack) -> list[str]:
    stopped = []
    for pid_path in sorted(stack.pids.glob("prefect-worker-*.pid")) if stack.pids.exists() else []:
        if procs.stop(stack, pid_path.stem):
            stopped.append(pid_path.stem)
    return stopped


def stop_server(stack: Stack) -> bool:
    return procs.stop(stack, SERVER)
