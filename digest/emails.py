"""E-mails: each is three templates (subject, text, HTML) rendered by one helper."""

import zoneinfo
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Preferences, User
from digest import links
from digest.models import Digest, DigestItem
from papers.models import PaperTag


def render_email(
    name: str, context: dict, *, to: str, headers: dict | None = None
) -> EmailMultiAlternatives:
    """emails/<name>_subject.txt, emails/<name>.txt and emails/<name>.html, rendered."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{name}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers or {},
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    return message


# The digest


SNIPPET_CHARS = 220  # about two lines of a mail client's reading pane
SUBJECT_TOPICS = 3
BYLINE_AUTHORS = 3


def digest_message(digest: Digest, *, items: Sequence[DigestItem] | None = None):
    """The digest's e-mail, ready to send: subject, plain text, HTML and list headers.

    `items` are the digest's items when they are not (yet) rows, for a test digest;
    otherwise they are read here. One query for the items (with their tags and the
    reader's settings), and one for the reader unless the caller selected it.
    """
    if items is None:
        return digest_messages([digest])[digest.pk]
    return _compose(digest, _with_tag_names(items), *_settings_of(digest.user))


def digest_messages(digests: Sequence[Digest]) -> dict[int, EmailMultiAlternatives]:
    """The e-mails of several digests, keyed by digest id: one query for all their items."""
    items: dict[int, list[DigestItem]] = {digest.pk: [] for digest in digests}
    for item in _items_of([digest.pk for digest in digests]):
        items[item.digest_id].append(item)
    return {
        digest.pk: _compose(
            digest,
            items[digest.pk],
            *(_settings_on(items[digest.pk][0]) if items[digest.pk] else _settings_of(digest.user)),
        )
        for digest in digests
    }


def _compose(digest: Digest, items, time_zone: str, frequency: str) -> EmailMultiAlternatives:
    user = digest.user
    context = digest_context(digest, items, user=user, time_zone=time_zone, frequency=frequency)
    headers = {
        "Message-ID": digest.message_id,
        "List-Id": f"paperfeed digest <digest.{settings.MESSAGE_ID_DOMAIN}>",
        # RFC 8058: mail providers show an "unsubscribe" button that POSTs to this link.
        "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return render_email("digest", context, to=user.email, headers=headers)


def digest_context(
    digest: Digest, items: Sequence[DigestItem], *, user, time_zone: str, frequency: str
) -> dict:
    """What the digest's templates show. Every value is made ready here, not in the
    templates: thousands of digests are rendered in a row, and Python builds a string
    in a fraction of the time a template takes."""
    actions = links.action_urls(user=user, papers=[item.paper for item in items])
    sections: dict[str, list[dict]] = {}
    for item in items:
        sections.setdefault(item.section, []).append(_entry(item, actions[item.paper_id]))
    topics = [name for name in sections if name]
    topic_text = ", ".join(topics[:SUBJECT_TOPICS])
    if len(topics) > SUBJECT_TOPICS:
        topic_text += " and more"
    site = settings.SITE_URL
    return {
        "user": user,
        "digest": digest,
        "frequency": frequency,
        "day": digest.scheduled_for.astimezone(zoneinfo.ZoneInfo(time_zone)).date(),
        "count": len(items),
        "topics": topic_text,
        "sections": [{"name": name, "items": entries} for name, entries in sections.items()],
        # A test digest is not a row: it has no web copy.
        "web_copy_url": links.web_copy_url(digest=digest) if digest.pk else "",
        "unsubscribe_url": links.unsubscribe_url(user=user),
        "preferences_url": site + reverse("preferences"),
        "digests_url": site + reverse("digest:list"),
        # Subscribed from the home page with an address only: no password yet.
        "account_url": ""
        if user.has_usable_password()
        else site + reverse("account_reset_password"),
    }


def _entry(item: DigestItem, actions: dict[str, str]) -> dict:
    paper = item.paper
    names = paper.author_names
    byline = ", ".join(names[:BYLINE_AUTHORS])
    if len(names) > BYLINE_AUTHORS:
        byline += " et al."
    return {
        "title": paper.title,
        "url": settings.SITE_URL + paper.get_absolute_url(),
        "authors": byline,
        "snippet": snippet(paper.abstract),
        "tags": item.tag_names,
        "reason": item.reason,
        "more_url": actions["more"],
        "less_url": actions["less"],
        "save_url": actions["save"],
    }


def snippet(text: str, width: int = SNIPPET_CHARS) -> str:
    """The start of `text`, whitespace squashed, cut between words to at most `width`.

    What textwrap.shorten does, at a tenth of its cost: it splits the whole text into
    words first, and a digest has a dozen abstracts.
    """
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width - 1)
    return text[: cut if cut > 0 else width - 2] + " …"


def _settings_on(item) -> tuple[str, str]:
    # A reader without Preferences has the defaults' UTC, and no frequency to name.
    return item.reader_time_zone or "UTC", item.reader_frequency or ""


def _settings_of(user) -> tuple[str, str]:
    preferences = (
        getattr(user, "preferences", None)
        if User.preferences.is_cached(user)
        else Preferences.objects.filter(user=user).first()
    )
    if preferences is None:
        return "UTC", ""
    return preferences.time_zone, preferences.digest_frequency


def _items_of(digest_ids: list[int]) -> list[DigestItem]:
    # Tags come from a second query: as a correlated subquery here, a planner misled by
    # fresh statistics (a dispatch just wrote 100,000 items) took minutes, not milliseconds.
    items = list(
        DigestItem.objects.filter(digest_id__in=digest_ids)
        .select_related("paper")
        .only(
            "digest_id",
            "section",
            "reason",
            "paper__title",
            "paper__abstract",
            "paper__author_names",
        )
        .annotate(
            reader_time_zone=F("digest__user__preferences__time_zone"),
            reader_frequency=F("digest__user__preferences__digest_frequency"),
        )
        .order_by("digest_id", "position")
    )
    return _with_tag_names(items)


def _with_tag_names(items: Sequence[DigestItem]) -> Sequence[DigestItem]:
    names: dict[int, list[str]] = {}
    for paper_id, name in (
        PaperTag.objects.filter(paper_id__in=[item.paper_id for item in items])
        .exclude(status=PaperTag.Status.REJECTED)
        .order_by("tag__kind", "tag__name")
        .values_list("paper_id", "tag__name")
    ):
        names.setdefault(paper_id, []).append(name)
    for item in items:
        item.tag_names = names.get(item.paper_id, [])
    return items
