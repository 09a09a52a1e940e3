"""Training the learned tagger on what curators and rules have settled."""

from django.db.models import Q
from django.utils import timezone

from papers.models import Paper, PaperTag, TaggerModel

# A tag needs this many papers before the tagger learns it.
MIN_PAPERS_PER_TAG = 20


def training_set() -> tuple[list[tuple[str, str]], list[frozenset[str]]]:
    """(title, abstract) of every paper with a settled tag, and the slugs of those tags.

    Settled: confirmed by a curator, or put there by a rule or an arXiv category and not
    rejected. The tagger's own suggestions are left out, so it never learns from itself.
    """
    settled = PaperTag.objects.filter(
        Q(status=PaperTag.Status.CONFIRMED)
        | Q(
            status=PaperTag.Status.SUGGESTED,
            source__in=[PaperTag.Source.RULE, PaperTag.Source.CATEGORY],
        )
    )
    labels: dict[int, set[str]] = {}
    for paper_id, slug in settled.values_list("paper_id", "tag__slug").iterator(chunk_size=10_000):
        labels.setdefault(paper_id, set()).add(slug)
    counts: dict[str, int] = {}
    for slugs in labels.values():
        for slug in slugs:
            counts[slug] = counts.get(slug, 0) + 1
    # A tag on too few papers cannot be learnt, nor one on nearly all of them.
    learnable = {
        slug
        for slug, count in counts.items()
        if MIN_PAPERS_PER_TAG <= count <= len(labels) - MIN_PAPERS_PER_TAG
    }
    texts, targets = [], []
    papers = Paper.objects.filter(pk__in=list(labels)).order_by("pk")
    for pk, title, abstract in papers.values_list("pk", "title", "abstract").iterator(
        chunk_size=5000
    ):
        texts.append((title, abstract))
        targets.append(frozenset(labels[pk] & learnable))
    return texts, targets


def train(*, force: bool = False) -> TaggerModel | None:
    """Train and activate a new model, unless the training data is what the active one saw.

    Returns the new model, or None when training was skipped.
    """
    from papers.tagging.learned import LearnedTagger

    texts, targets = training_set()
    if not any(targets):
        return None
    tagger = LearnedTagger()
    version = tagger.version_of(texts, targets)
    active = TaggerModel.objects.filter(active=True).first()
    if active and active.version == version and not force:
        return None
    tagger.fit(texts, targets)
    stored = TaggerModel.objects.create(
        version=tagger.version,
        trained_at=tagger.trained_at or timezone.now(),
        papers=len(texts),
        tags=sorted(tagger.tags),
        metrics=tagger.metrics,
        model=tagger.to_bytes(),
    )
    TaggerModel.objects.exclude(pk=stored.pk).update(active=False)
    return stored
