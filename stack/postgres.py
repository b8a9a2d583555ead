"""One PostgreSQL 15 cluster under `.stack/pg`, on loopback, with the databases `mlflow` and `prefect`.

Debian's server binaries run the cluster; as root they run as the `postgres` system user, because
initdb and pg_ctl refuse to run as root. Passwords come from the stack's secrets and reach psql
through the environment, never the command line.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from medvie.errors import MedvieError
from stack.config import HOST, Stack

BIN = Path(os.environ.get("MEDVIE_STACK_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"
# database -> (owner role, secret key of its password)
DATABASES = {"mlflow": ("mlflow", "PG_MLFLOW_PASSWORD"), "prefect": ("prefect", "PG_PREFECT_PASSWORD")}
AUTH_SCHEMA = "auth"  # MLflow's user store, beside its tracking tables in the mlflow database


def _as_owner() -> list[str]:
    return ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []


def _owner_ids() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    import pwd

    entry = pwd.getpwnam(SUPERUSER)
    return entry.pw_uid, entry.pw_gid


def installed() -> bool:
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()
        raise MedvieError(f"{what} failed: {last[-1] if last else f'exit {proc.returncode}'}")
    return proc.stdout


def initialised(stack: Stack) -> bool:
    return (stack.pg_data / "PG_VERSION").exists()


def init(stack: Stack, superuser_password: str) -> bool:
    """initdb once (scram-sha-256 on TCP, peer on the socket); False if the cluster exists."""
    if initialised(stack):
        return False
    if not installed():
        raise MedvieError(f"PostgreSQL 15 not found in {BIN}; run `make stack` (it installs postgresql-15)")
    base = stack.pg_data.parent
    stack.pg_socket_dir.mkdir(parents=True, exist_ok=True)
    stack.pg_data.mkdir(parents=True, exist_ok=True)
    ids = _owner_ids()
    with tempfile.NamedTemporaryFile("w", dir=base, delete=False) as pw:
        pw.write(superuser_password + "\n")
    try:
        os.chmod(pw.name, 0o600)
        if ids:
            for path in (base, stack.pg_data, stack.pg_socket_dir, Path(pw.name)):
                os.chown(path, *ids)
        stack.pg_data.chmod(0o700)
        _run(
            [
                *_as_owner(),
                str(BIN / "initdb"),
                "-D",
                str(stack.pg_data),
                "-U",
                SUPERUSER,
                "--pwfile",
                pw.name,
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            "initdb",
        )
    finally:
        os.unlink(pw.name)
    conf = stack.pg_data / "postgresql.conf"
    with conf.open("a", encoding="utf-8") as fh:
        fh.write(
            f"\n# medvie stack\nlisten_addresses = '{HOST}'\nport = {stack.pg_port}\n"
            f"unix_socket_directories = '{stack.pg_socket_dir}'\nmax_connections = 200\n"
        )
    return True


def is_running(stack: Stack) -> bool:
    if not initialised(stack):
        return False
    proc = subprocess.run(
        [str(BIN / "pg_isready"), "-h", HOST, "-p", str(stack.pg_port), "-q"], stdin=subprocess.DEVNULL
    )
    return proc.returncode == 0


def pg_ctl(stack: Stack, *args: str) -> str:
    log = stack.pg_data.parent / "postgres.log"
    return _run(
        [*_as_owner(), str(BIN / "pg_ctl"), "-D", str(stack.pg_data), "-l", str(log), *args], "pg_ctl"
    )


def start(stack: Stack) -> bool:
    """Start the cluster and wait until it accepts connections; False if it was running."""
    if is_running(stack):
        return False
    pg_ctl(stack, "-w", "-t", "60", "start")
    return True


def stop(stack: Stack) -> bool:
    """Fast shutdown: a clean checkpoint, no data lost; open sessions are ended."""
    if not initialised(stack) or not (stack.pg_data / "postmaster.pid").exists():
        return False
    pg_ctl(stack, "-w", "-t", "60", "-m", "fast", "stop")
    return True


def restart(stack: Stack) -> None:
    pg_ctl(stack, "-w", "-t", "60", "-m", "fast", "restart")


def psql(stack: Stack, sql: str, password: str, db: str = "postgres", user: str = SUPERUSER) -> str:
    """Run `sql` over TCP (scram); the password travels in PGPASSWORD, never in argv."""
    return _run(
        [
            str(BIN / "psql"),
            "-h",
            HOST,
            "-p",
            str(stack.pg_port),
            "-U",
            user,
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            "-q",
            "-A",
            "-t",
            "-c",
            sql,
        ],
        f"psql ({db})",
        env={"PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"},
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ensure_databases(stack: Stack, sec: dict[str, str]) -> list[str]:
    """Roles and databases (and MLflow's auth schema), each created only when missing; returns what
    was created. A role's password is reset to the secret every time, so the two never drift."""
    su = sec["PG_SUPERUSER_PASSWORD"]
    created = []
    for db, (role, key) in DATABASES.items():
        exists = psql(stack, f"SELECT 1 FROM pg_roles WHERE rolname = {_literal(role)}", su).strip()
        verb = "ALTER" if exists else "CREATE"
        psql(stack, f"{verb} ROLE {role} LOGIN PASSWORD {_literal(sec[key])}", su)
        if not psql(stack, f"SELECT 1 FROM pg_database WHERE datname = {_literal(db)}", su).strip():
            psql(stack, f"CREATE DATABASE {db} OWNER {role}", su)
            created.append(db)
    psql(stack, f"CREATE SCHEMA IF NOT EXISTS {AUTH_SCHEMA}", sec["PG_MLFLOW_PASSWORD"], "mlflow", "mlflow")
    return created
