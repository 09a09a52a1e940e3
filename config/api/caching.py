"""Answers kept for anonymous clients, as the site keeps its pages for visitors.

An anonymous client sees what every other one sees, and serialising twenty papers costs
more than everything else in a request, so a successful GET is kept under its full
address for VISITOR_CACHE_SECONDS; an import makes every kept answer stale at once
(papers.results). Authentication, permissions and rate limits run before the kept
answer is looked up: a kept answer is never a way around them. Readers (session or
token) always get a fresh answer: it shows their votes.
"""

from functools import wraps

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

from papers import results


def kept_for_anonymous(handler):
    """Decorate a viewset's GET handler to serve anonymous clients a kept answer."""

    @wraps(handler)
    def serve(view, request, *args, **kwargs):
        if request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        # The full address: the answer's links name the host it was asked of.
        key = f"api:{results.key_of(request.build_absolute_uri())}"
        kept = results.remembered_page(key)
        if kept is None:
            response = handler(view, request, *args, **kwargs)
            if response.status_code != 200:
                return response
            # Kept as sent (the API answers JSON only): a kept answer is not encoded again.
            kept = JSONRenderer().render(response.data)
            results.keep_page(key, kept)
        return HttpResponse(kept, content_type="application/json")

    return serve
