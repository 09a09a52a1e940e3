import datetime as dt
import smtplib
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from digest import sending
from digest.models import Digest, DigestItem, Feedback

TOTALS_DAYS = 30
# A paper's search vector and fingerprints are as long as its text and never shown here.
_PAPER_BULK = ["paper__search_vector", "paper__fingerprints"]


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    fields = ["position", "paper", "section", "reason", "score"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("paper").defer(*_PAPER_BULK)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "period",
        "status",
        "scheduled_for",
        "sent_at",
        "item_count",
        "attempts",
        "short_error",
    ]
    list_filter = ["status", "scheduled_for", "sent_at"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    readonly_fields = [f.name for f in Digest._meta.fields]
    inlines = [DigestItemInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # A record of what was sent: changing it would rewrite history.
        return False

    @admin.display(description="papers", ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.error if len(obj.error) <= 80 else f"{obj.error[:79]}…"

    def get_urls(self):
        return [
            path("totals/", self.admin_site.admin_view(self.totals_view), name="digest_totals"),
            path(
                "send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="digest_send_test",
            ),
            *super().get_urls(),
        ]

    def totals_view(self, request):
        """Digests per day and status over the last TOTALS_DAYS days: one query."""
        if not self.has_view_permission(request):
            return redirect("admin:index")
        start = timezone.now() - dt.timedelta(days=TOTALS_DAYS)
        counts = {status: Count("id", filter=Q(status=status)) for status in Digest.Status.values}
        days = (
            Digest.objects.filter(scheduled_for__gte=start)
            .annotate(day=TruncDate("scheduled_for", tzinfo=dt.UTC))
            .values("day")
            .annotate(total=Count("id"), **counts)
            .order_by("-day")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Digests per day, last {TOTALS_DAYS} days",
            "statuses": Digest.Status.choices,
            "days": [
                {
                    **day,
                    "by_status": [day[status] for status in Digest.Status.values],
                    "query": _day_query(day["day"]),
                }
                for day in days
            ],
        }
        return TemplateResponse(request, "admin/digest/digest/totals.html", context)

    def send_test_view(self, request):
        """Mail the staff member their own next digest as it would be now; record nothing."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            return redirect("admin:index")
        try:
            count = sending.send_test_digest(user=request.user)
        except ValueError as problem:
            messages.warning(request, str(problem))
        except (smtplib.SMTPException, OSError) as problem:
            messages.error(request, f"The mail server did not take the test digest: {problem}")
        else:
            messages.success(
                request,
                f"A test digest of {count} paper{'s' if count != 1 else ''} "
                f"is on its way to {request.user.email}.",
            )
        return redirect("admin:digest_digest_changelist")


def _day_query(day: dt.date) -> str:
    """The changelist's filter for the digests due on `day` (UTC), as a query string."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    return urlencode(
        {"scheduled_for__gte": start.isoformat(), "scheduled_for__lt": end.isoformat()}
    )


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "value", "created_at"]
    list_filter = ["value"]
    list_select_related = ["user", "paper"]
    search_fields = ["user__email", "paper__title"]
    raw_id_fields = ["user", "paper"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*_PAPER_BULK)
