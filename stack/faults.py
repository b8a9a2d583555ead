"""`make stack-faults`: three failures, each caused for real against the running stack, one line each.

worker    the worker and its flow-run process group are SIGKILLed mid-run (a host failure): the run is
          marked Crashed by the stack's no-heartbeat automation, and a restarted worker runs the next
          scheduled run to Completed;
mlflow    the MLflow server is stopped during training: the train stage fails with one line naming the
          server, keeps its checkpoints and leaves the MLflow run open; once the server is back, a
          re-run resumes from the checkpoint into the same MLflow run;
postgres  PostgreSQL is restarted: MLflow and Prefect answer again without a manual step (a run is
          logged, a flow run is triggered and completes).

MLflow's client retries a dead server for minutes by default; the training here runs with
MLFLOW_HTTP_REQUEST_MAX_RETRIES=0 and a short MLFLOW_HTTP_REQUEST_TIMEOUT so the failure is quick.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from stack import check, mlflow_server, postgres, prefect_server, procs
from stack.config import Stack, client_env, load_secrets

FAULTS = ("worker", "mlflow", "postgres")
HEALTHCHECK = "medvie-healthcheck/healthcheck"
# the training of the mlflow fault: six GRPO steps, a checkpoint after each
TRAIN_PARAMS = {**check.SHORT_PARAMS, "train.grpo.max_steps": 6, "train.grpo.save_steps": 1}
# fail fast when the server is gone instead of MLflow's default minutes of retries
FAST_MLFLOW = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
FIGURES: dict[str, dict[str, Any]] = {}


class FaultFailed(Exception):
    pass


def say(msg: str) -> None:
    print(f"stack-faults: {msg}", flush=True)


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise FaultFailed(what)
    say(f"  ok: {what}")


def wait_until(what: str, probe: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    """Call `probe` until it returns something truthy; its exceptions count as "not yet"."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            got = probe()
            if got:
                return got
        except Exception as exc:  # a server coming back answers with errors for a while
            last = exc
        time.sleep(every)
    tail = f" (last error: {str(last).splitlines()[0][:200]})" if last else ""
    raise FaultFailed(f"{what}: not after {timeout:.0f}s{tail}")


def process_groups(pid: int) -> set[int]:
    """The process groups of `pid` and of all its descendants (a process worker starts each flow run
    in a session of its own, so killing the worker's group alone leaves the flow run alive)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs_ = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    groups = set()
    for p in procs_:
        try:
            groups.add(os.getpgid(p.pid))
        except ProcessLookupError:
            pass
    return groups


def kill_groups(groups: set[int]) -> None:
    for group in sorted(groups):
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass


def error_lines(stderr: str) -> list[str]:
    """The `error: …` lines of a stage's stderr; a progress bar may have left one after its `\r`
    updates on the same terminal line, so lines split at `\r` too and start at `error: `."""
    segments = re.split(r"[\r\n]", stderr)
    return [seg[seg.index("error: ") :].strip() for seg in segments if "error: " in seg]


def is_one_line_error(stderr: str, must_name: str) -> bool:
    """The stage's failure is one `error: …` line naming `must_name`, with no traceback."""
    found = error_lines(stderr)
    return len(found) == 1 and must_name in found[0] and "Traceback" not in stderr


# ---------------------------------------------------------------------------------------------- prefect
def flow_run(run_id):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def wait_final(run_id, timeout: float):
    def final():
        run = flow_run(run_id)
        return run if run.state and run.state.is_final() else None

    return wait_until(f"flow run {run_id} final", final, timeout, every=2)


def fault_worker(stack: Stack, sec: dict[str, str]) -> str:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.states import Scheduled

    worker = prefect_server.worker_name(1)
    run = run_deployment(HEALTHCHECK, parameters={"sleep_s": 900}, timeout=0)
    wait_until("healthcheck run Running", lambda: flow_run(run.id).state.is_running(), 120)
    # one heartbeat at least, so the automation has something to miss
    time.sleep(prefect_server.HEARTBEAT_S + 5)
    pid = procs.running_pid(stack, worker)
    expect(pid is not None, f"worker {worker} runs (pid {pid})")
    groups = process_groups(pid)
    expect(len(groups) >= 2, f"worker and flow-run process groups found: {sorted(groups)}")
    t_kill = time.monotonic()
    kill_groups(groups)
    wait_until("worker processes gone", lambda: not any(procs.alive(g) for g in groups), 30)
    say(f"  killed process groups {sorted(groups)} (SIGKILL)")
    crashed = wait_final(run.id, 300)
    crash_s = round(time.monotonic() - t_kill, 1)
    expect(crashed.state.is_crashed(), f"the run is {crashed.state.name} {crash_s}s after the kill")
    expect("heartbeat" in (crashed.state.message or ""), f"by the automation: {crashed.state.message!r}")

    t_restart = time.monotonic()
    expect(prefect_server.start_worker(stack, sec), "a new worker started")
    log = stack.logs / f"{worker}.log"
    log_offset = log.stat().st_size
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(HEALTHCHECK)
        when = datetime.now(timezone.utc) + timedelta(seconds=20)
        nxt = client.create_flow_run_from_deployment(
            deployment.id, parameters={"sleep_s": 0}, state=Scheduled(scheduled_time=when)
        )
    done = wait_final(nxt.id, 300)
    pickup_s = round(time.monotonic() - t_restart, 1)
    expect(done.state.is_completed(), f"the run scheduled 20s ahead: {done.state.name}")
    with log.open("rb") as fh:
        fh.seek(log_offset)
        by_new = str(nxt.id) in fh.read().decode(errors="replace")
    expect(by_new, "it was run by the restarted worker (its log names the run)")
    FIGURES["worker"] = {"crashed_after_kill_s": crash_s, "restart_to_completed_s": pickup_s}
    return f"crashed {crash_s}s after the kill; restarted worker completed the next run in {pickup_s}s"


# ---------------------------------------------------------------------------------------------- mlflow
def sql(stack: Stack, sec: dict[str, str], query: str) -> list[list[str]]:
    return check.sql(stack, sec, query)


def train_env(stack: Stack, sec: dict[str, str]) -> dict[str, str]:
    env = prefect_server.client_environ(stack, sec)  # trainer's MLflow credentials, venv first on PATH
    env.update(FAST_MLFLOW)
    return env


def fault_mlflow(stack: Stack, sec: dict[str, str], base: Path) -> str:
    clone = check.make_clone(stack, base, TRAIN_PARAMS)
    env = train_env(stack, sec)
    t = time.monotonic()
    prep = check.sh([sys.executable, "-m", "dvc", "repro", "queries", "warmstart"], clone, env, timeout=900)
    expect(prep.returncode == 0, f"stages before train reproduced ({time.monotonic() - t:.0f}s)")
    state_file = clone / "build" / "train" / "run_state.json"
    log_path = base / "train-1.log"
    t0 = time.time()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stages.train"],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    try:

        def first_step_logged() -> str | None:
            run_id = json.loads(state_file.read_text())["mlflow_run_id"]
            rows = sql(stack, sec, f"SELECT max(step) FROM metrics WHERE run_uuid = '{run_id}'")
            return run_id if rows and rows[0][0] and int(rows[0][0]) >= 1 else None

        run_id = wait_until("training logged its first step", first_step_logged, 900, every=0.5)
        t_stop = time.monotonic()
        expect(mlflow_server.stop(stack), f"MLflow server stopped while run {run_id} trains")
        rc = proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    fail_s = round(time.monotonic() - t_stop, 1)
    stderr = log_path.read_text(errors="replace")
    expect(
        rc != 0 and is_one_line_error(stderr, stack.mlflow_url),
        f"train fails in {fail_s}s with one line: {(error_lines(stderr) or ['none'])[-1][:200]}",
    )
    ckpts = sorted((clone / "build" / "train" / "checkpoints").glob("checkpoint-*"))
    kept = json.loads(state_file.read_text())
    expect(bool(ckpts) and kept["mlflow_run_id"] == run_id, f"checkpoints kept: {[c.name for c in ckpts]}")
    status = sql(stack, sec, f"SELECT status FROM runs WHERE run_uuid = '{run_id}'")
    expect(status == [["RUNNING"]], "the MLflow run is left open (RUNNING) for the re-run")

    t_up = time.monotonic()
    mlflow_server.start(stack, sec)
    restart_s = round(time.monotonic() - t_up, 1)
    t = time.monotonic()
    again = check.sh([sys.executable, "-m", "stages.train"], clone, env, timeout=900)
    rerun_s = round(time.monotonic() - t, 1)
    expect(
        again.returncode == 0,
        f"re-run after the restart ({rerun_s}s)" + again.stderr[-300:] * (again.returncode != 0),
    )
    resumed = json.loads(state_file.read_text())
    expect(resumed["mlflow_run_id"] == run_id, f"same run id in run_state.json ({run_id})")
    rows = sql(stack, sec, f"SELECT status FROM runs WHERE run_uuid = '{run_id}'")
    steps = sql(stack, sec, f"SELECT max(step) FROM metrics WHERE run_uuid = '{run_id}' AND key = 'reward'")
    tag = sql(stack, sec, f"SELECT value FROM tags WHERE run_uuid = '{run_id}' AND key = 'resumed_from'")
    expect(rows == [["FINISHED"]] and steps == [["6"]], "the run FINISHED with reward logged up to step 6")
    expect(bool(tag), f"resumed from {tag[0][0] if tag else '?'} (tag resumed_from)")
    newer = sql(
        stack,
        sec,
        f"SELECT count(*) FROM runs WHERE start_time > {int(t0 * 1000)} AND run_uuid <> '{run_id}'"
        " AND name NOT LIKE 'stack-faults%'",
    )
    expect(newer == [["0"]], "no second training run was created")
    FIGURES["mlflow"] = {
        "failed_after_stop_s": fail_s,
        "server_restart_s": restart_s,
        "resumed_rerun_s": rerun_s,
        "resumed_from": tag[0][0],
    }
    return (
        f"train failed {fail_s}s after the stop (one line, names {stack.mlflow_url}); "
        f"re-run resumed {tag[0][0]} into run {run_id[:8]} ({rerun_s}s)"
    )


# ---------------------------------------------------------------------------------------------- postgres
def mlflow_write(stack: Stack, sec: dict[str, str]) -> str:
    """As `trainer`: create a run, log a metric, end it (every call hits PostgreSQL)."""
    from mlflow import MlflowClient

    with mlflow_server.acting_as(stack, "trainer", sec):
        client = MlflowClient(stack.mlflow_url)
        exp = client.get_experiment_by_name("medvie")
        run = client.create_run(exp.experiment_id, run_name="stack-faults postgres restart")
        client.log_metric(run.info.run_id, "probe", 1.0)
        client.set_terminated(run.info.run_id)
        return run.info.run_id


def prefect_read() -> bool:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return bool(client.read_deployment_by_name(HEALTHCHECK).id)


def fault_postgres(stack: Stack, sec: dict[str, str]) -> str:
    from prefect.deployments import run_deployment

    os.environ.update(FAST_MLFLOW)
    t = time.monotonic()
    postgres.restart(stack)
    restart_s = round(time.monotonic() - t, 1)
    say(f"  PostgreSQL restarted (fast) in {restart_s}s")
    run_id = wait_until("MLflow logs a run", lambda: mlflow_write(stack, sec), 120)
    mlflow_s = round(time.monotonic() - t, 1)
    rows = sql(stack, sec, f"SELECT status FROM runs WHERE run_uuid = '{run_id}'")
    expect(rows == [["FINISHED"]], f"MLflow: run {run_id[:8]} logged and in PostgreSQL ({mlflow_s}s)")
    wait_until("Prefect answers", prefect_read, 120)
    prefect_s = round(time.monotonic() - t, 1)
    run = run_deployment(HEALTHCHECK, parameters={"sleep_s": 0}, timeout=0)
    done = wait_final(run.id, 300)
    flow_s = round(time.monotonic() - t, 1)
    expect(done.state.is_completed(), f"Prefect: a triggered flow run {done.state.name} ({flow_s}s)")
    FIGURES["postgres"] = {
        "pg_restart_s": restart_s,
        "mlflow_ok_s": mlflow_s,
        "prefect_ok_s": prefect_s,
        "flow_run_completed_s": flow_s,
    }
    return (
        f"MLflow wrote after {mlflow_s}s, Prefect answered after {prefect_s}s, flow run done after {flow_s}s"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stack.faults", description=__doc__.split("\n\n")[0])
    ap.add_argument("faults", nargs="*", metavar="FAULT", help=f"some of {', '.join(FAULTS)} (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the training clone (printed)")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.faults) - set(FAULTS))
    if unknown:
        ap.error(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    stack = Stack.here()
    sec = load_secrets(stack)
    os.environ.update(prefect_server.client_environ(stack, sec))  # before Prefect is imported
    os.environ.update(client_env(stack, "trainer", sec))
    base = Path(tempfile.mkdtemp(prefix="medvie-stack-faults-"))
    results = []
    for name in args.faults or FAULTS:
        say(f"{name}: ...")
        t = time.monotonic()
        try:
            if name == "worker":
                detail = fault_worker(stack, sec)
            elif name == "mlflow":
                detail = fault_mlflow(stack, sec, base)
            else:
                detail = fault_postgres(stack, sec)
            ok = True
        except (FaultFailed, subprocess.TimeoutExpired) as exc:
            ok, detail = False, str(exc)
        FIGURES.setdefault(name, {})["total_s"] = round(time.monotonic() - t, 1)
        results.append((name, ok, detail))
        # leave the stack up for the next fault, whatever this one did
        mlflow_server.start(stack, sec)
        prefect_server.start_worker(stack, sec)
    for name, ok, detail in results:
        print(f"fault {name:9} {'PASSED' if ok else 'FAILED'}  {detail}", flush=True)
    say(f"figures {json.dumps(FIGURES)}")
    if args.keep:
        say(f"kept {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
