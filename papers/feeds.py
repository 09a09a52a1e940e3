"""RSS 2.0 and Atom 1.0 feeds of papers: the latest, a tag's, an author's, a search's,
a public reading list's.

Each feed class serves both formats from the same items: `LatestFeed.rss()` and
`LatestFeed.atom()` are the two views urls.py routes to.
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import feedgenerator
from django.utils.html import escape

from papers import lists, search
from papers.forms import SearchForm
from papers.models import Author, Paper, ReadingList, Tag

SITE = "paperfeed"

# Characters XML 1.0 cannot carry at all, not even escaped. Imported titles and
# abstracts do contain some (vertical tabs, stray ANSI escapes from PDF extraction), and
# Django refuses to write them; a feed must stay readable whatever was imported.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value):
    if isinstance(value, str):
        return _NOT_XML.sub(" ", value)
    if isinstance(value, list | tuple):
        return [_xml_safe(part) for part in value]
    return value


class _XmlSafe:
    """Cleans every text passed to the feed generator, whichever field it fills.

    Done here rather than in each item_* method so that no field (a tag name in an Atom
    attribute, an author name) can be forgotten.
    """

    def __init__(self, **kwargs):
        super().__init__(**{key: _xml_safe(value) for key, value in kwargs.items()})

    def add_item(self, **kwargs):
        super().add_item(**{key: _xml_safe(value) for key, value in kwargs.items()})


class RssFeed(_XmlSafe, feedgenerator.Rss201rev2Feed):
    # Many RSS readers render an item's <title> as HTML, so it is sent escaped, as
    # Django does by default (Django ticket #6533).
    title_is_html = True


class AtomFeed(_XmlSafe, feedgenerator.Atom1Feed):
    # Atom says what its titles are: Django writes them as type="text".
    title_is_html = False


@dataclass(frozen=True)
class Channel:
    """What one request's feed is about; built per request, as the Feed is shared."""

    title: str
    description: str
    link: str
    papers: QuerySet
    self_url: str


class PaperFeed(Feed):
    """A feed of the newest papers of a `Channel` that subclasses build in get_object()."""

    feed_type = RssFeed
    item_guid_is_permalink = True

    @classmethod
    def rss(cls):
        return cls(feed_type=RssFeed)

    @classmethod
    def atom(cls):
        return cls(feed_type=AtomFeed)

    def __init__(self, *, feed_type):
        self.feed_type = feed_type

    def get_object(self, request, **kwargs) -> Channel:
        raise NotImplementedError

    def title(self, channel):
        return f"{SITE} — {channel.title}"

    def description(self, channel):
        return channel.description

    def subtitle(self, channel):
        return channel.description

    def link(self, channel):
        return channel.link

    def feed_url(self, channel):
        return channel.self_url

    def items(self, channel):
        return channel.papers.for_cards()[: settings.FEED_ITEMS]

    def item_title(self, paper):
        return escape(paper.title) if self.feed_type.title_is_html else paper.title

    def item_description(self, paper):
        # RSS descriptions and Atom summaries (type="html") both carry HTML; the abstract
        # is plain text, so it is escaped once here and shows as typed.
        return escape(paper.abstract)

    def item_author_name(self, paper):
        return ", ".join(paper.author_names) or None

    def item_pubdate(self, paper):
        # The moment that put the paper on its listing day when one is known, else the
        # start of that day: dates then agree with the feed's order, which is by day.
        for moment in (paper.published_at, paper.first_seen_at):
            if moment and moment.astimezone(datetime.UTC).date() == paper.listed_on:
                return moment
        return datetime.datetime.combine(paper.listed_on, datetime.time(), tzinfo=datetime.UTC)

    def item_updateddate(self, paper):
        # Atom requires an <updated> on every entry; a new arXiv version moves it on.
        listed = self.item_pubdate(paper)
        return max(listed, paper.updated_at) if paper.updated_at else listed

    def item_categories(self, paper):
        return [paper_tag.tag.name for paper_tag in paper.paper_tags.all()]


class LatestFeed(PaperFeed):
    def get_object(self, request, **kwargs):
        return Channel(
            title="latest papers",
            description="The newest research papers, by the day they were listed.",
            link=reverse("latest"),
            papers=Paper.objects.latest_listed(),
            self_url=request.path,
        )


class TagFeed(PaperFeed):
    def get_object(self, request, *, slug):
        tag = get_object_or_404(Tag, slug=slug)
        return Channel(
            title=f"papers tagged {tag.name}",
            description=tag.description or f"The newest papers tagged {tag.name}.",
            link=tag.get_absolute_url(),
            papers=Paper.objects.tagged(tag).latest_listed(),
            self_url=request.path,
        )


class AuthorFeed(PaperFeed):
    def get_object(self, request, *, pk):
        author = get_object_or_404(Author, pk=pk)
        return Channel(
            title=f"papers by {author.name}",
            description=f"The newest papers by {author.name}.",
            link=author.get_absolute_url(),
            papers=Paper.objects.by_author(author).latest_listed(),
            self_url=request.path,
        )


class ListFeed(PaperFeed):
    """A public reading list: each paper as it joins the list, with the owner's note."""

    def get_object(self, request, *, pk):
        # Only public lists: a feed URL ends up in feed readers and on other sites, which
        # an unlisted list's secret link is meant not to.
        reading_list = get_object_or_404(
            ReadingList, pk=pk, visibility=ReadingList.Visibility.PUBLIC
        )
        return Channel(
            title=f"reading list: {reading_list.name}",
            description=reading_list.description or f"Papers saved to “{reading_list.name}”.",
            link=reverse("list", args=[reading_list.pk]),
            papers=lists.papers_of(reading_list),
            self_url=request.path,
        )

    def item_description(self, paper):
        description = super().item_description(paper)
        if paper.list_note:
            description = f"<p>Note: {escape(paper.list_note)}</p>\n<p>{description}</p>"
        return description

    def item_pubdate(self, paper):
        # When it joined the list: the news a subscriber follows, whatever the paper's age.
        return paper.added_at

    def item_updateddate(self, paper):
        return paper.added_at


class SearchFeed(PaperFeed):
    """A saved search as a feed: the same parameters as the search page."""

    def get_object(self, request, **kwargs):
        data = request.GET.copy()
        # A subscriber wants new matches to reach the top, so a feed lists the newest
        # unless another order was asked for: ranked by relevance, a new match would
        # rarely make the first items and the reader would never see it.
        if not data.get("sort"):
            data["sort"] = "newest"
        form = SearchForm(data)
        if not form.is_valid():
            # A feed reader has nowhere to show a form's errors; the search page does.
            raise Http404("Invalid search parameters; check them on the search page.")
        return Channel(
            title=_search_title(form.cleaned_data),
            description="The newest papers matching a search.",
            link=f"{reverse('search')}?{data.urlencode()}",
            # With no criteria at all the search page shows nothing, but a feed must
            # list something valid: every paper, newest first, under a title that says so.
            papers=form.find(),
            self_url=request.get_full_path(),
        )


def _search_title(data) -> str:
    query = data["q"]
    parts = [f"search: {query.text}" if query.has_words else "search: all papers"]
    if data["tag"]:
        parts.append(f"tagged {data['tag'].name}")
    if data["author"]:
        parts.append(f"by {data['author']}")
    if data["since"]:
        parts.append(f"since {data['since']:%Y-%m-%d}")
    if data["until"]:
        parts.append(f"until {data['until']:%Y-%m-%d}")
    if data["code"]:
        parts.append("with code")
    if data["sort"] != "newest":
        parts.append(f"sorted by {search.SORTS[data['sort']].lower()}")
    return ", ".join(parts)
