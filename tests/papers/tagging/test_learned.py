import json
import re
from datetime import UTC
from pathlib import Path

import pytest

from papers.sources import snapshot
from papers.sources.records import PaperRecord
from papers.tagging import learned
from papers.tagging.learned import LearnedTagger, Suggestion

LISTING = Path(__file__).parents[2] / "fixtures" / "arxiv-cs" / "arxiv-cs-every-20th.jsonl.gz"
TAGS = frozenset({"cs.CV", "cs.CL", "cs.AI", "cs.LG"})
# The listing is in time order: learn from the older papers, predict the newer ones.
LEARN = 2000


@pytest.fixture(scope="module")
def papers() -> list[PaperRecord]:
    return [item for item in snapshot.parse(LISTING.read_bytes()) if isinstance(item, PaperRecord)]


def texts_of(papers):
    return [(paper.title, paper.abstract) for paper in papers]


def labels_of(papers):
    return [frozenset(paper.categories) & TAGS for paper in papers]


@pytest.fixture(scope="module")
def tagger(papers) -> LearnedTagger:
    return LearnedTagger().fit(texts_of(papers[:LEARN]), labels_of(papers[:LEARN]))


@pytest.fixture(scope="module")
def newer(papers, tagger):
    later = papers[LEARN:]
    return later, tagger.predict(texts_of(later))


def test_a_clearly_learnable_tag_is_suggested_for_new_papers(newer):
    later, suggestions = newer
    vision = [
        {s.tag for s in suggested}
        for paper, suggested in zip(later, suggestions, strict=True)
        if "cs.CV" in paper.categories
    ]
    said = sum("cs.CV" in tags for tags in vision)
    assert len(vision) > 100
    assert said / len(vision) > 0.85
    wrongly = sum(
        any(s.tag == "cs.CV" for s in suggested)
        for paper, suggested in zip(later, suggestions, strict=True)
        if "cs.CV" not in paper.categories
    )
    assert wrongly / (said + wrongly) < 0.2


def test_the_reason_is_words_of_the_paper_itself(newer):
    later, suggestions = newer
    assert sum(map(len, suggestions)) > len(later) / 2
    for paper, suggested in zip(later, suggestions, strict=True):
        words = set(re.findall(r"\w+", f"{paper.title} {paper.abstract}".lower()))
        for suggestion in suggested:
            assert 1 <= len(suggestion.terms) <= learned.MAX_TERMS
            assert len(set(suggestion.terms)) == len(suggestion.terms)
            for term in suggestion.terms:
                assert set(term.split()) <= words, (term, paper.title)


def test_suggestions_pass_their_tag_threshold_surest_first(tagger, newer):
    _, suggestions = newer
    for suggested in suggestions:
        assert all(isinstance(s, Suggestion) for s in suggested)
        assert len({s.tag for s in suggested}) == len(suggested)
        confidences = [s.confidence for s in suggested]
        assert confidences == sorted(confidences, reverse=True)
        for s in suggested:
            assert 0 <= s.confidence <= 1
            assert s.confidence >= tagger.thresholds[s.tag] - 1e-9


def test_every_tag_has_a_threshold_between_0_and_1(tagger):
    assert set(tagger.tags) == TAGS
    assert set(tagger.thresholds) == TAGS
    assert all(0 <= threshold <= 1 for threshold in tagger.thresholds.values())


def test_metrics_are_held_out_figures_that_fit_in_json(tagger):
    metrics = json.loads(json.dumps(tagger.metrics))
    assert metrics["papers"] == LEARN
    assert abs(metrics["held_out_papers"] - LEARN / 5) <= 5
    assert metrics["tags"] == len(TAGS)
    assert set(metrics["per_tag"]) == TAGS
    for key in ("precision", "recall", "f1"):
        assert 0 < metrics[f"micro_{key}"] <= 1
        assert 0 < metrics[f"macro_{key}"] <= 1
    assert metrics["per_tag"]["cs.CV"]["f1"] > 0.8
    assert metrics["per_tag"]["cs.CV"]["held_out"] > 50


def test_trained_at_is_aware(tagger):
    assert tagger.trained_at.tzinfo is not None
    assert tagger.trained_at.utcoffset() == UTC.utcoffset(None)


def test_stored_and_loaded_it_predicts_the_same(tagger, papers, newer):
    _, suggestions = newer
    loaded = LearnedTagger.from_bytes(tagger.to_bytes())
    assert loaded.predict(texts_of(papers[LEARN:])) == suggestions
    assert (loaded.version, loaded.tags, loaded.thresholds, loaded.metrics) == (
        tagger.version,
        tagger.tags,
        tagger.thresholds,
        tagger.metrics,
    )
    assert loaded.trained_at == tagger.trained_at


def test_batches_give_the_same_suggestions(tagger, papers, newer, monkeypatch):
    _, suggestions = newer
    monkeypatch.setattr(learned, "_BATCH", 7)
    assert tagger.predict(texts_of(papers[LEARN:])) == suggestions


def test_version_changes_with_the_training_data_only(papers, tagger):
    texts, labels = texts_of(papers[:LEARN]), labels_of(papers[:LEARN])
    assert len(tagger.version) == 64
    assert tagger.version_of(texts, labels) == tagger.version
    assert LearnedTagger().fit(texts, labels).version == tagger.version

    relabelled = [*labels[:-1], labels[-1] ^ {"cs.AI"}]
    assert tagger.version_of(texts, relabelled) != tagger.version
    retitled = [("Another title", texts[0][1]), *texts[1:]]
    assert tagger.version_of(retitled, labels) != tagger.version


def test_papers_without_words_it_knows_get_no_suggestion(tagger):
    assert tagger.predict([("", ""), ("Zzxq", "qqvv wwxx.")]) == [[], []]
    assert tagger.predict([]) == []


def test_nothing_to_learn_from_is_refused():
    with pytest.raises(ValueError, match="no papers to learn from"):
        LearnedTagger().fit([], [])
    with pytest.raises(ValueError, match="none of the papers has a tag"):
        LearnedTagger().fit([("A title", "An abstract.")] * 10, [frozenset()] * 10)


def test_papers_without_shared_words_are_refused():
    texts = [(f"Title{n}", f"Abstract{n}") for n in range(12)]
    labels = [frozenset({"odd"} if n % 2 else ()) for n in range(12)]
    with pytest.raises(ValueError, match="no word occurs in 3 or more of the papers"):
        LearnedTagger().fit(texts, labels)


def test_a_tag_on_a_single_paper_is_refused(papers):
    texts, labels = texts_of(papers[:200]), labels_of(papers[:200])
    labels[3] = labels[3] | {"quantum-gravity"}
    with pytest.raises(ValueError, match=r"too few papers to learn quantum-gravity \(1\)"):
        LearnedTagger().fit(texts, labels)


def test_a_tag_on_every_paper_is_refused(papers):
    texts = texts_of(papers[:50])
    with pytest.raises(ValueError, match="too few papers without everything"):
        LearnedTagger().fit(texts, [frozenset({"everything"})] * 50)


def test_texts_and_labels_must_pair_up():
    with pytest.raises(ValueError, match="2 texts but 1 label sets"):
        LearnedTagger().fit([("a", "b"), ("c", "d")], [frozenset({"x"})])


def test_an_untrained_tagger_says_so():
    with pytest.raises(ValueError, match="not been trained"):
        LearnedTagger().predict([("A title", "An abstract.")])
    with pytest.raises(ValueError, match="not been trained"):
        LearnedTagger().to_bytes()


def test_bytes_that_are_not_a_model_are_refused(tagger):
    with pytest.raises(ValueError, match="not a model saved by this version"):
        LearnedTagger.from_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match="the stored model is damaged"):
        LearnedTagger.from_bytes(tagger.to_bytes()[:1000])
