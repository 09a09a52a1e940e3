"""Related papers: each paper's most similar papers by content, chosen in the background.

Similarity is the cosine of TF-IDF vectors of title and abstract, weighted over the
whole corpus. Pages only read the RelatedPaper rows; `refresh()` chooses them for papers
whose choice is missing (new papers, and papers whose text an import changed), and
`refresh_all()` for every paper each night, so that older papers find newer ones.

Comparing every paper with every other one exactly is a sparse product that is nearly
dense: about three minutes for the 54k-paper corpus with SciPy. So candidates come from each
paper's heaviest words only (two papers that are much alike share some of their most
distinctive words), and only the candidates are scored, exactly, with all their words.
bench.related measures how often this finds what the exhaustive comparison finds.
"""

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer

from papers.models import Paper, RelatedPaper

# Pairs scoring below this have little more than common words in common.
FLOOR = 0.05
# Papers compared at once: bounds memory (~150 MB of partial scores for 54k papers).
CHUNK = 1000
# Candidates come from this many heaviest words of each paper, and this many are scored.
# Against the exhaustive comparison on the 54k corpus, these find ~98% of the same
# related papers; the rest are near-ties of the ones found. Larger is slower.
HEAVIEST_WORDS = 40
CANDIDATES = 60
# Held while a chunk's rows are replaced, so that two refreshes that overlap (the
# catch-up and the nightly one) cannot interleave their deletes and inserts.
_WRITE_LOCK = 0x7061_7065_7273_7265  # "papersre"
_STREAM = 2000


def refresh(paper_ids: Iterable[int] | None = None, *, stale_only: bool = True) -> int:
    """Choose the related papers of these papers (default: all), and return how many
    papers got a new choice. With `stale_only`, only papers never chosen for, or whose
    text changed since (`related_at` is empty), are done."""
    targets = Paper.objects.all()
    if paper_ids is not None:
        targets = targets.filter(pk__in=list(paper_ids))
    if stale_only:
        targets = targets.filter(related_at__isnull=True)
    wanted = set(targets.values_list("pk", flat=True))
    if not wanted:
        return 0
    ids, modified, x = _read_corpus(wanted)
    rows = np.flatnonzero(np.isin(ids, list(wanted)))
    chunks = nearest(x, rows, k=settings.RELATED_PAPERS)
    done = 0
    # The next chunk is compared while this one is written: PostgreSQL takes about as
    # long to write a chunk as NumPy to compare one, and the wait for it frees the GIL.
    # The thread never touches the database, so it needs no connection of its own.
    with ThreadPoolExecutor(max_workers=1) as comparing:
        following = comparing.submit(next, chunks, None)
        while (chunk := following.result()) is not None:
            following = comparing.submit(next, chunks, None)
            done += _replace(ids, modified, *chunk)
    return done


def refresh_all() -> int:
    """Choose again for every paper (the nightly refresh)."""
    return refresh(stale_only=False)


def vectors(texts: Iterable[str], *, papers: int) -> sp.csr_matrix:
    """Unit-length TF-IDF rows of `texts` (an iterable, read once), one per paper, for
    a corpus of about `papers` papers."""
    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        stop_words="english",
        dtype=np.float32,
        # A word of a single paper cannot make two papers alike. A word in a tenth of the
        # papers says little about any one of them, and is where most of the cost of
        # comparing is; but 100 papers are never too many, as in a small corpus a tenth
        # of it can be one topic.
        min_df=2,
        max_df=max(papers // 10, 100),
    )
    read = 0

    def counted():
        nonlocal read
        for text in texts:
            read += 1
            yield text

    try:
        return vectorizer.fit_transform(counted()).tocsr()
    except ValueError:
        # No word occurs in two papers (or there are no papers, or no words at all):
        # no paper is like another. The vectorizer raises this having read every text.
        return sp.csr_matrix((read, 0), dtype=np.float32)


def nearest(
    x: sp.csr_matrix, rows: np.ndarray, *, k: int, floor: float = FLOOR, chunk: int = CHUNK
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For the given rows of `x` (unit-length rows), the `k` other rows most similar to
    each, scoring at least `floor`: one (rows, neighbours, scores) per chunk of rows,
    best first, neighbours padded with -1 where fewer pass."""
    heavy = _heaviest(x, HEAVIEST_WORDS)
    heavy_t = heavy.T.tocsr()
    for start in range(0, len(rows), chunk):
        part = np.asarray(rows[start : start + chunk])
        candidates = _candidates(heavy[part] @ heavy_t, part, CANDIDATES)
        scores = _cosines(x, part, candidates)
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        neighbours = np.take_along_axis(candidates, best, axis=1)
        scores = np.take_along_axis(scores, best, axis=1)
        neighbours[scores < floor] = -1
        # Float error can put identical texts a hair above 1.
        yield part, neighbours, np.minimum(scores, 1.0)


def _read_corpus(wanted: set[int]):
    """Every paper's id and vector, and the modification time of those in `wanted`."""
    ids, modified = [], {}

    def texts():
        papers = Paper.objects.order_by("pk").values_list("pk", "modified_at", "title", "abstract")
        for pk, modified_at, title, abstract in papers.iterator(chunk_size=_STREAM):
            ids.append(pk)
            if pk in wanted:
                modified[pk] = modified_at
            yield f"{title}\n{abstract}"

    x = vectors(texts(), papers=Paper.objects.count())
    return np.array(ids, dtype=np.int64), modified, x


def _heaviest(x: sp.csr_matrix, count: int) -> sp.csr_matrix:
    """`x` with only the `count` largest entries of each row."""
    lengths = np.diff(x.indptr)
    row = np.repeat(np.arange(x.shape[0]), lengths)
    # Row by row, heaviest first: entries are in (0, 1], so row - entry keeps each row's
    # keys in [row - 1, row). One float sort is several times faster than np.lexsort.
    order = np.argsort(row - x.data.astype(np.float64), kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(x.indptr[:-1], lengths)
    keep = rank < count
    indptr = np.concatenate([[0], np.cumsum(np.minimum(lengths, count))])
    return sp.csr_matrix((x.data[keep], x.indices[keep], indptr), shape=x.shape)


def _candidates(partial: sp.csr_matrix, rows: np.ndarray, count: int) -> np.ndarray:
    """Per row, the columns of its `count` largest partial scores but itself; -1 pads."""
    # One more than wanted, as a paper is nearly always among its own best.
    found = np.full((len(rows), count + 1), -1, np.int64)
    for i in range(len(rows)):
        start, end = partial.indptr[i], partial.indptr[i + 1]
        columns = partial.indices[start:end]
        if end - start > count + 1:
            columns = columns[np.argpartition(partial.data[start:end], -count - 1)[-count - 1 :]]
        found[i, : len(columns)] = columns
    found[found == rows[:, None]] = -1
    return found


def _cosines(x: sp.csr_matrix, rows: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The exact cosine of each row with each of its candidates; -1 for padding."""
    real = candidates >= 0
    left = np.broadcast_to(rows[:, None], candidates.shape)[real]
    products = x[left].multiply(x[candidates[real]])
    scores = np.full(candidates.shape, -1.0, np.float32)
    scores[real] = np.asarray(products.sum(axis=1)).ravel()
    return scores


def _replace(ids, modified, rows, neighbours, scores) -> int:
    """Store the chosen related papers of one chunk; return how many papers were done."""
    papers = ids[rows]
    chosen = neighbours >= 0
    now = timezone.now()
    related = RelatedPaper._meta.db_table
    paper = Paper._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITE_LOCK])
        cursor.execute(
            f"DELETE FROM {related} WHERE paper_id = ANY(%s::bigint[])", [_array(papers)]
        )
        # Joined with the papers: a paper deleted since it was read is left out, rather
        # than failing the chunk on its foreign key.
        cursor.execute(
            f"INSERT INTO {related} (paper_id, related_id, score, computed_at) "
            f"SELECT c.paper_id, c.related_id, c.score, %s "
            f"FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) "
            f"AS c(paper_id, related_id, score) "
            f"JOIN {paper} AS p ON p.id = c.paper_id JOIN {paper} AS r ON r.id = c.related_id",
            [
                now,
                _array(np.repeat(papers, chosen.sum(axis=1))),
                _array(ids[neighbours[chosen]]),
                _array(scores[chosen].astype(float)),
            ],
        )
        # Only papers unmodified since they were read: one whose text an import changed
        # meanwhile keeps related_at empty, so the next catch-up chooses for it again.
        cursor.execute(
            f"UPDATE {paper} SET related_at = %s "
            f"FROM unnest(%s::bigint[], %s::timestamptz[]) AS seen(id, modified_at) "
            f"WHERE {paper}.id = seen.id AND {paper}.modified_at = seen.modified_at",
            [now, _array(papers), [modified[pk] for pk in papers.tolist()]],
        )
    return len(papers)


def _array(values: np.ndarray) -> str:
    # A PostgreSQL array literal of numbers: psycopg adapts a list element by element,
    # which costs more than the statements it is sent with.
    return "{" + ",".join(map(str, values.tolist())) + "}"
