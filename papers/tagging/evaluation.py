"""How well the learned tagger tags, next to the methods of two well-known projects.

The task: learn the arXiv categories of papers listed before a date and predict them for
papers listed later, from title and abstract alone. It is scored with micro- and
macro-averaged F1 over the categories common enough to learn, and timed (fit + predict).

The two other methods are rewritten here from their published settings:
- arxiv-sanity-lite: TF-IDF of words and word pairs, one linear SVM per label, yes when
  the SVM's score is positive;
- paperless-ngx (its "auto" matching): word and word-pair counts into a small neural
  network over all labels at once.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import LinearSVC

from papers.sources import snapshot
from papers.sources.records import PaperRecord, SourceError
from papers.tagging.learned import LearnedTagger

# Categories with fewer training papers are left out of the task.
MIN_PAPERS = 300
# The time split of the arXiv cs listing (2025-03 … 2026-03): learn from 2025, predict
# the first quarter of 2026.
SPLIT_DATE = date(2026, 1, 1)

Texts = list[tuple[str, str]]


def read_papers(data: bytes, *, name: str = "the file") -> list[PaperRecord]:
    """The papers of an arXiv JSON Lines snapshot (plain or gzip), parsed as imports do."""
    try:
        papers = [item for item in snapshot.parse(data) if isinstance(item, PaperRecord)]
    except SourceError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if not papers:
        raise ValueError(f"{name}: none of its lines is a readable paper")
    return papers


def split_by_date(
    papers: Iterable[PaperRecord], *, at: date, until: date | None = None
) -> tuple[list[PaperRecord], list[PaperRecord]]:
    """Papers first listed before `at`, and those listed from `at` to `until` (inclusive).

    Papers without a date cannot be placed on either side and are left out.
    """
    before, after = [], []
    for paper in papers:
        if paper.published_at is None:
            continue
        day = paper.published_at.date()
        if day < at:
            before.append(paper)
        elif until is None or day <= until:
            after.append(paper)
    return before, after


def evaluate(
    train: Sequence[PaperRecord],
    test: Sequence[PaperRecord],
    *,
    min_papers: int = MIN_PAPERS,
    methods: Iterable[str] | None = None,
) -> Iterator[dict]:
    """One row of scores per method, each as soon as it is measured."""
    if not train or not test:
        raise ValueError(
            f"{len(train)} papers to learn from and {len(test)} to predict: both need some"
        )
    tags = learnable_categories(train, min_papers=min_papers)
    train_texts = [(paper.title, paper.abstract) for paper in train]
    test_texts = [(paper.title, paper.abstract) for paper in test]
    y_train = _indicator(train, tags)
    y_test = _indicator(test, tags)
    for name in methods or METHODS:
        started = time.perf_counter()
        predicted = METHODS[name](train_texts, y_train, test_texts, tags)
        seconds = time.perf_counter() - started
        yield _row(name, y_test, predicted, seconds)


def learnable_categories(papers: Sequence[PaperRecord], *, min_papers: int) -> list[str]:
    counts = Counter(code for paper in papers for code in set(paper.categories))
    tags = sorted(code for code, n in counts.items() if n >= min_papers)
    if not tags:
        most = counts.most_common(1)
        raise ValueError(
            f"no category has {min_papers} training papers"
            + (f" (the most: {most[0][0]}, {most[0][1]})" if most else "")
            + "; lower the minimum or learn from more papers"
        )
    return tags


def _indicator(papers: Sequence[PaperRecord], tags: list[str]) -> np.ndarray:
    column = {tag: k for k, tag in enumerate(tags)}
    y = np.zeros((len(papers), len(tags)), np.int8)
    for row, paper in enumerate(papers):
        for code in paper.categories:
            if code in column:
                y[row, column[code]] = 1
    return y


def _row(name: str, truth: np.ndarray, predicted: np.ndarray, seconds: float) -> dict:
    def score(metric, average):
        return round(float(metric(truth, predicted, average=average, zero_division=0)), 4)

    return {
        "method": name,
        "micro_f1": score(f1_score, "micro"),
        "macro_f1": score(f1_score, "macro"),
        "micro_precision": score(precision_score, "micro"),
        "micro_recall": score(recall_score, "micro"),
        "seconds": round(seconds, 1),
    }


def _paperfeed(train: Texts, y: np.ndarray, test: Texts, tags: list[str]) -> np.ndarray:
    labels = [frozenset(tags[k] for k in np.flatnonzero(row)) for row in y]
    suggested = LearnedTagger().fit(train, labels).predict(test)
    column = {tag: k for k, tag in enumerate(tags)}
    predicted = np.zeros((len(test), len(tags)), np.int8)
    for row, suggestions in enumerate(suggested):
        for suggestion in suggestions:
            predicted[row, column[suggestion.tag]] = 1
    return predicted


def _joined(texts: Texts) -> list[str]:
    return [f"{title} {abstract}" for title, abstract in texts]


def _arxiv_sanity_lite(train: Texts, y: np.ndarray, test: Texts, tags: list[str]) -> np.ndarray:
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        max_features=20000,
        min_df=5,
        max_df=0.1,
        sublinear_tf=True,
        stop_words="english",
    )
    features = vectorizer.fit_transform(_joined(train))
    svms = OneVsRestClassifier(LinearSVC(C=0.01, class_weight="balanced")).fit(features, y)
    scores = svms.decision_function(vectorizer.transform(_joined(test)))
    return (scores.reshape(len(test), -1) > 0).astype(np.int8)


def _paperless_ngx(train: Texts, y: np.ndarray, test: Texts, tags: list[str]) -> np.ndarray:
    vectorizer = CountVectorizer(ngram_range=(1, 2), min_df=0.01)
    features = vectorizer.fit_transform(_joined(train))
    network = MLPClassifier(tol=0.01).fit(features, y)
    predicted = network.predict(vectorizer.transform(_joined(test)))
    return np.asarray(predicted).reshape(len(test), -1).astype(np.int8)


METHODS: dict[str, Callable[[Texts, np.ndarray, Texts, list[str]], np.ndarray]] = {
    "paperfeed": _paperfeed,
    "arxiv-sanity-lite": _arxiv_sanity_lite,
    "paperless-ngx": _paperless_ngx,
}
