"""A reader's personal data: all of it exported as one document, or all of it deleted."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Prefetch, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import SavedSearch
from accounts.preferences import preferences_of
from digest.models import Feedback
from papers.models import Author, ListItem, Paper, ReadingList, Tag, Vote

EXPORT_FORMAT = "paperfeed-export"
EXPORT_VERSION = 1


def export_account(user) -> dict:
    """Everything the reader gave or made here, as JSON-ready data (dates as datetimes).

    A fixed number of queries whatever the amount: each section is one or two queries.
    """
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now(),
        **{section: export(user) for section, export in EXPORT_SECTIONS.items()},
    }


def _profile(user) -> dict:
    addresses = EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    return {
        "email": user.email,
        "name": user.name,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "email_addresses": list(addresses.values("email", "verified", "primary")),
    }


def _preferences(user) -> dict:
    preferences = preferences_of(user)
    return {
        "digest_frequency": preferences.digest_frequency,
        "digest_weekday": preferences.get_digest_weekday_display(),
        "digest_hour": preferences.digest_hour,
        "time_zone": preferences.time_zone,
        "digest_size": preferences.digest_size,
        "next_digest_at": preferences.next_digest_at,
    }


def _follows(user) -> dict:
    # Tag.followers and Author.followers are the Preferences that follow them.
    return {
        "tags": list(
            Tag.objects.filter(followers__user=user).order_by("name").values("slug", "name")
        ),
        "authors": list(
            Author.objects.filter(followers__user=user).order_by("name").values("id", "name")
        ),
    }


def _saved_searches(user) -> list[dict]:
    searches = SavedSearch.objects.filter(user=user).order_by("name")
    return list(
        searches.values(
            "name", "query", "author", "has_code", "created_at", tag_slug=F("tag__slug")
        )
    )


def _reading_lists(user) -> list[dict]:
    items = ListItem.objects.select_related("paper").order_by("position", "added_at")
    lists = (
        ReadingList.objects.filter(owner=user)
        .order_by("name")
        .prefetch_related(Prefetch("items", queryset=items))
    )
    return [
        {
            "name": reading_list.name,
            "description": reading_list.description,
            "visibility": reading_list.visibility,
            "created_at": reading_list.created_at,
            "updated_at": reading_list.updated_at,
            "items": [
                {
                    "paper": _paper(item.paper),
                    "note": item.note,
                    "status": item.status,
                    "position": item.position,
                    "added_at": item.added_at,
                }
                for item in reading_list.items.all()
            ],
        }
        for reading_list in lists
    ]


def _votes(user) -> list[dict]:
    votes = Vote.objects.filter(user=user).select_related("paper").order_by("created_at", "id")
    return [{"paper": _paper(vote.paper), "created_at": vote.created_at} for vote in votes]


def _feedback(user) -> list[dict]:
    # Their 👍 and 👎 from digests and the site: what they said about which paper, when.
    signals = (
        Feedback.objects.filter(user=user).select_related("paper").order_by("created_at", "id")
    )
    return [
        {
            "paper": _paper(signal.paper),
            "value": "more" if signal.value == Feedback.Value.MORE else "less",
            "created_at": signal.created_at,
        }
        for signal in signals
    ]


EXPORT_SECTIONS = {
    "profile": _profile,
    "preferences": _preferences,
    "follows": _follows,
    "saved_searches": _saved_searches,
    "reading_lists": _reading_lists,
    "votes": _votes,
    "feedback": _feedback,
}


def _paper(paper: Paper) -> dict:
    return {
        "id": paper.pk,
        "title": paper.title,
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
        "link": f"{settings.SITE_URL}{paper.get_absolute_url()}",
    }


def delete_account(user) -> None:
    """Delete the reader and everything personal: preferences and follows, saved
    searches, reading lists with their notes, votes, e-mail addresses, digests.

    Papers keep denormalised vote and save counts, which must lose this reader's share
    in the same transaction as their votes and list items go.
    """
    with transaction.atomic():
        # Counters are clamped at zero: should one have drifted below the truth, the
        # deletion must still go through (the column refuses negative numbers).
        Paper.objects.filter(votes__user=user).update(vote_count=Greatest(F("vote_count") - 1, 0))
        saves = (
            ListItem.objects.filter(reading_list__owner=user, paper=OuterRef("pk"))
            .values("paper")
            .annotate(n=Count("pk"))
            .values("n")
        )
        Paper.objects.filter(list_items__reading_list__owner=user).update(
            save_count=Greatest(F("save_count") - Subquery(saves), 0)
        )
        # Everything else personal hangs off the user with on_delete=CASCADE; records
        # they only touched as a curator (imports, tag reviews) keep a NULL instead.
        user.delete()
