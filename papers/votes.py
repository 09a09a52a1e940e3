"""Readers' votes: one per reader per paper, counted on the paper."""

from django.db import transaction
from django.db.models import F

from papers.models import Paper, Vote


def set_vote(user, paper: Paper, on: bool) -> int:
    """Vote for a paper or take the vote back; returns the paper's vote count.

    The request carries the wanted state rather than "toggle", so a double click or a
    retried request cannot undo itself.
    """
    with transaction.atomic():
        if on:
            _, changed = Vote.objects.get_or_create(user=user, paper=paper)
            delta = 1 if changed else 0
        else:
            changed, _ = Vote.objects.filter(user=user, paper=paper).delete()
            delta = -changed
        if delta:
            Paper.objects.filter(pk=paper.pk).update(vote_count=F("vote_count") + delta)
    return Paper.objects.values_list("vote_count", flat=True).get(pk=paper.pk)


def voted_ids(user, papers) -> set[int]:
    """Which of these papers the reader voted for: one query, whatever their number."""
    if not user.is_authenticated:
        return set()
    ids = [paper.pk for paper in papers]
    return set(Vote.objects.filter(user=user, paper_id__in=ids).values_list("paper_id", flat=True))
