"""E-mails: each is three templates (subject, text, HTML) rendered by one helper.

The digest goes out by the thousand, from a worker meant to send hundreds a second, so
its making is measured (`python -m bench.digests`): a paper's entry is rendered once and
reused in every digest it is in, the rest of each e-mail is made from values prepared
in Python, and its bytes are written directly rather than by the email package."""

import base64
import dataclasses
import datetime as dt
import functools
import html
import quopri
import re
import secrets
import zoneinfo
from collections.abc import Sequence
from email.utils import formatdate, getaddresses, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import ADDRESS_HEADERS, BadHeaderError, sanitize_address
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import mark_safe

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
# The reader's day, atop the e-mail and in the subject (Django's date formats).
DAY_FORMAT = "l j F Y"
SHORT_DAY_FORMAT = "j M"


def digest_message(digest: Digest, *, items: Sequence[DigestItem] | None = None):
    """The digest's e-mail, ready to send: subject, plain text, HTML and list headers.

    `items` are the digest's items when they are not (yet) rows, for a test digest;
    otherwise they are read here. Two queries for the items and their tags, and two for
    the reader and their settings unless the caller selected them.
    """
    return DigestMail([digest], items=items).message(digest)


def digest_messages(digests: Sequence[Digest]) -> dict[int, EmailMultiAlternatives]:
    """The e-mails of several digests, keyed by digest id (see DigestMail)."""
    mail = DigestMail(digests)
    return {digest.pk: mail.message(digest) for digest in digests}


class DigestMail:
    """The e-mails of a batch of digests: their items read together (two queries), what
    they share looked up once, and each e-mail made when asked for, so that a sender
    can make the next ones while the server reads the last. Each reader's settings are
    read from their Preferences: one query per reader unless the caller selected them
    (`select_related("user__preferences")`, as the sender does).

    `items` are one digest's items when they are not (yet) rows, for a test digest.
    """

    def __init__(self, digests: Sequence[Digest], *, items: Sequence[DigestItem] | None = None):
        self.items: dict[int | None, list[_Item]] = {digest.pk: [] for digest in digests}
        if items is None:
            for item in _items_of([digest.pk for digest in digests]):
                self.items[item.digest_id].append(item)
        else:
            [digest] = digests
            self.items[digest.pk] = _with_tag_names([_Item.of(item) for item in items])
        self.links = links.Links()
        site = settings.SITE_URL
        self.preferences_url = site + reverse("preferences")
        self.digests_url = site + reverse("digest:list")
        self.account_url = site + reverse("account_reset_password")
        self.days: dict[dt.date, dict[str, str]] = {}

    def message(self, digest: Digest) -> EmailMultiAlternatives:
        user = digest.user
        time_zone, frequency = _settings_of(user)
        context = self.context(
            digest, self.items[digest.pk], user=user, time_zone=time_zone, frequency=frequency
        )
        headers = {
            "Message-ID": digest.message_id,
            "List-Id": f"paperfeed digest <digest.{settings.MESSAGE_ID_DOMAIN}>",
            # RFC 8058: mail providers show an "unsubscribe" button that POSTs to this link.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return render_email("digest", context, to=user.email, headers=headers)

    def context(self, digest, items, *, user, time_zone: str, frequency: str) -> dict:
        """What the digest's templates show. Every value is made ready here, not in the
        templates: thousands of digests are rendered in a row, and Python builds a
        string in a fraction of the time a template takes. Each section holds its
        papers' entries, already rendered (see _entries_of), text and HTML."""
        actions = self.links.action_urls(user=user, paper_ids=[item.paper_id for item in items])
        sections: dict[str, tuple[list[str], list[str]]] = {}
        for item in items:
            text, html = _entries_of(item, actions[item.paper_id])
            entries = sections.setdefault(item.section, ([], []))
            entries[0].append(text)
            entries[1].append(html)
        topics = [name for name in sections if name]
        topic_text = ", ".join(topics[:SUBJECT_TOPICS])
        if len(topics) > SUBJECT_TOPICS:
            topic_text += " and more"
        return {
            "user": user,
            "digest": digest,
            "frequency": frequency,
            **self._day(digest.scheduled_for.astimezone(zoneinfo.ZoneInfo(time_zone)).date()),
            "count": len(items),
            "topics": topic_text,
            "sections": [
                {"name": name, "text": "".join(text), "html": mark_safe("".join(html))}
                for name, (text, html) in sections.items()
            ],
            # A test digest is not a row: it has no web copy.
            "web_copy_url": self.links.web_copy_url(digest=digest) if digest.pk else "",
            "unsubscribe_url": self.links.unsubscribe_url(user=user),
            "preferences_url": self.preferences_url,
            "digests_url": self.digests_url,
            # Subscribed from the home page with an address only: no password yet.
            "account_url": "" if user.has_usable_password() else self.account_url,
        }

    def _day(self, day: dt.date) -> dict[str, str]:
        # Formatting a date takes longer than rendering the rest of a subject: done once
        # per day, and a batch's digests have one or two.
        if day not in self.days:
            self.days[day] = {
                "day": date_format(day, DAY_FORMAT),
                "short_day": date_format(day, SHORT_DAY_FORMAT),
            }
        return self.days[day]


# A paper's entry (emails/digest_paper.txt and .html) is the same in every digest the
# paper is in, but for the reader's reason and links. So it is rendered once, with
# stand-ins for those four, and each digest fills them in: rendering the entries of
# every digest anew was most of the cost of making one.
_READERS_OWN = ("reason", "more_url", "less_url", "save_url")
# A character no paper can hold (PostgreSQL text cannot) marks where each one goes.
_MARK = "\x00"


def _entries_of(item: "_Item", actions: dict[str, str]) -> tuple[str, str]:
    """The item's entry in the text and in the HTML."""
    text, in_html = _paper_entries(
        settings.SITE_URL,
        item.paper_id,
        item.title,
        tuple(item.author_names),
        item.abstract,
        tuple(item.tag_names),
    )
    own = (item.reason, actions["more"], actions["less"], actions["save"])
    # What Django's escape() does, less its handling of lazy strings, which took four
    # times as long: a digest has dozens of these.
    return text.fill(own), in_html.fill([html.escape(value) for value in own])


# Bounded: a day's digests hold a few thousand papers at most, and a paper edited since
# is another key.
@functools.lru_cache(maxsize=4096)
def _paper_entries(site, pk, title, author_names, abstract, tags) -> tuple["_Stencil", "_Stencil"]:
    byline = ", ".join(author_names[:BYLINE_AUTHORS])
    if len(author_names) > BYLINE_AUTHORS:
        byline += " et al."
    it = {
        "title": title,
        "url": site + reverse("paper", args=[pk]),
        "authors": byline,
        "snippet": snippet(abstract),
        "tags": tags,
        **{name: f"{_MARK}{slot}{_MARK}" for slot, name in enumerate(_READERS_OWN)},
    }
    return (
        _Stencil(render_to_string("emails/digest_paper.txt", {"it": it})),
        _Stencil(render_to_string("emails/digest_paper.html", {"it": it})),
    )


class _Stencil:
    """A rendered template with marked slots, filled in by position."""

    def __init__(self, rendered: str):
        pieces = rendered.split(_MARK)
        self.texts = pieces[0::2]
        self.slots = [int(slot) for slot in pieces[1::2]]

    def fill(self, values: Sequence[str]) -> str:
        filled = [self.texts[0]]
        for slot, text in zip(self.slots, self.texts[1:], strict=True):
            filled += (values[slot], text)
        return "".join(filled)


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


def _settings_of(user) -> tuple[str, str]:
    """The reader's time zone and digest frequency: a reader without Preferences has
    the defaults' UTC, and no frequency to name."""
    preferences = (
        getattr(user, "preferences", None)
        if User.preferences.is_cached(user)
        else Preferences.objects.filter(user=user).first()
    )
    if preferences is None:
        return "UTC", ""
    return preferences.time_zone, preferences.digest_frequency


@dataclasses.dataclass(slots=True)
class _Item:
    """What an e-mail shows of a digest item, read as plain values: model instances
    took about as long to make as the e-mail's templates take to render."""

    digest_id: int | None
    paper_id: int
    section: str
    reason: str
    title: str
    abstract: str
    author_names: list[str]
    tag_names: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def of(cls, item: DigestItem) -> "_Item":
        paper = item.paper
        return cls(
            item.digest_id,
            paper.pk,
            item.section,
            item.reason,
            paper.title,
            paper.abstract,
            paper.author_names,
        )


def _items_of(digest_ids: list[int]) -> list[_Item]:
    # Tags come from a second query: as a correlated subquery here, a planner misled by
    # fresh statistics (a dispatch just wrote 100,000 items) took minutes, not milliseconds.
    # The readers' settings come with the digests (see DigestMail): joined here, they
    # made the planner hash every digest and reader.
    rows = (
        DigestItem.objects.filter(digest_id__in=digest_ids)
        .order_by("digest_id", "position")
        .values_list(
            "digest_id",
            "paper_id",
            "section",
            "reason",
            "paper__title",
            "paper__abstract",
            "paper__author_names",
        )
    )
    return _with_tag_names([_Item(*row) for row in rows])


def _with_tag_names(items: list[_Item]) -> list[_Item]:
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


# An e-mail's bytes, made directly: Django's message().as_bytes() goes through the email
# package's general machinery (MIME objects, a generator, header folding by parsing) and
# takes milliseconds, longer than making the digest itself.


def as_bytes(message: EmailMultiAlternatives) -> bytes:
    """`message` as it goes over SMTP (CRLF line ends; dot-stuffing is the sender's),
    as message().as_bytes() makes it: the same headers and parts, each text part in
    UTF-8, 8bit unless a line is too long for SMTP (quoted-printable then). Anything
    but plain text with one alternative (attachments, Cc, another charset) is left to
    Django."""
    encoding = message.encoding or settings.DEFAULT_CHARSET
    if (
        message.attachments
        or message.cc
        or message.reply_to
        or not message.body
        or message.content_subtype != "plain"
        or message.alternative_subtype != "alternative"
        or len(message.alternatives) != 1
        or not message.alternatives[0].mimetype.startswith("text/")
        or encoding.lower().replace("_", "-") != "utf-8"
    ):
        return message.message().as_bytes(linesep="\r\n")
    (content, mimetype) = message.alternatives[0]
    parts = [_text_part(message.body, "text/plain"), _text_part(content, mimetype)]
    boundary = f"=_{secrets.token_hex(16)}"
    while any(boundary.encode() in part for part in parts):  # as likely as a lottery win
        boundary = f"=_{secrets.token_hex(16)}"
    given = {name.lower() for name in message.extra_headers}
    headers = [
        ("Subject", message.subject),
        ("From", message.extra_headers.get("From", message.from_email)),
        ("To", ", ".join(str(address) for address in message.to)),
    ]
    if "date" not in given:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in given:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers += [
        (name, value)
        for name, value in message.extra_headers.items()
        if name.lower() not in {"from", "to", "cc", "reply-to"}
    ]
    head = "".join(
        [
            _fold(f'Content-Type: multipart/alternative; boundary="{boundary}"') + "\r\n",
            "MIME-Version: 1.0\r\n",
            *(_header(name, str(value), encoding) for name, value in headers),
            "\r\n",
        ]
    )
    delimiter = f"\r\n--{boundary}\r\n".encode()
    return b"".join(
        [
            head.encode("ascii"),
            delimiter[2:],
            delimiter.join(parts),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


_LINE_END = re.compile(r"\r\n|\r|\n")
# RFC 5322 2.1.1: a line must be at most 998 characters, and should be at most 78.
_LONGEST_LINE = 998
_FOLD_AT = 78


def _text_part(text: str, mimetype: str) -> bytes:
    if "\r" in text:  # every kind of line end becomes CRLF, as the email package makes it
        text = _LINE_END.sub("\n", text)
    data = text.encode()
    if max(map(len, data.split(b"\n"))) > _LONGEST_LINE:
        transfer = "quoted-printable"
        body = quopri.encodestring(data).replace(b"\n", b"\r\n")
    else:
        transfer = "7bit" if data.isascii() else "8bit"
        body = data.replace(b"\n", b"\r\n")
    head = (
        f'Content-Type: {mimetype}; charset="utf-8"\r\n'
        "MIME-Version: 1.0\r\n"
        f"Content-Transfer-Encoding: {transfer}\r\n\r\n"
    )
    return head.encode() + body


def _header(name: str, value: str, encoding: str) -> str:
    """One header line, folded, in ASCII: addresses with non-ASCII in them as Django
    writes them, other text as RFC 2047 encoded words."""
    if "\n" in value or "\r" in value:
        raise BadHeaderError(f"The {name} header cannot hold a line break: {value!r}")
    if not value.isascii():
        if name.lower() not in ADDRESS_HEADERS:
            return f"{name}: " + "\r\n ".join(_encoded_words(value)) + "\r\n"
        value = ", ".join(sanitize_address(address, encoding) for address in getaddresses([value]))
    return _fold(f"{name}: {value}") + "\r\n"


def _fold(line: str) -> str:
    """`line` folded before spaces into lines of at most _FOLD_AT characters where it
    can be; a longer word goes on a line of its own, except the first, which stays
    beside the header's name (a reader would keep the fold's space in its value)."""
    if len(line) <= _FOLD_AT:
        return line
    name, *words = line.split(" ")
    folded = [f"{name} {words.pop(0)}"]
    for word in words:
        if not word or len(folded[-1]) + 1 + len(word) <= _FOLD_AT:
            folded[-1] += " " + word
        else:
            folded.append(word)
    return "\r\n ".join(folded)


# 42 bytes of UTF-8 make 56 characters of base64: with "=?utf-8?b?" and "?=", an encoded
# word of 68 characters, short enough to follow "Subject: " within 78.
_ENCODED_WORD_BYTES = 42


def _encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 encoded words of whole characters (a reader joins adjacent
    ones without the space between them)."""
    data, words, start = text.encode(), [], 0
    while start < len(data):
        end = start + _ENCODED_WORD_BYTES
        while end < len(data) and data[end] & 0xC0 == 0x80:  # within a character
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode()}?=")
        start = end
    return words
