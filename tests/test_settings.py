"""Deploy-time settings, each checked in a fresh process with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "3Zq9-xL_p0vN!rT8wY2mB5cJ7hD4fG6sA1eK",
    "ALLOWED_HOSTS": "papers.example.org",
    "SITE_URL": "https://papers.example.org",
}


def manage(*args, **env):
    # A deployment's environment: nothing the test session itself may have set.
    unset = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_debug_off_refuses_the_default_secret_key():
    result = manage("check", DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY is the development default while DEBUG is off" in result.stderr


def test_deploy_check_is_clean_in_a_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_database_url_must_be_postgresql():
    result = manage("check", DATABASE_URL="sqlite:///tmp/x.db")

    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr
