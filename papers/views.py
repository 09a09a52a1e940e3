"""Pages: parse the request, call one query or action, render."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import follows, saved_searches
from papers import charts, lists, periods, results, search, trending, votes
from papers.forms import SearchForm
from papers.models import Author, Authorship, Paper, Tag


def _page(request, papers, *, total=None):
    """One page of cards. `papers` is a QuerySet or a kept results.Ranked list; `total`
    a kept count, which spares the paginator its COUNT query."""
    if isinstance(papers, QuerySet):
        papers = papers.for_cards()
    paginator = Paginator(papers, settings.PAPERS_PER_PAGE)
    if total is not None:
        paginator.count = total
    page = paginator.get_page(request.GET.get("page"))
    page.voted = votes.voted_ids(request.user, page.object_list)
    page.saved = lists.saved_lists(request.user, page.object_list)
    return page


@results.cached_for_visitors
def home(request):
    newest = periods.newest_day()
    if newest is None:
        return render(request, "papers/daily.html", {"tab": "daily", "page": None})
    return _period_page(request, periods.Period.containing("day", newest))


@results.cached_for_visitors
def period(request, kind, value):
    try:
        chosen = periods.Period.parse(kind, value)
    except ValueError:
        raise Http404("No such day, week or month.") from None
    return _period_page(request, chosen)


def _period_page(request, chosen):
    papers = Paper.objects.listed_between(chosen.first, chosen.last).trending()
    earlier, later = chosen.neighbours()
    context = {
        "tab": "daily",
        "period": chosen,
        "earlier": earlier,
        "later": later,
        "kinds": [(kind, label, chosen.of_kind(kind)) for kind, label in periods.KINDS.items()],
        "page": _page(request, papers),
    }
    return render(request, "papers/daily.html", context)


@results.cached_for_visitors
def trending_papers(request):
    newest = periods.newest_day()
    papers = Paper.objects.none()
    if newest is not None:
        start = trending.trending_window_start(newest)
        papers = Paper.objects.filter(listed_on__gte=start).trending()
    # Kept like search results: ranking a month of papers costs more than showing them.
    key = results.key_of("trending", newest, timezone.localdate())
    page = _page(request, results.Ranked.of(papers, key=key))
    return render(request, "papers/ranked.html", {"tab": "trending", "page": page})


@results.cached_for_visitors
def latest(request):
    page = _page(request, Paper.objects.latest_listed())
    return render(request, "papers/ranked.html", {"tab": "latest", "page": page})


@results.cached_for_visitors
def paper_detail(request, pk):
    authorships = Prefetch("authorships", Authorship.objects.select_related("author"))
    paper = get_object_or_404(
        Paper.objects.for_cards().prefetch_related("versions", authorships), pk=pk
    )
    links = paper.related_links.select_related("related").order_by("-score")
    context = {
        "paper": paper,
        "related": [link.related for link in links],
        "voted": votes.voted_ids(request.user, [paper]),
    }
    return render(request, "papers/paper_detail.html", context)


def reader_required(view):
    """Sign-in first; an htmx request is sent to the sign-in page as a whole page."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        back = request.headers.get("HX-Current-URL") or request.get_full_path()
        login = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}"
        if request.htmx:
            return HttpResponseClientRedirect(login)
        return redirect(login)

    return checked


def go_back(request, fallback):
    """Where a form without JavaScript returns to: the page it came from, if ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@require_POST
@reader_required
def vote(request, pk):
    paper = get_object_or_404(Paper, pk=pk)
    on = request.POST.get("vote") == "on"
    paper.vote_count = votes.set_vote(request.user, paper, on)
    context = {"paper": paper, "voted": {paper.pk} if on else set()}
    if request.htmx:
        return render(request, "papers/_vote.html", context)
    return go_back(request, paper)


@results.cached_for_visitors
def tag_index(request):
    tags = Tag.objects.order_by("kind", "name")
    return render(request, "papers/tag_index.html", {"tags": tags})


@results.cached_for_visitors
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    papers = Paper.objects.tagged(tag)
    return _followable(request, "papers/tag_detail.html", tag, papers, {"tag": tag})


@results.cached_for_visitors
def author_detail(request, pk):
    author = get_object_or_404(Author, pk=pk)
    papers = Paper.objects.by_author(author)
    return _followable(request, "papers/author_detail.html", author, papers, {"author": author})


def _followable(request, template, thing, papers, context):
    newest = periods.newest_day()
    kind = type(thing).__name__
    counts = results.remembered(
        f"weekly:{kind}:{thing.pk}:{newest}",
        lambda: charts.weekly_counts(papers, end=newest) if newest else [],
    )
    total = results.remembered(f"count:{kind}:{thing.pk}", papers.count)
    context |= {
        "page": _page(request, papers.latest_listed(), total=total),
        "following": follows.is_following(request.user, thing),
        "thing": thing,
        "chart": charts.weekly_chart(counts, label=str(thing)) if counts else "",
    }
    return render(request, template, context)


@require_POST
@reader_required
def follow_tag(request, slug):
    return _follow(request, get_object_or_404(Tag, slug=slug))


@require_POST
@reader_required
def follow_author(request, pk):
    return _follow(request, get_object_or_404(Author, pk=pk))


def _follow(request, thing):
    on = request.POST.get("follow") == "on"
    follows.set_following(request.user, thing, on)
    if request.htmx:
        return render(request, "papers/_follow.html", {"thing": thing, "following": on})
    return go_back(request, thing)


@results.cached_for_visitors
def search_page(request):
    form = SearchForm(request.GET)
    context = {
        "form": form,
        "page": None,
        "query": None,
        "tab": "search",
        "tag_choices": Tag.objects.order_by("name").values_list("slug", "name"),
        "sorts": search.SORTS.items(),
    }
    if form.is_valid():
        query = context["query"] = form.cleaned_data["q"]
        if form.has_criteria():
            key = results.key_of("search", form.criteria())
            ranked = context["ranked"] = results.Ranked.of(form.find(), key=key)
            page = context["page"] = _page(request, ranked)
            if query.has_words:
                search.highlight(page.object_list, query.text)
            context |= _search_follow(request, form.criteria())
    return render(request, "papers/search.html", context)


def _search_follow(request, criteria):
    """What the "Follow this search" button needs: the search, and whether it is followed."""
    followed = saved_searches.find_saved_search(
        request.user,
        query=criteria["q"],
        tag=criteria["tag"],
        author=criteria["author"],
        has_code=criteria["has_code"],
    )
    fields = {
        "q": criteria["q"],
        "tag": criteria["tag"].slug if criteria["tag"] else "",
        "author": criteria["author"],
        "code": criteria["has_code"],
    }
    return {"saved_search": followed, "search": fields}
