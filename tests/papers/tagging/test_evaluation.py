import gzip
import json
import re
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from papers.tagging import evaluation

LISTING = Path(__file__).parents[2] / "fixtures" / "arxiv-cs" / "arxiv-cs-every-20th.jsonl.gz"
KEYS = {"method", "micro_f1", "macro_f1", "micro_precision", "micro_recall", "seconds"}


def evaluate_tagger(*args) -> list[dict]:
    out = StringIO()
    call_command("evaluate_tagger", *args, stdout=out, stderr=StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_row_per_method_with_every_figure():
    rows = evaluate_tagger("--train", str(LISTING), "--min-papers", "100")

    assert [row["method"] for row in rows] == ["paperfeed", "arxiv-sanity-lite", "paperless-ngx"]
    for row in rows:
        assert set(row) == KEYS
        for key in KEYS - {"method", "seconds"}:
            assert 0 <= row[key] <= 1
        assert row["seconds"] >= 0
    paperfeed = rows[0]
    assert paperfeed["micro_f1"] > 0.5


def test_a_train_file_and_a_test_file(tmp_path):
    lines = gzip.decompress(LISTING.read_bytes()).splitlines(keepends=True)
    (tmp_path / "old.jsonl").write_bytes(b"".join(lines[:1500]))
    (tmp_path / "new.jsonl.gz").write_bytes(gzip.compress(b"".join(lines[1500:])))

    rows = evaluate_tagger(
        "--train",
        str(tmp_path / "old.jsonl"),
        "--test",
        str(tmp_path / "new.jsonl.gz"),
        "--min-papers",
        "100",
        "--method",
        "paperfeed",
    )

    assert [row["method"] for row in rows] == ["paperfeed"]
    assert rows[0]["micro_f1"] > 0.5


def test_split_by_first_listing_date():
    papers = evaluation.read_papers(LISTING.read_bytes())
    before, after = evaluation.split_by_date(papers, at=date(2026, 1, 1))
    assert (len(before), len(after)) == (2036, 665)
    assert max(p.published_at for p in before).date() < date(2026, 1, 1)
    assert min(p.published_at for p in after).date() == date(2026, 1, 1)

    _, january = evaluation.split_by_date(papers, at=date(2026, 1, 1), until=date(2026, 1, 31))
    assert 0 < len(january) < len(after)
    assert {p.published_at.month for p in january} == {1}


def test_categories_are_those_with_enough_training_papers_and_no_class_strings():
    papers = evaluation.read_papers(LISTING.read_bytes())
    assert evaluation.learnable_categories(papers, min_papers=100) == [
        "cs.AI",
        "cs.CL",
        "cs.CV",
        "cs.LG",
    ]
    # The listing mixes ACM and MSC classes (I.2.7, 68T50) into some papers' categories.
    assert all(
        re.fullmatch(r"[a-z-]+(\.[A-Za-z-]+)?", tag)
        for tag in evaluation.learnable_categories(papers, min_papers=1)
    )


def test_a_file_that_is_not_a_snapshot(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Reading list\n- attention is all you need\n")
    with pytest.raises(CommandError, match=r"notes\.txt: not arXiv JSON Lines"):
        evaluate_tagger("--train", str(path))


def test_a_missing_file():
    with pytest.raises(CommandError, match=r"cannot read /nonexistent/listing\.jsonl"):
        evaluate_tagger("--train", "/nonexistent/listing.jsonl")


def test_too_few_papers_for_any_category():
    with pytest.raises(CommandError, match=r"no category has 5000 training papers .*lower"):
        evaluate_tagger("--train", str(LISTING), "--min-papers", "5000")


def test_a_split_date_outside_the_file():
    with pytest.raises(CommandError, match="0 from then on; choose a --split-date"):
        evaluate_tagger("--train", str(LISTING), "--split-date", "2030-01-01")


def test_a_date_that_is_not_one():
    with pytest.raises(CommandError, match="'2026-13-01' is not a date like 2026-01-01"):
        evaluate_tagger("--train", str(LISTING), "--split-date", "2026-13-01")


def test_a_split_date_with_a_test_file():
    with pytest.raises(CommandError, match="leave them out with --test"):
        evaluate_tagger(
            "--train", str(LISTING), "--test", str(LISTING), "--split-date", "2026-01-01"
        )
