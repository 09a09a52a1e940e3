"""A curator's verdict on tags: confirmed tags stay, rejected ones leave their paper and
never come back (re-tagging leaves reviewed tags as they are)."""

from django.utils import timezone

from papers.models import PaperTag


def review_tags(paper_tags, *, status: str, by) -> int:
    """Confirm or reject these PaperTags (a queryset); how many changed."""
    if status not in (PaperTag.Status.CONFIRMED, PaperTag.Status.REJECTED):
        raise ValueError(f"a review confirms or rejects, not {status!r}")
    return paper_tags.update(status=status, reviewed_by=by, reviewed_at=timezone.now())
