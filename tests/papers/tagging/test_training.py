from pathlib import Path

import pytest

from papers import importing
from papers.models import Paper, PaperTag, Tag, TaggerModel
from papers.sources import PaperRecord, snapshot
from papers.tagging import training

pytestmark = pytest.mark.django_db

SLICE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "arxiv-cs" / "arxiv-cs-first-200.jsonl.gz"
)


@pytest.fixture
def corpus():
    importing.import_and_process(
        snapshot.parse(SLICE.read_bytes()), run=importing.start_run(source="t")
    )


def test_training_learns_the_settled_tags_and_skips_when_nothing_changed(corpus):
    model = training.train()

    assert model is not None and model.active
    assert "cs-lg" in model.tags  # arXiv categories are settled tags
    assert 0 <= model.metrics["micro_f1"] <= 1
    assert training.train() is None  # same settled tags: skipped
    PaperTag.objects.filter(tag__slug="cs-lg").first().delete()
    assert training.train() is not None  # they changed: trained again
    assert TaggerModel.objects.filter(active=True).count() == 1


def test_learned_suggestions_carry_their_confidence_and_words(corpus):
    training.train()
    source = Paper.objects.filter(categories__contains=["cs.LG"]).first()
    run = importing.start_run(source="t")
    importing.import_and_process(
        [
            PaperRecord(
                source="bibtex",
                position="1",
                title=f"{source.title} (reference copy)",
                abstract=source.abstract,
            )
        ],
        run=run,
    )
    copy = Paper.objects.get(title__endswith="(reference copy)")

    learned = copy.paper_tags.filter(source=PaperTag.Source.LEARNED)

    assert learned.exists()
    suggestion = learned.first()
    assert 0 < suggestion.confidence <= 1
    assert suggestion.reason.startswith("learned from: ")
    words = suggestion.reason.removeprefix("learned from: ").split(", ")
    text = f"{copy.title} {copy.abstract}".lower()
    assert all(word.split()[0] in text for word in words)


def test_the_tagger_never_learns_from_its_own_suggestions(corpus):
    tag = Tag.objects.create(name="Own", slug="own")
    for paper in Paper.objects.all()[:50]:
        PaperTag.objects.create(paper=paper, tag=tag, source=PaperTag.Source.LEARNED)

    _, labels = training.training_set()

    assert not any("own" in tags for tags in labels)
