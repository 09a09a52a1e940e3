"""The launcher behind `make run` and `make test`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOW_URLS = "import os; print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])"


def launch(*command, **env):
    return subprocess.run(
        [sys.executable, "scripts/services.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_given_urls_are_passed_through_and_nothing_starts():
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://db.invalid/x",
        "REDIS_URL": "redis://r.invalid/0",
    }

    result = launch(sys.executable, "-c", SHOW_URLS, **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["postgres://db.invalid/x", "redis://r.invalid/0"]
    assert "Embedded" not in result.stderr


def test_the_command_exit_code_is_kept():
    env = {**os.environ, "DATABASE_URL": "postgres://x/x", "REDIS_URL": "redis://x/0"}

    assert launch(sys.executable, "-c", "raise SystemExit(3)", **env).returncode == 3


def test_without_urls_embedded_servers_start_and_answer():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    check = (
        "import os, psycopg, redis;"
        "print(psycopg.connect(os.environ['DATABASE_URL']).execute('SELECT 41 + 1').fetchone()[0]);"
        "print(redis.Redis.from_url(os.environ['REDIS_URL']).ping())"
    )

    result = launch(sys.executable, "-c", check, **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["42", "True"]
    assert str(ROOT / ".data" / "postgres") in launch(sys.executable, "-c", SHOW_URLS, **env).stdout
