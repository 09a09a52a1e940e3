"""Full-text search: the stored search vector of each paper, and queries over it.

The vector weighs the title (A) above the abstract (B) above the authors (C); queries use
PostgreSQL's web-search syntax: "quoted phrases", OR, and -exclusions.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from papers.identity import author_key
from papers.models import Author, Authorship, Paper

INDEX_BATCH = 5000
CONFIG = "english"
# Longer queries are cut here: nobody types more, and pasted pages of text would only
# make PostgreSQL work for nothing.
MAX_QUERY_CHARS = 300
# Markers PostgreSQL puts around matches in snippets, chosen from Unicode's private use
# area so that no paper's text contains them; replaced by <mark> after escaping.
_START, _STOP = "\ue000", "\ue001"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ue000\ue001]")
_WORD = re.compile(r"\w")


def index_papers(*, paper_ids=None) -> int:
    """Fill the search vector of the given papers, or of every paper that lacks one.

    Imports leave the vector empty and call this afterwards: it is the costliest part
    of writing a paper, and doing it in one statement per batch is several times faster.
    """
    if paper_ids is not None:
        return _index("id = ANY(%s)", [list(paper_ids)])
    done = 0
    while count := _index(
        "id IN (SELECT id FROM papers_paper WHERE search_vector IS NULL LIMIT %s)", [INDEX_BATCH]
    ):
        done += count
    return done


def _index(where: str, params) -> int:
    table = Paper._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET search_vector = "
            f"paperfeed_search_vector(title, abstract, author_names) WHERE {where}",
            params,
        )
        return cursor.rowcount


@dataclass(frozen=True)
class Query:
    """A query as typed, made safe to run."""

    text: str
    shortened: bool = False

    @classmethod
    def clean(cls, raw: str) -> "Query":
        text = " ".join(_CONTROL.sub(" ", raw or "").split())
        if len(text) <= MAX_QUERY_CHARS:
            return cls(text)
        cut = text[:MAX_QUERY_CHARS]
        return cls(cut.rsplit(" ", 1)[0] if " " in cut else cut, shortened=True)

    @property
    def has_words(self) -> bool:
        """Whether there is anything to look for: punctuation alone finds nothing."""
        return bool(_WORD.search(self.text))


def _tsquery(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=CONFIG)


def matching(papers, text: str):
    """`papers` matching the query, each with its `rank` (title matches weigh most)."""
    query = _tsquery(text)
    return papers.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))


def by_author_name(papers, name: str):
    """Papers with an author whose name contains the given words, e.g. "hinton"."""
    authors = authors_named(Author.objects.all(), name)
    return papers.filter(id__in=Authorship.objects.filter(author__in=authors).values("paper_id"))


def authors_named(authors, name: str):
    """The authors whose name contains the given words, whole: "hinton" finds
    "Geoffrey E. Hinton", not "Hintonville"."""
    key = author_key(name)
    if not key:
        return authors.none()
    return authors.filter(name_key__regex=rf"(^| ){re.escape(key)}( |$)")


SORTS = {"relevance": "Relevance", "newest": "Newest", "trending": "Trending"}


def find(
    *,
    q: str = "",
    tag=None,
    author: str = "",
    since=None,
    until=None,
    has_code: bool = False,
    sort: str = "relevance",
):
    """The papers a search page, feed or API call asks for, in the order asked."""
    papers = Paper.objects.all()
    if q:
        papers = papers.search(q)
    if tag is not None:
        papers = papers.tagged(tag)
    if author:
        papers = by_author_name(papers, author)
    if since:
        papers = papers.filter(listed_on__gte=since)
    if until:
        papers = papers.filter(listed_on__lte=until)
    if has_code:
        papers = papers.with_code()
    if sort == "trending":
        return papers.trending()
    if sort == "relevance" and q:
        return papers.order_by("-rank", "-listed_on", "id")
    return papers.latest_listed()


def highlight(papers, text: str) -> None:
    """Give each paper a `title_html` and `snippet_html` with the query's words marked.

    Only for the papers of the page shown: PostgreSQL re-parses each text to mark it,
    which would cost far more than the search itself if done for every match.
    """
    papers = list(papers)
    if not papers:
        return
    options = f"StartSel={_START}, StopSel={_STOP}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ts_headline(%(config)s, title, query, %(title)s), "
            "ts_headline(%(config)s, abstract, query, %(abstract)s) "
            "FROM papers_paper, websearch_to_tsquery(%(config)s, %(q)s) AS query "
            "WHERE id = ANY(%(ids)s)",
            {
                "config": CONFIG,
                "q": text,
                "ids": [paper.pk for paper in papers],
                "title": f"{options}, HighlightAll=true",
                "abstract": f"{options}, MaxFragments=2, MinWords=12, MaxWords=30, "
                'FragmentDelimiter=" … "',
            },
        )
        marked = {pk: (title, abstract) for pk, title, abstract in cursor.fetchall()}
    for paper in papers:
        title, abstract = marked.get(paper.pk, (paper.title, paper.abstract))
        paper.title_html = _marked(title)
        paper.snippet_html = _marked(abstract)


def _marked(text: str) -> SafeString:
    # Escaped first, so only the marks become markup.
    html = escape(text).replace(_START, "<mark>").replace(_STOP, "</mark>")
    return mark_safe(html)
