import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from papers.models import ImportRun, Paper

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "papers" / "demo" / "hf-papers-listing-language-models.txt"
HEADER = (
    "Get trending papers in your email inbox once a day!\n"
    "Get trending papers in your email inbox!\n"
)


def test_import_papers_prints_the_summary(capsys):
    call_command("import_papers", str(DEMO))
    call_command("import_papers", str(DEMO))

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "created 294, updated 0, unchanged 0, failed 0",
        "created 0, updated 0, unchanged 294, failed 0",
    ]
    assert Paper.objects.count() == 294
    run = ImportRun.objects.first()
    assert (run.source, run.params, run.trigger) == ("hf-listing", {"path": str(DEMO)}, "command")


def test_import_papers_reports_bad_records(tmp_path, capsys):
    path = tmp_path / "listing.txt"
    path.write_text(HEADER + "A paper\nIts abstract.\nA lonely title\n")

    call_command("import_papers", str(path))

    captured = capsys.readouterr()
    assert captured.out.strip() == "created 1, updated 0, unchanged 0, failed 1"
    assert "line 5: title without an abstract line after it" in captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"", "the file is empty"),
        (bytes(range(256)) * 4, "binary"),
        (b'{"title": "JSON is not a listing"}', "unrecognised format"),
    ],
    ids=["missing", "empty", "garbage", "wrong-format"],
)
def test_unreadable_input_is_an_error_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "input.txt"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        call_command("import_papers", str(path))

    assert not Paper.objects.exists()
    assert not ImportRun.objects.exists()


def test_a_bad_file_among_good_ones_stops_before_anything_is_written(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01")

    with pytest.raises(CommandError, match=r"bad\.txt"):
        call_command("import_papers", str(DEMO), str(bad))

    assert not Paper.objects.exists()


def test_forced_format_that_does_not_fit_is_an_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Just some notes\nabout papers\n")

    with pytest.raises(CommandError, match="not a listing"):
        call_command("import_papers", str(path), format="hf-listing")


def test_the_real_command_line_exits_1_with_one_line(tmp_path):
    missing = tmp_path / "nowhere.txt"

    result = subprocess.run(
        [sys.executable, "manage.py", "import_papers", str(missing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: cannot read {missing}: No such file or directory"
    ]


def test_setup_demo_imports_once_and_creates_one_staff_account(capsys):
    call_command("setup_demo")
    first = capsys.readouterr().out
    call_command("setup_demo")
    second = capsys.readouterr().out

    assert Paper.objects.count() == 294
    staff = User.objects.get(is_staff=True)
    assert staff.email == "admin@localhost"
    assert "admin@localhost / " in first
    password = first.split("admin@localhost / ")[1].split()[0]
    assert staff.check_password(password)
    assert second == ""
