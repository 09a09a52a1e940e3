"""Signed links in digest e-mails: one-click feedback, unsubscribe and the web copy.

A link carries what it is about (reader, paper, action) and when it was made, signed
with the site's secret and a salt of its own kind, so that a token made for one kind of
link is worthless as another. Tokens are short (ids, a base62 timestamp and the
signature, joined by dots) because mail programs wrap and mangle long links.

Feedback and web-copy links stop working after `DIGEST_LINK_DAYS`. Unsubscribe links
work for a year: RFC 8058 senders keep them valid long after the mail went out, and an
old digest's unsubscribe link that fails is a spam complaint waiting to happen.
"""

import datetime as dt
import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from digest.models import Digest
from papers.models import Paper

ACTIONS = {"more": "m", "less": "l", "save": "s"}
_ACTION_OF_CODE = {code: action for action, code in ACTIONS.items()}

_ACT_SALT = "paperfeed.digest.act"
_UNSUBSCRIBE_SALT = "paperfeed.digest.unsubscribe"
_WEB_COPY_SALT = "paperfeed.digest.web-copy"
# Neither "." nor any character of the signer's base64 and base62 alphabets needs
# escaping in a URL path, and a dot never occurs in them, so it can separate the parts.
_SEP = "."
# Stands for the token in a reversed URL; tokens need no escaping, so one can replace it.
_SLOT = "TOKEN"

UNSUBSCRIBE_LINK_AGE = dt.timedelta(days=365)


class BadLink(Exception):
    """A link that cannot be followed; the message tells the reader what to do."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.message = message
        self.expired = expired


# Making links


class Links:
    """The signed links of digest e-mails, each kind's URL pattern looked up once: a
    batch of digests makes hundreds of links, and a reverse() costs more than a
    signature."""

    def action_url(self, *, user, paper_id: int, action: str) -> str:
        """The one-click link that records 👍 ("more"), 👎 ("less") or saves ("save") a
        paper."""
        return self._act.url(_SEP.join((str(user.pk), str(paper_id), ACTIONS[action])))

    def action_urls(self, *, user, paper_ids) -> dict[int, dict[str, str]]:
        """Every one-click link of these papers, by paper id and action."""
        return {
            paper_id: {
                action: self.action_url(user=user, paper_id=paper_id, action=action)
                for action in ACTIONS
            }
            for paper_id in paper_ids
        }

    def unsubscribe_url(self, *, user) -> str:
        return self._unsubscribe.url(str(user.pk))

    def web_copy_url(self, *, digest) -> str:
        return self._web_copy.url(str(digest.pk))

    @functools.cached_property
    def _act(self):
        return _Kind("digest:act", _ACT_SALT)

    @functools.cached_property
    def _unsubscribe(self):
        return _Kind("digest:unsubscribe", _UNSUBSCRIBE_SALT)

    @functools.cached_property
    def _web_copy(self):
        return _Kind("digest:web-copy", _WEB_COPY_SALT)


class _Kind:
    def __init__(self, view: str, salt: str):
        self.signer = signing.TimestampSigner(salt=salt, sep=_SEP)
        self.prefix, self.suffix = reverse(view, args=[_SLOT]).split(_SLOT)

    def url(self, value: str) -> str:
        return f"{settings.SITE_URL}{self.prefix}{self.signer.sign(value)}{self.suffix}"


def action_url(*, user, paper, action: str) -> str:
    return Links().action_url(user=user, paper_id=paper.pk, action=action)


def action_urls(*, user, papers) -> dict[int, dict[str, str]]:
    """A page's one-click links (see Links.action_urls)."""
    return Links().action_urls(user=user, paper_ids=[paper.pk for paper in papers])


def unsubscribe_url(*, user) -> str:
    return Links().unsubscribe_url(user=user)


def web_copy_url(*, digest) -> str:
    return Links().web_copy_url(digest=digest)


# Reading links


def read_action(token: str):
    """(user, paper, action) of a one-click feedback link, or BadLink."""
    value = _unsign(token, _ACT_SALT, _link_age(), what="digest link", instead=_ON_THE_SITE)
    parts = value.split(_SEP)
    if len(parts) != 3 or parts[2] not in _ACTION_OF_CODE:
        raise BadLink(_FORGED.format(what="digest link", instead=_ON_THE_SITE))
    user_pk, paper_pk, code = parts
    user = _user(user_pk)
    paper = Paper.objects.defer("search_vector", "fingerprints").filter(pk=_id(paper_pk)).first()
    if paper is None:
        raise BadLink(
            "The paper this link is about is no longer on paperfeed, "
            "so there is nothing left to do with it."
        )
    return user, paper, _ACTION_OF_CODE[code]


def read_unsubscribe(token: str):
    """The reader an unsubscribe link is for, or BadLink."""
    instead = "sign in and turn the digest off in your preferences"
    return _user(
        _unsign(
            token, _UNSUBSCRIBE_SALT, UNSUBSCRIBE_LINK_AGE, what="unsubscribe link", instead=instead
        )
    )


def read_web_copy(token: str) -> Digest:
    """The digest a "view in browser" link shows (with its reader), or BadLink."""
    instead = "sign in and open “My digests”"
    value = _unsign(token, _WEB_COPY_SALT, _link_age(), what="link to a digest", instead=instead)
    digest = Digest.objects.select_related("user").filter(pk=_id(value)).first()
    if digest is None:
        raise BadLink(
            "This digest is no longer kept on paperfeed. "
            "Sign in and open “My digests” to see the ones that are."
        )
    return digest


_ON_THE_SITE = "sign in and do the same on the paper's page"
_FORGED = (
    "This {what} is not one paperfeed made, or your mail program cut part of it off. "
    "Copy the whole link from the e-mail into your browser, or {instead}."
)
_EXPIRED = (
    "This {what} has expired: links in a digest work for {days} days. "
    "Use the links in a newer digest, or {instead}."
)


def _link_age() -> dt.timedelta:
    return dt.timedelta(days=settings.DIGEST_LINK_DAYS)


def _unsign(token: str, salt: str, max_age: dt.timedelta, *, what: str, instead: str) -> str:
    try:
        return signing.TimestampSigner(salt=salt, sep=_SEP).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink(
            _EXPIRED.format(what=what, days=max_age.days, instead=instead), expired=True
        ) from None
    except signing.BadSignature:
        raise BadLink(_FORGED.format(what=what, instead=instead)) from None


def _id(value: str) -> int:
    # Only a value we signed gets here, so this fails only if the format ever changes.
    if not value.isdigit():
        raise BadLink(_FORGED.format(what="link", instead=_ON_THE_SITE))
    return int(value)


def _user(pk: str):
    user = get_user_model().objects.filter(pk=_id(pk)).first()
    if user is None:
        raise BadLink(
            "The account this link was made for has been deleted from paperfeed, "
            "so there is nothing left to change, and no digest goes to it any more."
        )
    return user
