"""A reader's 👍 and 👎: recorded from a digest or the site, read by the next ranking."""

from django.utils import timezone

from digest.models import Feedback


def set_feedback(user, paper, value: int) -> None:
    """Record 👍 (1) or 👎 (-1) on a paper; a later opinion replaces an earlier one."""
    Feedback.objects.update_or_create(
        user=user, paper=paper, defaults={"value": value, "created_at": timezone.now()}
    )


def clear_feedback(user, paper=None) -> int:
    """Forget one paper's signal, or (no paper) all of the reader's; how many went."""
    signals = Feedback.objects.filter(user=user)
    if paper is not None:
        signals = signals.filter(paper=paper)
    return signals.delete()[0]


def feedback_of(user):
    return Feedback.objects.filter(user=user).select_related("paper")
