import json
from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from papers import related, tasks
from papers.models import Paper, RelatedPaper
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

PROTEINS = [
    (
        "Protein structure prediction with attention",
        "We predict the folded structure of a protein from its amino acid sequence, "
        "with attention over residues.",
    ),
    (
        "Folding proteins from their sequence",
        "Amino acid sequences determine protein structure: we learn folding from "
        "residues with attention.",
    ),
    (
        "A benchmark for protein folding",
        "Protein structure prediction from amino acid sequences, measured on new folds.",
    ),
]
TRAFFIC = [
    (
        "Traffic forecasting with graph networks",
        "Graph neural networks forecast road traffic from sensor readings.",
    ),
    (
        "Road sensor graphs",
        "We forecast traffic on road networks with graph neural networks over sensors.",
    ),
]
COMPILER = (
    "Register allocation in compilers",
    "A compiler allocates registers by colouring the interference graph.",
)


def papers(*texts):
    return [PaperFactory(title=title, abstract=abstract) for title, abstract in texts]


def related_to(paper):
    return list(RelatedPaper.objects.filter(paper=paper).values_list("related__title", flat=True))


def related_ids(paper):
    return list(RelatedPaper.objects.filter(paper=paper).values_list("related", flat=True))


def test_similar_papers_are_chosen_over_unrelated_ones():
    folding, *_ = papers(*PROTEINS, *TRAFFIC, COMPILER)

    assert related.refresh() == 6

    chosen = related_to(folding)
    assert set(chosen[:2]) == {title for title, _ in PROTEINS[1:]}
    assert not set(chosen[2:]) & {title for title, _ in PROTEINS}
    traffic = Paper.objects.get(title=TRAFFIC[0][0])
    assert related_to(traffic)[0] == TRAFFIC[1][0]
    scores = list(RelatedPaper.objects.filter(paper=folding).values_list("score", flat=True))
    assert scores == sorted(scores, reverse=True)
    assert all(related.FLOOR <= score <= 1 for score in scores)


def test_a_paper_is_never_its_own_related_paper_but_its_duplicate_is():
    papers(*PROTEINS, *TRAFFIC, PROTEINS[0])

    related.refresh()

    assert not RelatedPaper.objects.filter(paper=F("related")).exists()
    first, duplicate = Paper.objects.filter(title=PROTEINS[0][0]).order_by("pk")
    best = RelatedPaper.objects.filter(paper=first).first()
    assert (best.related, round(best.score, 5)) == (duplicate, 1.0)


def test_no_more_than_the_configured_number_of_related_papers(settings):
    settings.RELATED_PAPERS = 2
    folding, *_ = papers(*PROTEINS, *TRAFFIC, COMPILER, PROTEINS[1], PROTEINS[2])

    related.refresh()

    assert len(related_to(folding)) == 2


def test_catch_up_leaves_chosen_papers_alone_and_the_nightly_refresh_does_not():
    folding, _, benchmark = papers(*PROTEINS)
    related.refresh()
    folding.refresh_from_db()
    chosen_at = folding.related_at
    chosen = list(RelatedPaper.objects.filter(paper=folding).values_list("related", "score"))
    assert chosen_at is not None and chosen

    # A newer paper much like the first, and an older one whose text an import changed.
    newer = PaperFactory(
        title="Predicting protein structure with attention", abstract=PROTEINS[0][1]
    )
    Paper.objects.filter(pk=benchmark.pk).update(abstract=TRAFFIC[0][1], related_at=None)

    assert related.refresh() == 2

    folding.refresh_from_db()
    assert folding.related_at == chosen_at
    assert (
        list(RelatedPaper.objects.filter(paper=folding).values_list("related", "score")) == chosen
    )
    assert related_ids(newer)[0] == folding.pk
    assert related.refresh() == 0

    assert related.refresh_all() == 4
    folding.refresh_from_db()
    assert folding.related_at > chosen_at
    assert related_ids(folding)[0] == newer.pk


def test_given_papers_only():
    folding, sequence, _ = papers(*PROTEINS)

    assert related.refresh([folding.pk]) == 1
    assert related.refresh([folding.pk]) == 0
    assert related.refresh([folding.pk], stale_only=False) == 1

    assert related_to(folding)
    assert not related_to(sequence)
    assert Paper.objects.filter(related_at__isnull=True).count() == 2


def test_queries_do_not_grow_with_the_number_of_papers():
    papers(*PROTEINS, *TRAFFIC)
    with CaptureQueriesContext(connection) as few:
        assert related.refresh_all() == 5

    PaperFactory.create_batch(45)
    with CaptureQueriesContext(connection) as many:
        assert related.refresh_all() == 50

    assert len(many) == len(few) <= 10
    assert RelatedPaper.objects.count() > 45 * 5


def test_papers_with_only_a_word_in_common_are_not_related():
    words = {topic: " ".join(f"{topic}{n}" for n in range(30)) for topic in ("alpha", "beta")}
    first, like_first, second, like_second = papers(
        ("Alpha", f"{words['alpha']} graph"),
        ("Beta", words["alpha"]),
        ("Gamma", f"{words['beta']} graph"),
        ("Delta", words["beta"]),
    )

    related.refresh()

    assert related_ids(first) == [like_first.pk]
    assert related_ids(second) == [like_second.pk]


def test_an_empty_corpus():
    assert related.refresh() == 0
    assert related.refresh_all() == 0


def test_a_single_paper_and_papers_with_nothing_in_common():
    alone = PaperFactory(title="Sparse experts", abstract="")

    assert related.refresh() == 1
    alone.refresh_from_db()
    assert alone.related_at is not None
    assert not RelatedPaper.objects.exists()

    papers(("The and of", ""), ("Kernel methods", "Positive definite kernels."))
    assert related.refresh() == 2
    assert not RelatedPaper.objects.exists()


def test_papers_without_abstracts_are_related_by_their_titles():
    attention, recurrence, _ = papers(
        ("Sparse attention for long documents", ""),
        ("Long documents with sparse attention", ""),
        ("Kernel methods", ""),
    )

    related.refresh()

    assert related_to(attention) == [recurrence.title]
    assert related_to(recurrence) == [attention.title]


def test_a_paper_changed_or_deleted_while_compared_is_left_for_the_next_run():
    folding, sequence, benchmark = papers(*PROTEINS)
    wanted = {folding.pk, sequence.pk}
    ids, modified, x = related._read_corpus(wanted)
    # Meanwhile an import changes one paper, and a curator deletes another.
    Paper.objects.filter(pk=sequence.pk).update(
        abstract="Something else.", modified_at=sequence.modified_at + timedelta(seconds=1)
    )
    benchmark.delete()

    rows = [i for i, pk in enumerate(ids) if pk in wanted]
    for part, neighbours, scores in related.nearest(x, rows, k=6):
        related._replace(ids, modified, part, neighbours, scores)
    connection.check_constraints()

    assert Paper.objects.get(pk=folding.pk).related_at is not None
    assert Paper.objects.get(pk=sequence.pk).related_at is None
    assert related_to(folding) == [sequence.title]


def test_the_task_runs_both_ways():
    papers(*PROTEINS)

    assert tasks.refresh_related() == 3
    assert tasks.refresh_related() == 0
    assert tasks.refresh_related.apply(kwargs={"full": True}).get() == 3


def test_the_command():
    papers(*PROTEINS)
    out = StringIO()

    call_command("refresh_related", stdout=out)
    call_command("refresh_related", "--all", stdout=out)

    assert out.getvalue().splitlines() == [
        "chose the related papers of 3 papers",
        "chose the related papers of 3 papers",
    ]


def test_beat_runs_the_catch_up_often_and_the_full_refresh_nightly():
    # Run here, as a test that flushes the database (transaction=True) empties the
    # tables the migration filled.
    migration = import_module("papers.migrations.0008_related_schedule")
    migration.remove(apps, None)
    migration.create(apps, None)
    schedules = {
        task.name: (task.crontab.minute, task.crontab.hour, json.loads(task.kwargs))
        for task in PeriodicTask.objects.filter(task="papers.tasks.refresh_related")
    }

    assert schedules == {
        "Catch up on related papers": ("*/10", "*", {}),
        "Refresh all related papers": ("45", "4", {"full": True}),
    }
    migration.remove(apps, None)
    assert not PeriodicTask.objects.filter(task="papers.tasks.refresh_related").exists()


def test_the_demo_site_has_related_papers_at_once():
    call_command("setup_demo", stdout=StringIO())

    assert not Paper.objects.filter(related_at__isnull=True).exists()
    assert RelatedPaper.objects.count() > Paper.objects.count()
