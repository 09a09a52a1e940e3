"""How relevant digests are, measured with readers simulated from an arXiv snapshot.

A simulated reader has one interest: an arXiv category, or two categories that occur
together. At a cut date they have saved ten random papers of that interest from the four
weeks before; their digest is chosen from the papers first listed in the seven days from
the cut, and the relevant ones are those carrying all the interest's categories. The
categories are never shown to the ranking: it sees titles, abstracts and authors only.

Three methods choose ten papers for each reader:
- paperfeed: `digest.ranking.rank()`, the code that builds real digests, with the saved
  papers as the reader's evidence (diversification and the exploration slot stay on);
- arxiv-sanity-lite: its published recipe, TF-IDF of words and word pairs and one linear
  SVM per reader, the saved papers against every other paper listed before the cut;
- random: ten candidates drawn at random, the floor.

A fourth, asked for by name, says how far text can take any method here:
- ceiling: arxiv-sanity-lite's features and SVM, but told the interest, and trained on
  every paper listed before the cut labelled with it (thousands of examples where a
  reader gives ten). Category labels are the authors' own, and many a paper reads like
  one of a category it was not filed under: even this method stays far from 1.
"""

import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from digest import ranking
from papers.identity import author_key
from papers.sources import snapshot
from papers.sources.records import PaperRecord, SourceError

METHODS = ("paperfeed", "arxiv-sanity-lite", "random")
ALL_METHODS = (*METHODS, "ceiling")
CUTS = (0.50, 0.65, 0.80)
SAVED = 10
HISTORY = timedelta(weeks=4)
WINDOW = timedelta(days=7)
MIN_INTEREST_PAPERS = 150
MAX_INTEREST_SHARE = 0.05
MIN_RELEVANT = 5
SIZE = 10
SEED = 20260301


@dataclass(frozen=True)
class Paper:
    id: int
    day: date
    categories: frozenset[str]
    text: ranking.PaperText


@dataclass(frozen=True)
class SimulatedReader:
    cut: date
    interest: tuple[str, ...]
    saved: tuple[int, ...]  # Paper ids
    candidates: tuple[int, ...]
    relevant: frozenset[int]


def read_papers(data: bytes, *, name: str = "the file") -> list[Paper]:
    """The dated papers of an arXiv JSON Lines snapshot (plain or gzip), in listing order."""
    try:
        records = [item for item in snapshot.parse(data) if isinstance(item, PaperRecord)]
    except SourceError as exc:
        raise ValueError(f"{name}: {exc}") from None
    records = [record for record in records if record.published_at is not None]
    if not records:
        raise ValueError(f"{name}: none of its lines is a readable paper with a listing date")
    records.sort(key=lambda record: record.published_at)
    return [_paper(number, record) for number, record in enumerate(records)]


def _paper(number: int, record: PaperRecord) -> Paper:
    return Paper(
        id=number,
        day=record.published_at.date(),
        categories=frozenset(record.categories),
        text=ranking.PaperText(
            id=number,
            title=record.title,
            abstract=record.abstract,
            authors=record.authors,
            author_keys=tuple(author_key(name) for name in record.authors),
            seen=record.published_at.timestamp(),
        ),
    )


def interests(
    papers: Sequence[Paper],
    *,
    min_papers: int = MIN_INTEREST_PAPERS,
    max_share: float = MAX_INTEREST_SHARE,
) -> list[tuple[str, ...]]:
    """Categories and co-occurring pairs with enough papers to learn from, and few enough
    that finding them is a task (sorted, so that a seed always means the same readers)."""
    counts: Counter[tuple[str, ...]] = Counter()
    for paper in papers:
        categories = sorted(paper.categories)
        counts.update((code,) for code in categories)
        counts.update(combinations(categories, 2))
    most = max_share * len(papers)
    return sorted(key for key, n in counts.items() if min_papers <= n <= most)


def cut_days(papers: Sequence[Paper], *, cuts: Iterable[float] = CUTS) -> list[date]:
    days = sorted({paper.day for paper in papers})
    return [days[min(int(share * len(days)), len(days) - 1)] for share in cuts]


def simulate_readers(
    papers: Sequence[Paper],
    *,
    seed: int = SEED,
    min_papers: int = MIN_INTEREST_PAPERS,
    max_share: float = MAX_INTEREST_SHARE,
    min_relevant: int = MIN_RELEVANT,
    limit: int | None = None,
    cuts: Iterable[float] = CUTS,
) -> list[SimulatedReader]:
    rng = random.Random(seed)
    readers = []
    for cut in cut_days(papers, cuts=cuts):
        history = [paper for paper in papers if cut - HISTORY <= paper.day < cut]
        window = [paper for paper in papers if cut <= paper.day < cut + WINDOW]
        for interest in interests(papers, min_papers=min_papers, max_share=max_share):
            wanted = set(interest)
            liked = [paper.id for paper in history if wanted <= paper.categories]
            relevant = frozenset(paper.id for paper in window if wanted <= paper.categories)
            if len(liked) < SAVED or len(relevant) < min_relevant:
                continue
            readers.append(
                SimulatedReader(
                    cut=cut,
                    interest=interest,
                    saved=tuple(sorted(rng.sample(liked, SAVED))),
                    candidates=tuple(paper.id for paper in window),
                    relevant=relevant,
                )
            )
    if limit is not None and len(readers) > limit:
        readers = sorted(rng.sample(readers, limit), key=lambda reader: reader.cut)
    return readers


def evaluate(
    papers: Sequence[Paper],
    readers: Sequence[SimulatedReader],
    *,
    methods: Iterable[str] = METHODS,
    seed: int = SEED,
) -> Iterator[dict]:
    """One row of scores per method, each as soon as it is measured."""
    if not readers:
        raise ValueError(
            "no simulated reader: no interest has enough papers before a cut and in the "
            "week after it; use a larger snapshot or relax the thresholds"
        )
    by_cut: dict[date, list[SimulatedReader]] = {}
    for reader in readers:
        by_cut.setdefault(reader.cut, []).append(reader)
    ordered = [reader for group in by_cut.values() for reader in group]
    ours = None
    for method in methods:
        chosen, seconds = [], 0.0
        for cut, group in by_cut.items():
            picks, spent = _METHODS[method](papers, cut, group, seed)
            chosen.extend(picks)
            seconds += spent
        ndcg = np.array(
            [_ndcg(p, reader.relevant) for reader, p in zip(ordered, chosen, strict=True)]
        )
        row = _row(method, ordered, chosen, ndcg, seconds)
        if method == "paperfeed":
            ours = ndcg
        elif ours is not None:
            # Both methods face the same readers: the difference reader by reader tells
            # how far ahead paperfeed is, and how surely, far better than two means apart.
            row["paperfeed_lead"] = round(float(np.mean(ours - ndcg)), 4)
            row["paperfeed_lead_stderr"] = _stderr(ours - ndcg)
        yield row


def _row(method: str, readers, chosen, ndcg: np.ndarray, seconds: float) -> dict:
    precision = [
        sum(paper in reader.relevant for paper in picks[:SIZE]) / SIZE
        for reader, picks in zip(readers, chosen, strict=True)
    ]
    return {
        "method": method,
        "ndcg@10": round(float(np.mean(ndcg)), 4),
        # How much the mean would move with other readers of the same kind.
        "ndcg@10_stderr": _stderr(ndcg),
        "precision@10": round(float(np.mean(precision)), 4),
        "readers": len(readers),
        "readers_per_s": round(len(readers) / seconds, 1) if seconds > 0 else None,
    }


def _stderr(values: np.ndarray) -> float | None:
    if len(values) < 2:
        return None
    return round(float(np.std(values, ddof=1) / np.sqrt(len(values))), 4)


def _ndcg(picks: Sequence[int], relevant: frozenset[int]) -> float:
    gains = [1 / np.log2(k + 2) for k, paper in enumerate(picks[:SIZE]) if paper in relevant]
    ideal = sum(1 / np.log2(k + 2) for k in range(min(SIZE, len(relevant))))
    return float(sum(gains) / ideal)


def _paperfeed(papers, cut, readers, seed):
    """Everything `rank()` does is timed: reading the texts, weighting, scoring, choosing."""
    candidates = [papers[i].text for i in readers[0].candidates]
    evidence = {i: papers[i].text for reader in readers for i in reader.saved}
    simulated = [
        ranking.Reader(
            id=k,
            size=SIZE,
            evidence=tuple(
                ranking.Evidence(
                    paper_id=i,
                    weight=1.0,
                    reason=f"similar to ‘{{title}}’ in your list ‘{' & '.join(reader.interest)}’",
                )
                for i in reader.saved
            ),
        )
        for k, reader in enumerate(readers)
    ]
    started = time.perf_counter()
    picks = ranking.rank(simulated, candidates, evidence_papers=evidence, tag_names={})
    seconds = time.perf_counter() - started
    return [[pick.paper_id for pick in picks[k]] for k in range(len(readers))], seconds


def _arxiv_sanity_lite(papers, cut, readers, seed):
    """The reader's ten saved papers against every other paper listed before the cut."""

    def saved(reader, before, row_of):
        labels = np.zeros(len(before), np.int8)
        labels[[row_of[i] for i in reader.saved]] = 1
        return labels

    return _svm_per_reader(papers, cut, readers, saved, c=0.01)


def _ceiling(papers, cut, readers, seed):
    def labelled(reader, before, row_of):
        wanted = set(reader.interest)
        return np.array([wanted <= papers[i].categories for i in before], np.int8)

    # Less regularised than arxiv-sanity-lite's: thousands of examples, not ten.
    return _svm_per_reader(papers, cut, readers, labelled, c=0.1)


def _svm_per_reader(papers, cut, readers, labels, *, c: float):
    """The TF-IDF is fitted once per cut, on the papers listed before it and the week's
    candidates (not on later papers, which a real deployment would not have yet), and
    is not timed, nor are each reader's labels; each reader's SVM, its scores and its
    top ten are."""
    before = [paper.id for paper in papers if paper.day < cut]
    candidates = list(readers[0].candidates)
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        max_features=20000,
        min_df=5,
        max_df=0.1,
        sublinear_tf=True,
        stop_words="english",
    )
    texts = [_text(papers[i]) for i in (*before, *candidates)]
    features = vectorizer.fit_transform(texts)
    known, new = features[: len(before)], features[len(before) :]
    row_of = {paper_id: row for row, paper_id in enumerate(before)}
    chosen, seconds = [], 0.0
    for reader in readers:
        wanted = labels(reader, before, row_of)
        started = time.perf_counter()
        svm = LinearSVC(C=c, class_weight="balanced").fit(known, wanted)
        scores = svm.decision_function(new)
        top = np.argsort(-scores, kind="stable")[:SIZE]
        chosen.append([candidates[k] for k in top])
        seconds += time.perf_counter() - started
    return chosen, seconds


def _random(papers, cut, readers, seed):
    rng = random.Random(f"{seed}-{cut}")
    started = time.perf_counter()
    chosen = [
        rng.sample(reader.candidates, min(SIZE, len(reader.candidates))) for reader in readers
    ]
    return chosen, time.perf_counter() - started


def _text(paper: Paper) -> str:
    return f"{paper.text.title} {paper.text.abstract}"


_METHODS = {
    "paperfeed": _paperfeed,
    "arxiv-sanity-lite": _arxiv_sanity_lite,
    "random": _random,
    "ceiling": _ceiling,
}
