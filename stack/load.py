"""`make stack-load`: 20 concurrent MLflow clients log metrics to the tracking server for a minute.

Each client (a thread with its own MlflowClient, as user `trainer`) logs one batch of metrics per loop
into its own run until the minute is over (a bounded loop: at most `--max-batches` each). Every batch
the server acknowledged is then counted back from MLflow's PostgreSQL: lost = acknowledged - stored.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

from stack import postgres
from stack.config import Stack, load_secrets
from stack.mlflow_server import acting_as

METRICS_PER_BATCH = 5


def client_loop(stack: Stack, exp_id: str, i: int, until: float, max_batches: int, out: dict) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(stack.mlflow_url, stack.mlflow_url)
    run_id = client.create_run(exp_id, run_name=f"load-{i}", tags={"medvie.stage": "load"}).info.run_id
    acked = errors = step = 0
    latencies = []
    while time.monotonic() < until and step < max_batches:
        now = int(time.time() * 1000)
        batch = [Metric(f"load.m{k}", float(step * k), now, step) for k in range(METRICS_PER_BATCH)]
        t = time.monotonic()
        try:
            client.log_batch(run_id, metrics=batch)
            acked += len(batch)
            latencies.append(time.monotonic() - t)
        except Exception:
            errors += 1
        step += 1
    client.set_terminated(run_id)
    out[i] = {"run_id": run_id, "acked": acked, "errors": errors, "latencies": latencies}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stack.load")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--max-batches", type=int, default=10_000)
    args = ap.parse_args(argv)
    stack = Stack.here()
    sec = load_secrets(stack)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    out: dict[int, dict] = {}
    with acting_as(stack, "trainer", sec):
        from mlflow import MlflowClient

        exp_id = (
            MlflowClient(stack.mlflow_url, stack.mlflow_url).get_experiment_by_name("medvie").experiment_id
        )
        start = time.monotonic()
        until = start + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(stack, exp_id, i, until, args.max_batches, out))
            for i in range(args.clients)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.monotonic() - start
    run_ids = ", ".join(f"'{r['run_id']}'" for r in out.values())
    stored = int(
        postgres.psql(
            stack,
            f"SELECT count(*) FROM metrics WHERE run_uuid IN ({run_ids}) AND key LIKE 'load.%'",
            sec["PG_MLFLOW_PASSWORD"],
            "mlflow",
            "mlflow",
        ).strip()
    )
    acked = sum(r["acked"] for r in out.values())
    lat = sorted(x for r in out.values() for x in r["latencies"])
    figures = {
        "clients": len(out),
        "seconds": round(elapsed, 1),
        "metrics_acknowledged": acked,
        "metrics_stored": stored,
        "lost": acked - stored,
        "failed_batches": sum(r["errors"] for r in out.values()),
        "metrics_per_s": round(stored / elapsed, 1),
        "batch_latency_p50_ms": round(1000 * lat[len(lat) // 2], 1) if lat else None,
        "batch_latency_p95_ms": round(1000 * lat[int(len(lat) * 0.95)], 1) if lat else None,
    }
    print(f"stack-load: {json.dumps(figures)}", flush=True)
    return 0 if figures["lost"] == 0 and len(out) == args.clients else 1


if __name__ == "__main__":
    raise SystemExit(main())
