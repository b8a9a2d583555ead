"""A real Prefect server on loopback: the serve command registers the scheduled deployments and runs one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from flows.deploy import NIGHTLY_CRON, WEEKLY_CRON, stop, wait_healthy

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {
    "medvie-retrain/nightly": NIGHTLY_CRON,
    "medvie-sweep/weekly": WEEKLY_CRON,
    "medvie-pipeline/manual": None,
    "medvie-gate/manual": None,
    "medvie-promote/manual": None,
    "medvie-rollback/manual": None,
    "medvie-healthcheck/healthcheck": None,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_registers_scheduled_deployments_and_runs_one(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.deploy", "serve", "--port", str(port), "--no-ui"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_healthy(api, timeout=90, proc=proc)
        with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            # by name (GET): the filter endpoints of this Prefect/FastAPI pair reject the client's nulls (422)
            deadline = time.monotonic() + 60
            found: dict = {}
            while len(found) < len(EXPECTED) and time.monotonic() < deadline:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
                for name in set(EXPECTED) - set(found):
                    try:
                        found[name] = client.read_deployment_by_name(name)
                    except ObjectNotFound:
                        time.sleep(0.5)
            assert set(found) == set(EXPECTED), (tmp_path / "serve.log").read_text()[-2000:]
            for name, cron in EXPECTED.items():
                crons = [s.schedule.cron for s in found[name].schedules]
                assert crons == ([cron] if cron else []), name

            run = run_deployment(
                "medvie-healthcheck/healthcheck", client=None, timeout=90, poll_interval=1, as_subflow=False
            )
            assert run.state.is_completed(), (run.state, (tmp_path / "serve.log").read_text()[-2000:])
    finally:
        stop(proc)
        log.close()
    assert proc.poll() is not None
    with socket.socket() as s:  # the server went with it
        assert s.connect_ex(("127.0.0.1", port)) != 0
