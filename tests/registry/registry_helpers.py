"""What the end-to-end registry tests share: a small labelled source folder of synthetic reports, and a real
`mlflow models serve` process to send requests to."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def write_source(root: Path, reports: list[tuple[int, str]]) -> Path:
    """`root/source`: labels.jsonl + images of synthetic reports (seed, doc type), as a user brings them."""
    from medvie.data.synth import render_report
    from medvie.io import write_jsonl

    source = root / "source"
    (source / "images").mkdir(parents=True)
    labels = []
    for i, (seed, doc_type) in enumerate(reports):
        rep = render_report(seed, "tiny", "en", doc_type)
        rel = f"images/r{i}{rep.extension}"
        if rep.encoded is not None:
            (source / rel).write_bytes(rep.encoded)
        else:
            rep.image.save(source / rel, format="PNG")
        labels.append(
            {"id": f"r{i}", "image": rel, "label": rep.label, "doc_type": rep.doc_type, "meta": rep.meta}
        )
    write_jsonl(source / "labels.jsonl", labels)
    return source


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ModelServer:
    """`mlflow models serve -m <uri> --env-manager local` on a free loopback port, stopped on exit."""

    def __init__(self, model_uri: str, store: str, env: dict[str, str] | None = None) -> None:
        self.model_uri, self.store, self.extra_env = model_uri, store, env or {}
        self.port = _free_port()

    def __enter__(self) -> ModelServer:
        bin_dir = str(Path(sys.executable).parent)  # the server execs `uvicorn` from PATH: the venv's one
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.store,
            "MLFLOW_REGISTRY_URI": self.store,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            **self.extra_env,
        }
        cmd = [
            str(Path(bin_dir) / "mlflow"),
            "models",
            "serve",
            "-m",
            self.model_uri,
            "--env-manager",
            "local",
        ]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                why = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.stderr else ""
                raise AssertionError(f"mlflow models serve did not come up: {why or 'timeout'}")
            time.sleep(0.5)

    def invoke(self, records: list[dict]) -> list[dict]:
        body = json.dumps({"dataframe_records": records}).encode()
        post = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(post, timeout=300) as r:
            return json.loads(r.read())["predictions"]

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server's own process group: uvicorn and its worker
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
