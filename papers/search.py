"""Full-text search: the stored search vector of each paper, and queries over it."""

from django.db import connection

from papers.models import Paper

INDEX_BATCH = 5000


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
