"""A reader's digests on the site: past ones, the web copy of one, the next one now."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import SavedSearch
from accounts.preferences import preferences_of
from digest import building, links
from digest.feedback import clear_feedback, set_feedback
from digest.forms import FeedbackForm
from digest.models import Digest, Feedback
from papers import lists, votes
from papers.models import Paper
from papers.views import go_back, reader_required

DIGESTS_PER_PAGE = 30
PAST = [Digest.Status.SENT, Digest.Status.SKIPPED, Digest.Status.FAILED]
VALUES = {"more": Feedback.Value.MORE, "less": Feedback.Value.LESS}


@login_required
def my_digests(request):
    preferences = preferences_of(request.user)
    digests = (
        Digest.objects.filter(user=request.user, status__in=PAST)
        .annotate(item_count=Count("items"))
        .order_by("-scheduled_for", "-id")
    )
    page = Paginator(digests, DIGESTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"tab": "digests", "page": page, "preferences": preferences}
    return render(request, "digest/my_digests.html", context)


@login_required
def digest_detail(request, pk):
    digest = get_object_or_404(
        Digest.objects.filter(user=request.user).select_related("user"), pk=pk
    )
    return _digest_page(request, digest, context={"tab": "digests"})


@never_cache
def web_copy(request, token):
    """The "view in browser" link of a digest e-mail: no sign-in, the token is the key."""
    try:
        digest = links.read_web_copy(token)
    except links.BadLink as problem:
        return render(request, "digest/link_problem.html", {"problem": problem}, status=400)
    return _digest_page(request, digest, context={"web_copy": True})


def _digest_page(request, digest, *, context):
    items = list(
        digest.items.prefetch_related(Prefetch("paper", queryset=Paper.objects.for_cards()))
    )
    # Buttons act for whoever is signed in; on a web copy opened by anyone else they
    # would act for the wrong reader, so the e-mail's own signed links stand in.
    own = request.user.is_authenticated and request.user.pk == digest.user_id
    marks = _reader_marks(request.user, [item.paper for item in items]) if own else {}
    if not own:
        urls = links.action_urls(user=digest.user, papers=[item.paper for item in items])
        for item in items:
            item.paper.action_urls = urls[item.paper.pk]
    context |= {
        "digest": digest,
        "time_zone": preferences_of(digest.user).time_zone,
        "sections": _sections(items),
        "own": own,
        **marks,
    }
    return render(request, "digest/digest_page.html", context)


@login_required
def for_you(request):
    items = building.preview_for(request.user)
    preferences = preferences_of(request.user)
    follows_something = (
        preferences.followed_tags.exists()
        or preferences.followed_authors.exists()
        or SavedSearch.objects.filter(user=request.user).exists()
    )
    context = {
        "tab": "for-you",
        "sections": _sections(items),
        "count": len(items),
        "preferences": preferences,
        "follows_something": follows_something,
        "own": True,
        **_reader_marks(request.user, [item.paper for item in items]),
    }
    return render(request, "digest/for_you.html", context)


@require_POST
@reader_required
def feedback(request, paper_id):
    paper = get_object_or_404(Paper.objects.defer("search_vector", "fingerprints"), pk=paper_id)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        message = form.errors["value"][0]
        return render(request, "digest/problem.html", {"message": message}, status=400)
    value = form.cleaned_data["value"]
    if value == "clear":
        clear_feedback(request.user, paper)
        paper.my_feedback = None
    else:
        set_feedback(request.user, paper, VALUES[value])
        paper.my_feedback = VALUES[value]
    if request.htmx:
        context = {"paper": paper, "back": request.POST.get("next", ""), "just_changed": True}
        return render(request, "digest/_feedback.html", context)
    messages.success(request, _noted(paper))
    return go_back(request, "digest:for-you")


def _noted(paper) -> str:
    if paper.my_feedback == Feedback.Value.MORE:
        return f"Noted: more papers like “{paper.title}”."
    if paper.my_feedback == Feedback.Value.LESS:
        return f"Noted: fewer papers like “{paper.title}”, and this one stays out of your digests."
    return f"Your signal on “{paper.title}” is taken back."


def _reader_marks(user, papers) -> dict:
    """What the reader did with these papers: votes, lists and 👍/👎 — three queries."""
    papers = list(papers)
    given = dict(
        Feedback.objects.filter(user=user, paper__in=[p.pk for p in papers]).values_list(
            "paper_id", "value"
        )
    )
    for paper in papers:
        paper.my_feedback = given.get(paper.pk)
    return {"voted": votes.voted_ids(user, papers), "saved": lists.saved_lists(user, papers)}


def _sections(items) -> list[tuple[str, list]]:
    """Items grouped by section, sections in the order of their best item."""
    grouped = {}
    for item in items:
        grouped.setdefault(item.section, []).append(item)
    return list(grouped.items())
