from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Digest(models.Model):
    """One reader's digest for one period: built once, sent at most once.

    The period ("2026-11-27" for a daily digest, "2026-W48" for a weekly one, in the
    reader's zone) is unique per reader, so however often a dispatcher or a retry runs,
    a reader has one digest per day or week. See digest/sending.py for how a digest
    moves from pending to sent without being lost or sent twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (nothing new)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests"
    )
    period = models.CharField(max_length=10, help_text="Local day (daily) or ISO week (weekly).")
    scheduled_for = models.DateTimeField(help_text="When the reader's schedule made it due.")
    since = models.DateTimeField(help_text="Papers first seen after this were candidates.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    leased_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it until then."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "period"], name="digest_once_per_period"),
        ]
        indexes = [
            models.Index(
                fields=["leased_until"],
                name="digest_unsent_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["user", "-scheduled_for"], name="digest_user_idx"),
        ]

    def __str__(self):
        return f"{self.user} · {self.period}"

    def get_absolute_url(self):
        return reverse("digest:detail", args=[self.pk])

    @property
    def message_id(self) -> str:
        # The same on every attempt: mail systems that meet one Message-ID twice show it once.
        return f"<digest-{self.pk}-{self.period}@{settings.MESSAGE_ID_DOMAIN}>"


class DigestItem(models.Model):
    """A paper in a digest, where it stood and why it was chosen."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    score = models.FloatField()
    section = models.CharField(max_length=100, help_text="The topic it is listed under.")
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "paper"], name="digestitem_unique"),
        ]

    def __str__(self):
        return f"{self.paper_id} in {self.digest_id}"


class Feedback(models.Model):
    """A reader's 👍 or 👎 on a paper, from a digest or the site; the latest one counts."""

    class Value(models.IntegerChoices):
        MORE = 1, "👍 More like this"
        LESS = -1, "👎 Not interested"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback"
    )
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    value = models.SmallIntegerField(choices=Value.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "paper"], name="feedback_once_per_paper"),
        ]

    def __str__(self):
        return f"{self.user} {self.get_value_display()} {self.paper_id}"
