"""Long lists worked out once and kept for a while.

Ranking every match of a broad search ("language model" matches 40% of a corpus) or
counting a large tag costs PostgreSQL far more than showing a page of it, and the answer
only changes when papers arrive. So those answers are kept in the cache under a key that
carries the corpus version, which every import bumps: new papers appear at once, while
votes and tag edits reorder a kept answer only after RESULTS_CACHE_SECONDS.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Window
from django.http import HttpResponse

from papers.models import Paper

_VERSION_KEY = "papers:corpus-version"


def corpus_changed() -> None:
    """Forget every kept answer: papers were added or changed."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # never set, or evicted: any new value does
        cache.set(_VERSION_KEY, 2, timeout=None)


def _version() -> int:
    return cache.get_or_set(_VERSION_KEY, 1, timeout=None)


def remembered(key: str, compute: Callable):
    """The kept answer for `key` in the current corpus, computed when there is none."""
    full_key = f"papers:results:{_version()}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout=settings.RESULTS_CACHE_SECONDS)
    return value


def key_of(*parts) -> str:
    """A short cache key for any JSON-able description of a list."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Ranked(Sequence):
    """The best MAX_RESULTS papers of a list, in order, and how many matched in all.

    Kept as ids; the paginator slices them and only the page shown is loaded.
    """

    def __init__(self, ids: list[int], total: int):
        self.ids = ids
        self.total = total

    @classmethod
    def of(cls, papers, *, key: str) -> "Ranked":
        def rank():
            rows = list(
                papers.annotate(total=Window(Count("*"))).values_list("id", "total")[
                    : settings.MAX_RESULTS
                ]
            )
            return [row[0] for row in rows], rows[0][1] if rows else 0

        ids, total = remembered(f"ranked:{key}", rank)
        return cls(ids, total)

    @property
    def capped(self) -> bool:
        return self.total > len(self.ids)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        ids = self.ids[index]
        loaded = Paper.objects.for_cards().in_bulk(ids)
        return [loaded[pk] for pk in ids if pk in loaded]


def cached_for_visitors(view):
    """Serve signed-out visitors a kept copy of the page, for VISITOR_CACHE_SECONDS.

    Their pages are the same for everyone, and rendering twenty paper cards costs more
    than everything else in a request. Readers always get a fresh page (it shows their
    votes, lists and follows), and an import makes every kept copy stale at once; votes
    show to visitors within the minute.
    """

    @wraps(view)
    def serve(request, *args, **kwargs):
        # Without a session or messages cookie a request is from a visitor with nothing
        # of their own to show: no reader, no "you have signed out" notice.
        own = settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES
        if request.method != "GET" or own or request.htmx:
            return view(request, *args, **kwargs)
        key = f"page:{key_of(request.get_full_path())}"
        kept = remembered_page(key)
        if kept is not None:
            return HttpResponse(kept, content_type="text/html; charset=utf-8")
        response = view(request, *args, **kwargs)
        # A page that set a cookie (a CSRF token, say) belongs to that visitor alone.
        if response.status_code == 200 and not response.cookies:
            keep_page(key, response.content)
        return response

    return serve


def _page_key(key: str) -> str:
    return f"papers:pages:{_version()}:{key}"


def remembered_page(key: str) -> bytes | None:
    return cache.get(_page_key(key))


def keep_page(key: str, content: bytes) -> None:
    cache.set(_page_key(key), content, timeout=settings.VISITOR_CACHE_SECONDS)
