"""The digest evaluation: simulated readers from an arXiv snapshot, one JSON line per method.

The sample's origin is in tests/fixtures/arxiv-cs/README.md.
"""

import gzip
import json
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class

from digest import evaluation
from digest.ranking import PaperText

SAMPLE = Path(__file__).parents[1] / "fixtures" / "arxiv-cs" / "arxiv-cs-2025-10-every-5th.jsonl.gz"
KEYS = {"method", "ndcg@10", "ndcg@10_stderr", "precision@10", "readers", "readers_per_s"}
LEAD = {"paperfeed_lead", "paperfeed_lead_stderr"}
# The sample is small: interests need fewer papers than in a year of arXiv.
RELAXED = ("--min-interest-papers", "20", "--max-interest-share", "0.2", "--min-relevant", "3")


def evaluate_digest(*args) -> list[dict]:
    out = StringIO()
    call_command("evaluate_digest", *args, stdout=out, stderr=StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_row_per_method_and_paperfeed_beats_chance():
    rows = evaluate_digest(str(SAMPLE), *RELAXED)

    assert [row["method"] for row in rows] == ["paperfeed", "arxiv-sanity-lite", "random"]
    for row in rows:
        assert set(row) == (KEYS if row["method"] == "paperfeed" else KEYS | LEAD)
        assert row["ndcg@10_stderr"] > 0
        assert 0 <= row["ndcg@10"] <= 1
        assert 0 <= row["precision@10"] <= 1
        assert row["readers_per_s"] > 0
    assert len({row["readers"] for row in rows}) == 1
    assert rows[0]["readers"] >= 15
    paperfeed, _, chance = rows
    assert paperfeed["ndcg@10"] > chance["ndcg@10"] + 0.05
    assert paperfeed["precision@10"] > chance["precision@10"]
    # The lead is the difference of the means, whatever order the readers are in.
    for row in rows[1:]:
        assert row["paperfeed_lead"] == pytest.approx(
            paperfeed["ndcg@10"] - row["ndcg@10"], abs=2e-4
        )
        assert 0 < row["paperfeed_lead_stderr"] < 1


def test_a_seed_always_means_the_same_readers_and_scores():
    def scores(*args):
        return [
            {key: value for key, value in row.items() if key != "readers_per_s"}
            for row in evaluate_digest(str(SAMPLE), *RELAXED, "--method", "paperfeed", *args)
        ]

    assert scores("--seed", "7") == scores("--seed", "7")
    assert scores("--seed", "7") != scores("--seed", "8")


def test_limit_and_method_for_quick_runs():
    rows = evaluate_digest(
        str(SAMPLE), *RELAXED, "--limit", "5", "--method", "random", "--method", "paperfeed"
    )

    assert [row["method"] for row in rows] == ["random", "paperfeed"]
    assert {row["readers"] for row in rows} == {5}
    # paperfeed was not measured yet when random's line was printed: no lead to tell.
    assert not LEAD & set(rows[0])


def test_the_ceiling_is_asked_for_by_name_and_learns_from_labels():
    rows = evaluate_digest(str(SAMPLE), *RELAXED, "--method", "random", "--method", "ceiling")

    assert [row["method"] for row in rows] == ["random", "ceiling"]
    chance, ceiling = rows
    # Told the interest and given every labelled paper before the cut, it finds them.
    assert ceiling["ndcg@10"] > chance["ndcg@10"] + 0.1
    assert "ceiling" not in evaluation.METHODS


def test_other_cut_dates_for_tuning():
    err = StringIO()
    call_command(
        "evaluate_digest",
        *(str(SAMPLE), *RELAXED, "--method", "random", "--cut", "0.6", "--cut", "0.7"),
        stdout=StringIO(),
        stderr=err,
    )

    papers = evaluation.read_papers(SAMPLE.read_bytes())
    days = evaluation.cut_days(papers, cuts=(0.6, 0.7))
    assert days != evaluation.cut_days(papers)
    assert f"cuts at {days[0]}, {days[1]}:" in err.getvalue()
    with pytest.raises(CommandError, match="not a share"):
        evaluate_digest(str(SAMPLE), "--cut", "0")


def test_the_issues_thresholds_are_the_defaults():
    command = load_command_class("digest", "evaluate_digest")
    options = vars(command.create_parser("manage.py", "evaluate_digest").parse_args(["x.jsonl"]))

    assert options["min_interest_papers"] == 150
    assert options["max_interest_share"] == 0.05
    assert options["min_relevant"] == 5
    assert evaluation.SAVED == 10
    assert evaluation.CUTS == (0.50, 0.65, 0.80)
    assert evaluation.HISTORY.days == 28
    assert evaluation.WINDOW.days == 7


def test_a_small_file_with_the_default_thresholds_says_what_to_do():
    with pytest.raises(CommandError, match="relax the thresholds"):
        evaluate_digest(str(SAMPLE))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--limit", "0"), "use 1 or more"),
        (("--min-interest-papers", "many"), "not a whole number"),
        (("--max-interest-share", "1.5"), "not a share"),
    ],
)
def test_bad_options_are_explained(args, message):
    with pytest.raises(CommandError, match=message):
        evaluate_digest(str(SAMPLE), *args)


def test_unreadable_files_are_explained(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        evaluate_digest(str(tmp_path / "missing.jsonl.gz"))
    (tmp_path / "notes.txt").write_text("not a snapshot\n")
    with pytest.raises(CommandError, match=r"notes\.txt"):
        evaluate_digest(str(tmp_path / "notes.txt"))


def test_papers_are_read_in_listing_order_with_their_categories():
    papers = evaluation.read_papers(SAMPLE.read_bytes())

    assert len(papers) == 1386
    assert [paper.day for paper in papers] == sorted(paper.day for paper in papers)
    assert papers[0].day >= date(2025, 10, 1)
    assert papers[-1].day <= date(2025, 11, 25)
    assert all(paper.text.id == paper.id == k for k, paper in enumerate(papers))
    assert all(paper.categories for paper in papers)


def _paper(number: int, day: date, *categories: str) -> evaluation.Paper:
    text = PaperText(id=number, title=f"paper {number}", abstract="")
    return evaluation.Paper(id=number, day=day, categories=frozenset(categories), text=text)


def test_interests_are_categories_and_pairs_neither_rare_nor_common():
    start = date(2025, 1, 1)
    papers = [
        *(_paper(k, start, "cs.RO", "cs.CV") for k in range(3)),
        *(_paper(3 + k, start, "cs.RO") for k in range(2)),
        *(_paper(5 + k, start, "cs.LG") for k in range(15)),
    ]

    found = evaluation.interests(papers, min_papers=3, max_share=0.5)

    # cs.LG is in 75% of the papers; cs.CV alone and the pair have 3, cs.RO has 5.
    assert found == [("cs.CV",), ("cs.CV", "cs.RO"), ("cs.RO",)]


def test_readers_save_from_the_four_weeks_before_a_cut_and_are_judged_on_the_week_after():
    cut = date(2025, 6, 2)
    days = [cut - timedelta(days=40), cut - timedelta(days=20), cut, cut + timedelta(days=6)]
    papers, number = [], 0
    for day in days:
        for categories in (("cs.RO",),) * 12 + (("cs.CL",),) * 12:
            papers.append(_paper(number, day, *categories))
            number += 1
    papers.append(_paper(number, cut + timedelta(days=7), "cs.RO"))  # a week later: not new

    readers = evaluation.simulate_readers(
        papers, min_papers=1, max_share=1.0, min_relevant=5, cuts=(0.5,)
    )

    assert evaluation.cut_days(papers, cuts=(0.5,)) == [cut]
    assert {reader.interest for reader in readers} == {("cs.RO",), ("cs.CL",)}
    for reader in readers:
        assert len(reader.saved) == 10
        for i in reader.saved:
            assert days[1] == papers[i].day
            assert set(reader.interest) <= papers[i].categories
        assert {papers[i].day for i in reader.candidates} == {cut, days[3]}
        assert len(reader.candidates) == 48
        assert reader.relevant == {
            i for i in reader.candidates if set(reader.interest) <= papers[i].categories
        }


def test_ndcg_rewards_relevant_papers_near_the_top():
    relevant = frozenset({1, 2})

    assert evaluation._ndcg([1, 2, 3], relevant) == pytest.approx(1.0)
    assert evaluation._ndcg([3, 1, 2], relevant) < 1.0
    assert evaluation._ndcg([3, 4], relevant) == 0.0
    assert evaluation._ndcg([], relevant) == 0.0


def test_the_sample_is_small_and_real():
    assert SAMPLE.stat().st_size < 1_000_000
    first = json.loads(gzip.decompress(SAMPLE.read_bytes()).splitlines()[0])
    assert set(first) >= {"id", "title", "abstract", "categories", "listing_dates"}
