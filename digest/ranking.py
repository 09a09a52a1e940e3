"""Which new papers each reader should see, best first, and why.

`rank()` scores every candidate for every reader at once with sparse and dense matrix
products, then chooses each reader's digest from the top of their scores:

- interest: followed tags, followed authors, saved searches, and how close a paper's text
  is to the reader's profile: the terms that set their evidence (saved and upvoted
  papers, 👍) apart from the day's papers (Rocchio's method), each paper's score blended
  with those of its nearest neighbours among the candidates and lowered as much as its
  neighbourhood is more crowded than most (hubness); 👎 papers make a negative
  profile that pushes look-alikes down; a small trending prior breaks near-ties;
- cold start: a reader who only follows tags gets those tags' trending new papers, one
  with no signal at all the site-wide trending ones;
- the choice: no near-duplicates, a topic (section) takes at most a share of the
  digest while papers of other topics qualify, and the last slot goes to a popular paper
  outside the reader's usual topics.

Text is TF-IDF of the words and word pairs of title and abstract, and of authors' names,
with document frequencies from the candidates alone: a reader's picks do not depend on
which other readers are ranked in the same call.
"""

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from math import ceil

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS


@dataclass(frozen=True)
class PaperText:
    """A paper as ranking sees it: no database, so the evaluation can build these too."""

    id: int
    title: str
    abstract: str
    authors: tuple[str, ...] = ()  # display names
    author_keys: tuple[str, ...] = ()  # papers.identity.author_key of each name
    tags: tuple[str, ...] = ()  # slugs of the tags not rejected, topic tags first
    popularity: float = 0.0  # trending points: votes + HF upvotes + 2 * saves
    seen: float = 0.0  # first_seen_at as a POSIX timestamp


@dataclass(frozen=True)
class Evidence:
    """A paper that says what a reader likes (weight > 0) or does not (weight < 0)."""

    paper_id: int
    weight: float
    # How a paper similar to this one is explained; "{title}" is filled in with its title,
    # e.g. "similar to ‘{title}’ in your list ‘RAG’".  # noqa: RUF003
    reason: str = "similar to ‘{title}’"


@dataclass(frozen=True)
class Reader:
    id: int
    size: int = 10
    since: float = 0.0  # only candidates seen after this POSIX timestamp
    tags: frozenset[str] = frozenset()  # followed tag slugs
    authors: frozenset[str] = frozenset()  # followed author keys
    searches: tuple[tuple[str, frozenset[int]], ...] = ()  # (name, candidate ids it matches)
    evidence: tuple[Evidence, ...] = ()
    exclude: frozenset[int] = frozenset()  # sent before, in a list, or marked not interested


@dataclass(frozen=True)
class Pick:
    paper_id: int
    score: float
    section: str  # the topic it is listed under
    reason: str


UNSORTED_SECTION = "More new papers"
TRENDING_REASON = "trending on paperfeed"
EXPLORING_REASON = "outside your usual topics: popular in {tag}"

# What each kind of interest adds to a paper's score. Content is the cosine between the
# paper and the reader's profile: a paper on the problem of one of their saved papers
# scores 0.2 and more, a paper of their field a few hundredths (in the arXiv simulation,
# a reader's tenth best paper about 0.03). So a followed author counts like a close
# paper, and a followed tag puts its papers ahead of papers only of the field.
TAG_WEIGHT = 0.1
AUTHOR_WEIGHT = 0.4
SEARCH_WEIGHT = 0.25
CONTENT_WEIGHT = 1.0
NEGATIVE_WEIGHT = 1.0
TRENDING_WEIGHT = 0.02
# A reader's profile keeps what sets their evidence apart from the candidates of the
# call (Rocchio's method, with the candidates' mean as the non-relevant side): a term
# stays if its weight in the evidence exceeds this many times its mean weight among
# the candidates. Common words of every abstract drop out, the vocabulary of the
# reader's field stays.
BACKGROUND = 3.0
# Fewer candidates than this are too few to tell which words are common.
BACKGROUND_PAPERS = 100
# Below this cosine with the profile a paper shares little more than common words with
# the reader's evidence: not a reason to show it.
CONTENT_FLOOR = 0.02
# The share of a paper's content score that comes from its nearest candidates.
SMOOTHING = 0.5
NEIGHBOURS = 10
# A paper in a crowded part of the candidates (the fashionable topic of the week, an
# abstract of common words) is close to every profile a little: it would come up for
# readers of every field (hubness). How crowded its neighbourhood is, the mean cosine
# with its CROWD nearest candidates, is taken off its content score this many times,
# less that of the average candidate: in the arXiv simulation, +0.015 nDCG@10.
CROWDING = 0.5
CROWD = 5
# Two candidates less similar than this have little more than common words in common.
NEIGHBOUR_FLOOR = 0.02
# Author names are terms too, with this (pre-IDF) weight: papers by people whose papers
# the reader kept read alike.
AUTHOR_TERM = 2.0
# Two papers this similar tell the reader the same thing: only the better one is shown.
NEAR_DUPLICATE = 0.7
# A topic's share of a digest while papers of other topics qualify.
TOPIC_SHARE = 0.4
# Terms in at least this share of the candidates are multiplied densely.
DENSE_SHARE = 0.03
# Readers ranked together: bounds the arrays of a row per reader or per evidence
# paper and a column per candidate (~32 MB each).
CELLS_PER_CHUNK = 8_000_000
# A paper's heavy terms (its rare words and word pairs, about 20 of them) are enough to
# tell which evidence paper a pick is closest to.
SKETCH_WEIGHT = 0.08


def rank(
    readers: Sequence[Reader],
    candidates: Sequence[PaperText],
    *,
    evidence_papers: Mapping[int, PaperText],
    tag_names: Mapping[str, str],
) -> dict[int, list[Pick]]:
    """Each reader's picks (at most `size`), best first, keyed by reader id."""
    picks: dict[int, list[Pick]] = {reader.id: [] for reader in readers}
    if not readers or not candidates:
        return picks
    pool = _Pool(candidates, readers, evidence_papers, tag_names)
    for chunk in _chunks(readers, cells=max(1, CELLS_PER_CHUNK // len(candidates))):
        picks.update(_rank_chunk(chunk, pool))
    return picks


def _chunks(readers: Sequence[Reader], *, cells: int):
    """Readers in groups whose arrays (a row per reader and per evidence paper, a
    column per candidate) stay within the budget."""
    start, used = 0, 0
    for end, reader in enumerate(readers):
        cost = 1 + len(reader.evidence)
        if used and used + cost > cells:
            yield readers[start:end]
            start, used = end, 0
        used += cost
    yield readers[start:]


class _Candidates:
    """The candidates of a call as matrices: the work that does not depend on the readers,
    kept for the next call with the same candidates (a dispatch ranks its readers in
    batches over the same new papers).

    Terms are numbered over the candidates' vocabulary, the terms most candidates share
    first: only those terms can make a candidate score.
    """

    def __init__(self, candidates: Sequence[PaperText]):
        self.papers = list(candidates)
        m = len(self.papers)
        self.index = {paper.id: j for j, paper in enumerate(self.papers)}
        self.seen = np.array([paper.seen for paper in self.papers], np.float64)
        popularity = np.array([max(paper.popularity, 0.0) for paper in self.papers])
        self.popular = popularity > 0
        top = popularity.max()
        self.prior = np.log1p(popularity) / np.log1p(top) if top > 0 else np.zeros(m)
        # Trending order for cold starts and exploration: popularity, then newest.
        self.trend = np.empty(m, np.float32)
        self.trend[np.lexsort((self.seen, popularity))] = np.arange(1, m + 1) / (m + 1)
        self.trending = np.argsort(-self.trend)

        self.tags: dict[str, int] = {}
        for paper in self.papers:
            for slug in paper.tags:
                self.tags.setdefault(slug, len(self.tags))
        self.paper_tags = _incidence([paper.tags for paper in self.papers], self.tags)
        self.has_tags = np.array([bool(paper.tags) for paper in self.papers])
        self.topics = [paper.tags[0] if paper.tags else None for paper in self.papers]
        self.authors: dict[str, int] = {}
        for paper in self.papers:
            for key in paper.author_keys:
                self.authors.setdefault(key, len(self.authors))
        self.paper_authors = _incidence([paper.author_keys for paper in self.papers], self.authors)

        counts = _term_counts(self.papers)
        frequency = np.bincount(counts.indices, minlength=_FEATURES)
        used = np.flatnonzero(frequency)
        # Products with the candidates go two ways: the few terms most candidates share
        # through a dense product (BLAS), the long tail of rarer ones through a sparse
        # one. Each way alone costs about three times as much.
        shared = frequency[used] >= max(DENSE_SHARE * m, 2)
        self.terms = np.concatenate((used[shared], used[~shared]))
        self.shared_terms = int(shared.sum())
        self.idf = np.full(_FEATURES, np.log(1 + m) + 1, np.float32)
        self.idf[used] = np.log((1 + m) / (1 + frequency[used])) + 1
        vectors = _normalized(_weighted(counts, self.idf))
        self.vectors, sketches = self.compact(vectors, _sketches(vectors))
        self.sketches_t = sketches.T.tocsr()
        self.vectors_t = self.vectors.T.tocsr()
        self.shared_vectors_t = self.vectors_t[: self.shared_terms].toarray()
        rare = self.vectors_t.copy()
        rare.data[: rare.indptr[self.shared_terms]] = 0
        rare.eliminate_zeros()
        self.rare_vectors_t = rare
        # A handful of candidates would erase the words they share from every profile.
        self.background = (
            np.asarray(self.vectors.sum(axis=0)).ravel() / max(m, BACKGROUND_PAPERS)
        ).astype(np.float32)
        self.duplicates, self.neighbours, crowd = _neighbourhoods(self.vectors, self.vectors_t)
        # Smoothing is linear: a reader's content score less the smoothed crowding is the
        # smoothed score of their cosines less each paper's crowding.
        crowding = CROWDING * (crowd - crowd.mean())
        self.crowding = _smoothed(crowding[None, :], self)[0]
        # Evidence papers as term rows, kept: a dispatch's batches share most of them.
        self.known: dict[PaperText, int] = {}
        empty = sp.csr_matrix((0, len(self.terms)), dtype=np.float32)
        self.known_vectors, self.known_sketches = empty, empty

    def rows_of(self, papers: Sequence[PaperText]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The papers' unit term vectors and sketches over the candidates' terms, each
        paper's worked out once while the candidates stay the same."""
        try:
            new = [paper for paper in dict.fromkeys(papers) if paper not in self.known]
        except TypeError:  # unhashable fields (lists for tuples): nothing to keep
            return self._vectors(papers)
        if new:
            vectors, sketches = self._vectors(new)
            first = len(self.known)
            self.known.update(zip(new, range(first, first + len(new)), strict=True))
            self.known_vectors = sp.vstack((self.known_vectors, vectors), format="csr")
            self.known_sketches = sp.vstack((self.known_sketches, sketches), format="csr")
        rows = [self.known[paper] for paper in papers]
        return self.known_vectors[rows], self.known_sketches[rows]

    def _vectors(self, papers: Sequence[PaperText]) -> list[sp.csr_matrix]:
        # Unit length over all their terms, then cut to the candidates' terms: a paper
        # with much the candidates do not share is less like each of them.
        vectors = _normalized(_weighted(_term_counts(papers), self.idf))
        return self.compact(vectors, _sketches(vectors))

    def compact(self, *matrices: sp.csr_matrix) -> list[sp.csr_matrix]:
        """Hashed term rows renumbered over the candidates' terms; other terms left out."""
        # A table over all hashed terms: quick to fill, too large to keep.
        position = np.full(_FEATURES, -1, np.int32)
        position[self.terms] = np.arange(len(self.terms))
        compacted = []
        for rows in matrices:
            found = position[rows.indices]
            known = found >= 0
            kept = np.zeros(len(known) + 1, np.int64)
            np.cumsum(known, out=kept[1:])
            compacted.append(
                sp.csr_matrix(
                    (rows.data[known], found[known], kept[rows.indptr]),
                    shape=(rows.shape[0], len(self.terms)),
                )
            )
        return compacted

    def cosines(self, rows: sp.csr_matrix) -> np.ndarray:
        """Dot products of term rows (over the candidates' terms) with every candidate."""
        result = (rows @ self.rare_vectors_t).toarray()
        shared = rows.indices < self.shared_terms
        if shared.any():
            dense = np.zeros((rows.shape[0], self.shared_terms), np.float32)
            owners = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
            dense[owners[shared], rows.indices[shared]] = rows.data[shared]
            result += dense @ self.shared_vectors_t
        return result


@lru_cache(maxsize=1)
def _cached_candidates(candidates: tuple[PaperText, ...]) -> _Candidates:
    return _Candidates(candidates)


class _Pool:
    """The candidates and the evidence papers of one call."""

    def __init__(self, candidates, readers, evidence_papers, tag_names):
        try:
            self.candidates = _cached_candidates(tuple(candidates))
        except TypeError:  # unhashable fields (lists for tuples): nothing to keep
            self.candidates = _Candidates(candidates)
        # The candidates' matrices and lists, read as the pool's own.
        vars(self).update(vars(self.candidates))
        self.tag_names = tag_names
        self.evidence: dict[int, int] = {}
        for reader in readers:
            for item in reader.evidence:
                if item.weight and item.paper_id in evidence_papers:
                    self.evidence.setdefault(item.paper_id, len(self.evidence))
        self.evidence_papers = [evidence_papers[paper_id] for paper_id in self.evidence]
        self.evidence_vectors, self.evidence_sketches = self.candidates.rows_of(
            self.evidence_papers
        )


def _weighted(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    counts.data *= idf[counts.indices]
    return counts


def _incidence(rows, columns: Mapping[str, int]) -> sp.csr_matrix:
    indptr, indices = [0], []
    for row in rows:
        indices.extend(columns[value] for value in dict.fromkeys(row) if value in columns)
        indptr.append(len(indices))
    data = np.ones(len(indices), np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), len(columns)))


def _term_counts(papers: Sequence[PaperText]) -> sp.csr_matrix:
    """Each paper's terms, hashed into columns: the words and word pairs of its title and
    abstract with sublinear frequencies (1 + log count), and its authors' names.

    Words are runs of letters and digits (any non-ASCII byte counts as a letter), two
    characters or more, English stop words left out, pairs made after they are: what
    scikit-learn's vectorizers see, found here with whole-array NumPy operations, since
    tokenising with regular expressions costs about three times as long and a call can
    read tens of thousands of abstracts.
    """
    texts = [f"{paper.title} {paper.abstract}"[:_LONGEST_TEXT].lower().encode() for paper in papers]
    # Names as one term each, behind a byte that UTF-8 text never contains.
    names = [
        b" ".join(b"\xff" + key.replace(" ", "").encode() for key in paper.author_keys)
        for paper in papers
    ]
    words = _hashed(texts, pairs=True)
    words.data = 1 + np.log(words.data)
    people = _hashed(names, pairs=False)
    people.data[:] = AUTHOR_TERM
    return (words + people).tocsr()


def _hashed(texts: Sequence[bytes], *, pairs: bool) -> sp.csr_matrix:
    """Term counts of lower-cased UTF-8 texts."""
    blocks, start = [], 0
    while start < len(texts):
        stop, size = start, 0
        while stop < len(texts) and (size == 0 or size + len(texts[stop]) < _BLOCK):
            size += len(texts[stop]) + 1
            stop += 1
        blocks.append((start, texts[start:stop]))
        start = stop
    # NumPy lets go of the interpreter while it works on whole arrays: two blocks at once
    # take little more than one.
    with ThreadPoolExecutor(max_workers=2) as workers:
        parts = list(workers.map(lambda block: _block_terms(*block, pairs=pairs), blocks))
    rows = [part[0] for part in parts] or [np.zeros(0, np.int64)]
    row = np.concatenate(rows)
    indptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=len(texts)), out=indptr[1:])
    return sp.csr_matrix(
        (
            np.concatenate([part[2] for part in parts] or [np.zeros(0)]).astype(np.float32),
            np.concatenate([part[1] for part in parts] or [np.zeros(0)]).astype(np.int32),
            indptr,
        ),
        shape=(len(texts), _FEATURES),
    )


def _block_terms(start: int, block: Sequence[bytes], *, pairs: bool):
    """(row, column, count) of each term of each text, rows numbered from `start`."""
    data = np.frombuffer(b"\n".join(block) + b"\n", np.uint8)
    begins, ends, hashes = _words(data)
    keep = ((ends - begins) >= 2) & ~_STOP_COLUMNS[_column(hashes)]
    hashes = hashes[keep]
    lengths = np.fromiter((len(text) + 1 for text in block), np.int64, len(block))
    paper = np.searchsorted(np.cumsum(lengths), begins[keep], side="right")
    if pairs:
        same = paper[1:] == paper[:-1]
        with np.errstate(over="ignore"):
            joined = (hashes[:-1] * np.uint32(_PRIME) + hashes[1:]) * _MIX
        hashes = np.concatenate((hashes, joined[same]))
        paper = np.concatenate((paper, paper[:-1][same]))
    key = np.sort((paper + start) << _FEATURE_BITS | _column(hashes))
    first = np.flatnonzero(np.diff(key, prepend=-1))
    return (
        key[first] >> _FEATURE_BITS,
        key[first] & (_FEATURES - 1),
        np.diff(first, append=len(key)),
    )


def _column(hashes: np.ndarray) -> np.ndarray:
    return (hashes >> np.uint32(32 - _FEATURE_BITS)).astype(np.int64)


def _words(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each word of UTF-8 `data` begins and ends, and a 32-bit hash of it.

    The hash is polynomial, so every word's comes from one running sum over the bytes:
    hash(word) = (prefix[end] - prefix[begin]) / prime**begin, all modulo 2**32.
    """
    n = len(data)
    letters = _LETTER[data]
    # General punctuation (U+2000…U+207F: dashes, curly quotes) separates words too.
    dashes = np.flatnonzero((data[:-2] == 0xE2) & ((data[1:-1] == 0x80) | (data[1:-1] == 0x81)))
    for k in range(3):
        letters[dashes + k] = False
    edges = np.diff(letters.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    begins = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, np.uint32)
        np.cumsum(data * _POWERS[:n], out=prefix[1:])
        hashes = (prefix[ends] - prefix[begins]) * _INVERSE_POWERS[begins]
        hashes = (hashes ^ (hashes >> np.uint32(15))) * _MIX
    return begins, ends, hashes


def _powers(base: int, count: int) -> np.ndarray:
    powers = np.empty(count, np.uint32)
    powers[0] = 1
    with np.errstate(over="ignore"):
        np.cumprod(np.full(count - 1, base, np.uint32), out=powers[1:])
    return powers


_FEATURE_BITS = 22
_FEATURES = 1 << _FEATURE_BITS
# Texts are tokenised a block of about this many bytes at a time.
_BLOCK = 1 << 20
# Characters read of a title and abstract (abstracts run to about 2,000).
_LONGEST_TEXT = 20_000
_LONGEST = _BLOCK + 4 * _LONGEST_TEXT + 1
_PRIME = 0x01000193
_POWERS = _powers(_PRIME, _LONGEST + 1)
_INVERSE_POWERS = _powers(pow(_PRIME, -1, 2**32), _LONGEST + 1)
_MIX = np.uint32(0x9E3779B1)
_LETTER = np.zeros(256, bool)
_LETTER[list(b"abcdefghijklmnopqrstuvwxyz0123456789")] = True
_LETTER[128:] = True


def _stop_columns() -> np.ndarray:
    columns = np.zeros(_FEATURES, bool)
    words = " ".join(sorted(ENGLISH_STOP_WORDS)).encode()
    hashes = _words(np.frombuffer(words, np.uint8))[2]
    columns[(hashes >> np.uint32(32 - _FEATURE_BITS)).astype(np.int64)] = True
    return columns


_STOP_COLUMNS = _stop_columns()


def _normalized(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The rows scaled to unit length (empty rows stay empty), in place."""
    lengths = np.diff(matrix.indptr)
    squares = np.zeros(matrix.shape[0], np.float64)
    filled = lengths > 0
    squares[filled] = np.add.reduceat(
        matrix.data.astype(np.float64) ** 2, matrix.indptr[:-1][filled]
    )
    norms = np.sqrt(squares)
    norms[norms == 0] = 1
    matrix.data = (matrix.data / np.repeat(norms, lengths)).astype(np.float32)
    return matrix


def _sketches(vectors: sp.csr_matrix) -> sp.csr_matrix:
    """Each row cut to its heavy terms (for a TF-IDF row of unit length)."""
    sketches = vectors.copy()
    sketches.data[sketches.data < SKETCH_WEIGHT] = 0
    sketches.eliminate_zeros()
    return sketches


def _neighbourhoods(vectors: sp.csr_matrix, transposed: sp.csr_matrix):
    """Each candidate's near-duplicates (too similar to be shown alongside it), the
    graph of each candidate's NEIGHBOURS most similar ones, rows summing to 1, and how
    crowded each candidate's neighbourhood is (the mean cosine with its CROWD nearest)."""
    n = vectors.shape[0]
    duplicates: list[tuple[int, ...]] = [()] * n
    k = min(NEIGHBOURS, n - 1)
    rows, columns, weights = [], [], []
    crowd = np.zeros(n, np.float32)
    step = max(1, CELLS_PER_CHUNK // n)
    for start in range(0, n, step):
        block = (vectors[start : start + step] @ transposed).toarray()
        own = np.arange(block.shape[0])
        block[own, own + start] = 0
        # Papers with only common words in common are no neighbours.
        block[block < NEIGHBOUR_FLOOR] = 0
        for row, col in zip(*np.nonzero(block >= NEAR_DUPLICATE), strict=True):
            duplicates[start + row] += (int(col),)
        if k > 0:
            nearest = np.argpartition(-block, k - 1, axis=1)[:, :k]
            rows.append(np.repeat(own + start, k))
            columns.append(nearest.ravel())
            nearness = np.take_along_axis(block, nearest, axis=1)
            weights.append(nearness.ravel())
            nearest_first = np.sort(nearness, axis=1)[:, ::-1]
            crowd[start : start + step] = nearest_first[:, :CROWD].mean(axis=1)
    if not rows:
        return duplicates, sp.csr_matrix((n, n), dtype=np.float32), crowd
    graph = sp.csr_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(columns))), shape=(n, n)
    )
    graph.eliminate_zeros()
    totals = np.asarray(graph.sum(axis=1)).ravel()
    totals[totals == 0] = 1
    graph = sp.csr_matrix(sp.diags(1 / totals) @ graph, dtype=np.float32)
    return duplicates, graph, crowd


def _rank_chunk(readers: Sequence[Reader], pool: _Pool) -> dict[int, list[Pick]]:
    n = len(readers)
    since = np.array([reader.since for reader in readers], np.float64)
    eligible = pool.seen[None, :] > since[:, None]
    rows, cols = [], []
    for i, reader in enumerate(readers):
        # Evidence is what the reader has already seen, too.
        for paper_id in (*reader.exclude, *(item.paper_id for item in reader.evidence)):
            j = pool.index.get(paper_id)
            if j is not None:
                rows.append(i)
                cols.append(j)
    eligible[rows, cols] = False

    tag_hits = (_incidence([r.tags for r in readers], pool.tags) @ pool.paper_tags.T).toarray()
    author_hits = (
        _incidence([r.authors for r in readers], pool.authors) @ pool.paper_authors.T
    ).toarray()
    search_rows, search_cols = [], []
    for i, reader in enumerate(readers):
        for _name, ids in reader.searches:
            for paper_id in ids:
                j = pool.index.get(paper_id)
                if j is not None:
                    search_rows.append(i)
                    search_cols.append(j)
    search_hits = sp.csr_matrix(
        (np.ones(len(search_rows), np.float32), (search_rows, search_cols)),
        shape=(n, len(pool.papers)),
    ).toarray()

    liked = [_evidence_rows(reader, pool, positive=True) for reader in readers]
    disliked = [_evidence_rows(reader, pool, positive=False) for reader in readers]
    affinity = _affinity(liked, pool)
    content = _smoothed(affinity, pool)
    dislike = _affinity(disliked, pool)

    score = (
        TAG_WEIGHT * tag_hits
        + AUTHOR_WEIGHT * author_hits
        + SEARCH_WEIGHT * search_hits
        + CONTENT_WEIGHT * content
        - NEGATIVE_WEIGHT * dislike
        + TRENDING_WEIGHT * pool.prior[None, :]
    )
    # Interest is the paper's own likeness to the evidence; its neighbours' only reorder.
    interest = (tag_hits > 0) | (author_hits > 0) | (search_hits > 0) | (affinity >= CONTENT_FLOOR)
    qualified = eligible & interest & (score > 0)
    # Crowding only reorders what a reader's profile brings in: it neither qualifies a
    # paper nor keeps one out.
    profiled = affinity.any(axis=1)
    score[profiled] -= CONTENT_WEIGHT * pool.crowding

    # Cold starts rank by trend (popularity, then newest), those with tags within them.
    signals = np.array(
        [bool(r.authors or r.searches or rows) for r, (rows, _) in zip(readers, liked, strict=True)]
    )
    followed = np.array([bool(reader.tags) for reader in readers])
    cold = ~signals[:, None]
    score = np.where(cold, 1 + pool.trend[None, :] - NEGATIVE_WEIGHT * dislike, score)
    qualified = np.where(cold, eligible & ((tag_hits > 0) | ~followed[:, None]), qualified)

    # Exploration: popular papers none of whose tags the reader follows or keeps.
    usual = _incidence(
        [
            (*reader.tags, *(slug for row in rows for slug in pool.evidence_papers[row].tags))
            for reader, (rows, _) in zip(readers, liked, strict=True)
        ],
        pool.tags,
    )
    familiar = (usual @ pool.paper_tags.T).toarray() > 0
    explorable = (
        eligible
        & ~familiar
        & pool.has_tags[None, :]
        & pool.popular[None, :]
        & (dislike < CONTENT_FLOOR)
    )

    chosen = {}
    for i, reader in enumerate(readers):
        nobody = not (signals[i] or followed[i])
        picked, explore = _choose(
            reader, pool, score[i], qualified[i], None if nobody else explorable[i]
        )
        chosen[reader.id] = (i, picked, explore, nobody)
    return _explained(
        readers, pool, chosen, liked, score, tag_hits, author_hits, search_hits, affinity
    )


def _evidence_rows(reader: Reader, pool: _Pool, *, positive: bool):
    rows, items = [], []
    for item in reader.evidence:
        row = pool.evidence.get(item.paper_id)
        if row is not None and item.weight and (item.weight > 0) == positive:
            rows.append(row)
            items.append(item)
    return rows, items


def _affinity(evidence, pool: _Pool) -> np.ndarray:
    """Cosine of each candidate with each reader's profile: the weighted mean of their
    evidence papers, less BACKGROUND times the candidates' mean, negatives cut to 0."""
    owners, rows, weights = [], [], []
    for i, (evidence_rows, items) in enumerate(evidence):
        total = sum(abs(item.weight) for item in items)
        for row, item in zip(evidence_rows, items, strict=True):
            owners.append(i)
            rows.append(row)
            weights.append(abs(item.weight) / total)
    if not rows:
        return np.zeros((len(evidence), len(pool.papers)), np.float32)
    mixing = sp.csr_matrix(
        (np.array(weights, np.float32), (owners, rows)),
        shape=(len(evidence), len(pool.evidence_papers)),
    )
    # Over the candidates' terms only: others cannot tell candidates apart, and would
    # only shrink every cosine, more for readers with more varied evidence.
    profiles = (mixing @ pool.evidence_vectors).tocsr()
    profiles.data -= BACKGROUND * pool.background[profiles.indices]
    np.maximum(profiles.data, 0, out=profiles.data)
    profiles.eliminate_zeros()
    result = np.zeros((len(evidence), len(pool.papers)), np.float32)
    active = np.flatnonzero(np.diff(profiles.indptr))
    result[active] = pool.candidates.cosines(_normalized(profiles[active]))
    return result


def _smoothed(affinity: np.ndarray, pool: _Pool) -> np.ndarray:
    """Papers like the ones a reader would like are likely liked too (the cluster
    hypothesis): each score is blended with those of the paper's nearest candidates."""
    return (1 - SMOOTHING) * affinity + SMOOTHING * (pool.neighbours @ affinity.T).T


def _choose(reader: Reader, pool: _Pool, score, qualified, explorable):
    """The reader's best papers, no two near-duplicates and no topic over its share while
    others qualify, and the paper that explores (or None)."""
    size = reader.size
    if size <= 0:
        return [], None
    options = np.flatnonzero(qualified)
    window = min(len(options), 4 * size + 20)
    while True:
        if window < len(options):
            best = options[np.argpartition(-score[options], window - 1)[:window]]
        else:
            best = options
        order = best[np.lexsort((best, -score[best]))]
        picked, deferred = _fill(order, size, pool)
        if len(picked) >= size or window >= len(options):
            break
        window = len(options)
    for j in deferred:
        if len(picked) >= size:
            break
        if not any(j in pool.duplicates[k] for k in picked):
            picked.append(j)

    explore = None
    if explorable is not None and size >= 3:
        kept = picked[: size - 1]
        kept_tags = {slug for j in kept for slug in pool.papers[j].tags}
        near = {d for j in kept for d in pool.duplicates[j]}
        for j in pool.trending[explorable[pool.trending]][: 4 * size].tolist():
            if j in kept or j in near or not kept_tags.isdisjoint(pool.papers[j].tags):
                continue
            explore = j
            picked = kept
            break
    return picked, explore


def _fill(order, size: int, pool: _Pool):
    cap = max(1, ceil(size * TOPIC_SHARE))
    topics, duplicates = pool.topics, pool.duplicates
    picked, deferred, blocked = [], [], set()
    per_topic: dict[str, int] = {}
    for j in order.tolist():
        if j in blocked:
            continue
        topic = topics[j]
        # Papers without tags are not a topic: nothing caps them.
        if topic is not None:
            if per_topic.get(topic, 0) >= cap:
                deferred.append(j)
                continue
            per_topic[topic] = per_topic.get(topic, 0) + 1
        picked.append(j)
        blocked.update(duplicates[j])
        if len(picked) == size:
            break
    return picked, [j for j in deferred if j not in blocked]


def _explained(readers, pool, chosen, liked, score, tag_hits, author_hits, search_hits, affinity):
    """Picks with their sections and reasons."""
    # The evidence paper each pick is closest to, from the papers' sketches.
    used = sorted({row for i, picked, _, _ in chosen.values() if picked for row in liked[i][0]})
    local = {row: k for k, row in enumerate(used)}
    similarity = (pool.evidence_sketches[used] @ pool.sketches_t).toarray() if used else None
    closest = {}
    for i, picked, _explore, _nobody in chosen.values():
        if picked and liked[i][0]:
            rows = [local[row] for row in liked[i][0]]
            nearest = similarity[np.ix_(rows, picked)].argmax(axis=0)
            closest.update(zip(((i, j) for j in picked), nearest.tolist(), strict=True))

    # Every pick's parts of score at once, as Python numbers (cheap to compare).
    cells = [
        (i, j)
        for i, picked, explore, _ in chosen.values()
        for j in (picked if explore is None else [*picked, explore])
    ]
    at_i, at_j = ([i for i, _ in cells], [j for _, j in cells])
    parts = zip(
        score[at_i, at_j].tolist(),
        tag_hits[at_i, at_j].tolist(),
        author_hits[at_i, at_j].tolist(),
        search_hits[at_i, at_j].tolist(),
        affinity[at_i, at_j].tolist(),
        strict=True,
    )
    result = {}
    for reader_id, (i, picked, explore, nobody) in chosen.items():
        reader = readers[i]
        picks = []
        for j in picked:
            paper = pool.papers[j]
            total, tags, authors, searches, content = next(parts)
            if nobody:
                reason = TRENDING_REASON
            else:
                k = closest.get((i, j))
                reason = _reason(
                    reader,
                    paper,
                    pool,
                    tags=tags,
                    authors=authors,
                    searches=searches,
                    content=content,
                    evidence=liked[i][1][k] if k is not None else None,
                )
            picks.append(Pick(paper.id, total, _section(paper, pool.tag_names), reason))
        if explore is not None:
            paper = pool.papers[explore]
            total = next(parts)[0]
            reason = EXPLORING_REASON.format(tag=_hashtag(paper.tags[0], pool.tag_names))
            picks.append(Pick(paper.id, total, _section(paper, pool.tag_names), reason))
        result[reader_id] = picks
    return result


def _section(paper: PaperText, tag_names) -> str:
    return tag_names.get(paper.tags[0], paper.tags[0]) if paper.tags else UNSORTED_SECTION


def _hashtag(slug: str, tag_names) -> str:
    return "#" + tag_names.get(slug, slug)


def _reason(reader, paper, pool, *, tags, authors, searches, content, evidence) -> str:
    """What brought the paper in most: the largest part of its score."""
    parts = [
        (AUTHOR_WEIGHT * authors, 3),
        (SEARCH_WEIGHT * searches, 2),
        (CONTENT_WEIGHT * content if evidence and content >= CONTENT_FLOOR else 0, 1),
        (TAG_WEIGHT * tags, 0),
    ]
    part, kind = max(parts)
    if part <= 0:
        return TRENDING_REASON
    if kind == 3:
        for name, key in zip(paper.authors, paper.author_keys, strict=False):
            if key in reader.authors:
                return f"you follow {name}"
    if kind == 2:
        for name, ids in reader.searches:
            if paper.id in ids:
                return f"matches your search ‘{name}’"
    if kind == 1:
        title = pool.evidence_papers[pool.evidence[evidence.paper_id]].title
        return evidence.reason.replace("{title}", title)
    for slug in paper.tags:
        if slug in reader.tags:
            return "you follow " + _hashtag(slug, pool.tag_names)
    return TRENDING_REASON
