"""rank() on unsaved papers: what each signal brings in, what keeps papers out, and why."""

import dataclasses

import pytest

from digest import ranking
from digest.ranking import Evidence, PaperText, Pick, Reader, rank
from papers.identity import author_key

TOPICS = {
    "decoding": (
        "Speculative decoding with a small draft model",
        "A small draft model proposes tokens that the large language model verifies in "
        "parallel, so speculative decoding speeds up inference without changing outputs.",
    ),
    "decoding-2": (
        "Tree-based speculative decoding for faster language model inference",
        "Draft tokens are arranged in a tree and verified by the target language model in "
        "one pass; speculative decoding with token trees accepts longer drafts.",
    ),
    "decoding-3": (
        "Self-speculative decoding by skipping layers",
        "The language model drafts its own tokens by skipping intermediate layers, then "
        "verifies them; this speculative decoding needs no separate draft model.",
    ),
    "rag": (
        "Retrieval-augmented generation with dense passage retrieval",
        "A dense retriever fetches passages from a large corpus and the generator conditions "
        "on them, improving factual accuracy of open-domain question answering.",
    ),
    "rag-2": (
        "Reranking retrieved passages for retrieval-augmented question answering",
        "A cross-encoder reranks the passages a dense retriever returns before generation, "
        "which makes retrieval-augmented question answering more accurate.",
    ),
    "grasping": (
        "Learning dexterous robot grasping from tactile feedback",
        "A robot hand learns to grasp unfamiliar objects with reinforcement learning on "
        "tactile sensor readings, transferring from simulation to the real gripper.",
    ),
    "grasping-2": (
        "Sim-to-real transfer for robotic manipulation of deformable objects",
        "Policies trained in simulation fold cloth and manipulate cables on a real robot arm "
        "after domain randomisation of the gripper and object dynamics.",
    ),
    "proteins": (
        "Protein structure prediction with equivariant networks",
        "An equivariant graph network predicts three-dimensional protein structures from "
        "amino acid sequences and multiple sequence alignments.",
    ),
    "segmentation": (
        "Panoptic segmentation of street scenes",
        "Every pixel of an urban street image is labelled with a semantic class and an "
        "instance identity by a single convolutional segmentation network.",
    ),
    "compilers": (
        "Verified register allocation in an optimising compiler",
        "Register allocation by graph colouring is proved correct in a proof assistant and "
        "integrated into an optimising compiler for a subset of C.",
    ),
    "weather": (
        "Medium-range weather forecasting with graph networks",
        "A learned simulator forecasts global atmospheric variables ten days ahead on an "
        "icosahedral mesh, outperforming numerical weather prediction on many targets.",
    ),
    "auctions": (
        "Revenue-optimal auctions for budget-constrained bidders",
        "We characterise mechanisms that maximise seller revenue when bidders have private "
        "values and hard budgets, and give a polynomial-time approximation.",
    ),
}
TAG_NAMES = {
    "nlp": "NLP",
    "retrieval": "Retrieval",
    "robotics": "Robotics",
    "biology": "Biology",
    "vision": "Computer vision",
    "systems": "Systems",
    "climate": "Climate",
    "economics": "Economics",
}
TAGS = {
    "decoding": ("nlp",),
    "decoding-2": ("nlp",),
    "decoding-3": ("nlp",),
    "rag": ("retrieval", "nlp"),
    "rag-2": ("retrieval", "nlp"),
    "grasping": ("robotics",),
    "grasping-2": ("robotics",),
    "proteins": ("biology",),
    "segmentation": ("vision",),
    "compilers": ("systems",),
    "weather": ("climate",),
    "auctions": ("economics",),
}
IDS = {name: number for number, name in enumerate(TOPICS, start=1)}
NAMES = {number: name for name, number in IDS.items()}


def paper(name, *, number=None, authors=("Ann Author",), popularity=0.0, seen=100.0, tags=None):
    title, abstract = TOPICS[name]
    return PaperText(
        id=number or IDS[name],
        title=title,
        abstract=abstract,
        authors=tuple(authors),
        author_keys=tuple(author_key(name) for name in authors),
        tags=TAGS[name] if tags is None else tuple(tags),
        popularity=popularity,
        seen=seen,
    )


CANDIDATES = [paper(name) for name in TOPICS]


def ranked(*readers, candidates=CANDIDATES, evidence=()):
    return rank(
        readers,
        candidates,
        evidence_papers={item.id: item for item in evidence},
        tag_names=TAG_NAMES,
    )


def assert_same(ranking_a, ranking_b):
    """The same picks, sections and reasons; scores equal but for rounding."""
    assert ranking_a.keys() == ranking_b.keys()
    for reader_id, picks in ranking_a.items():
        expected = ranking_b[reader_id]
        assert [(p.paper_id, p.section, p.reason) for p in picks] == [
            (p.paper_id, p.section, p.reason) for p in expected
        ]
        assert [p.score for p in picks] == pytest.approx([p.score for p in expected])


def names(picks: list[Pick]) -> list[str]:
    return [NAMES.get(pick.paper_id, str(pick.paper_id)) for pick in picks]


# An evidence paper is a paper the reader keeps, listed before today's candidates.
SAVED_DECODING = paper("decoding", number=101, seen=1.0)
SAVED_GRASPING = paper("grasping", number=102, seen=1.0)


def test_no_readers_or_no_candidates_rank_nothing():
    assert rank([], CANDIDATES, evidence_papers={}, tag_names={}) == {}
    assert ranked(Reader(id=7, tags=frozenset({"nlp"})), candidates=[]) == {7: []}


def test_a_followed_tag_brings_its_papers_with_the_tag_as_reason():
    picks = ranked(Reader(id=1, tags=frozenset({"retrieval"})))[1]

    assert set(names(picks)[:2]) == {"rag", "rag-2"}
    for pick in picks[:2]:
        assert pick.reason == "you follow #Retrieval"
        assert pick.section == "Retrieval"  # the paper's first tag


def test_a_followed_author_brings_their_paper_named_as_written():
    candidates = [
        *CANDIDATES[1:],
        paper("decoding", authors=("Ann Author", "Jane Doe")),
    ]
    reader = Reader(id=1, authors=frozenset({author_key("Jane Doe")}))

    picks = ranked(reader, candidates=candidates)[1]

    assert names(picks) == ["decoding"]
    assert picks[0].reason == "you follow Jane Doe"
    assert picks[0].section == "NLP"


def test_a_saved_search_brings_its_matches():
    reader = Reader(id=1, searches=(("speculative decoding", frozenset({IDS["decoding-2"], 999})),))

    picks = ranked(reader)[1]

    assert names(picks) == ["decoding-2"]
    assert picks[0].reason == "matches your search ‘speculative decoding’"


def test_papers_like_the_evidence_come_first_explained_by_the_closest_one():
    reader = Reader(
        id=1,
        evidence=(
            Evidence(SAVED_DECODING.id, 1.0, "similar to ‘{title}’ in your list ‘Inference’"),
            Evidence(SAVED_GRASPING.id, 1.0, "similar to ‘{title}’ in your list ‘Robots’"),
        ),
    )

    picks = ranked(reader, evidence=[SAVED_DECODING, SAVED_GRASPING])[1]

    chosen = names(picks)
    assert set(chosen) >= {"decoding", "decoding-2", "grasping", "grasping-2"}
    # Papers on other subjects have nothing but common words in common with the evidence.
    assert not set(chosen) & {"proteins", "auctions", "compilers"}
    reasons = {NAMES[pick.paper_id]: pick.reason for pick in picks}
    assert reasons["decoding-2"] == (
        "similar to ‘Speculative decoding with a small draft model’ in your list ‘Inference’"
    )
    assert reasons["grasping-2"] == (
        "similar to ‘Learning dexterous robot grasping from tactile feedback’ in your list ‘Robots’"
    )
    assert [pick.score for pick in picks] == sorted((pick.score for pick in picks), reverse=True)


@pytest.fixture
def crowding(monkeypatch):
    """Sets how much crowding counts; the candidates' matrices are rebuilt for it."""

    def set_crowding(value):
        monkeypatch.setattr(ranking, "CROWDING", value)
        ranking._cached_candidates.cache_clear()

    yield set_crowding
    ranking._cached_candidates.cache_clear()


def test_a_paper_in_a_crowded_neighbourhood_comes_after_an_equally_close_one(crowding):
    reader = Reader(id=1, evidence=(Evidence(101, 1.0), Evidence(102, 1.0)))
    evidence = [SAVED_DECODING, SAVED_GRASPING]

    crowding(0.0)
    plain = names(ranked(reader, evidence=evidence)[1])
    crowding(0.5)
    discounted = names(ranked(reader, evidence=evidence)[1])

    # Three decoding papers crowd each other; the two grasping papers have the field to
    # themselves, and are as close to the reader's evidence.
    assert plain.index("decoding") < plain.index("grasping")
    assert discounted.index("grasping") < discounted.index("decoding")
    assert discounted.index("grasping-2") < discounted.index("decoding-3")
    assert set(discounted) == set(plain)


def test_crowding_neither_brings_papers_in_nor_keeps_them_out(crowding):
    reader = Reader(id=1, size=12, tags=frozenset({"vision"}), evidence=(Evidence(101, 1.0),))

    crowding(0.0)
    plain = ranked(reader, evidence=[SAVED_DECODING])[1]
    crowding(5.0)
    discounted = ranked(reader, evidence=[SAVED_DECODING])[1]

    assert {pick.paper_id for pick in discounted} == {pick.paper_id for pick in plain}
    assert {pick.reason for pick in discounted} == {pick.reason for pick in plain}


def test_a_list_name_with_braces_is_shown_as_written():
    reader = Reader(id=1, evidence=(Evidence(SAVED_DECODING.id, 1.0, "in ‘{title}’ of ‘{x}’"),))

    picks = ranked(reader, evidence=[SAVED_DECODING])[1]

    assert picks[0].reason == "in ‘Speculative decoding with a small draft model’ of ‘{x}’"


def test_negative_evidence_pushes_look_alikes_down():
    liked = Evidence(SAVED_DECODING.id, 1.0)
    disliked_paper = paper("decoding-3", number=103, seen=1.0)
    evidence = [SAVED_DECODING, disliked_paper]

    before = names(ranked(Reader(id=1, evidence=(liked,)), evidence=evidence)[1])
    after = names(
        ranked(
            Reader(id=1, evidence=(liked, Evidence(disliked_paper.id, -1.0))), evidence=evidence
        )[1]
    )

    assert "decoding-3" in before
    assert "decoding-3" not in after or after.index("decoding-3") > before.index("decoding-3")
    assert "decoding-2" in after


def test_excluded_and_already_kept_papers_never_come_back():
    reader = Reader(
        id=1,
        tags=frozenset({"nlp"}),
        exclude=frozenset({IDS["decoding"]}),
        evidence=(Evidence(IDS["decoding-2"], 1.0),),  # a candidate the reader has kept
    )

    picks = ranked(reader, evidence=[paper("decoding-2")])[1]

    chosen = names(picks)
    assert "decoding" not in chosen
    assert "decoding-2" not in chosen
    assert {"decoding-3", "rag"} <= set(chosen)


def test_only_papers_seen_since_the_last_digest():
    candidates = [
        paper("decoding", seen=50.0),
        paper("decoding-2", seen=150.0),
        paper("decoding-3", seen=200.0),
    ]

    picks = ranked(Reader(id=1, since=150.0, tags=frozenset({"nlp"})), candidates=candidates)[1]

    assert names(picks) == ["decoding-3"]


def test_a_reader_who_only_follows_tags_gets_their_trending_papers():
    candidates = [
        paper("decoding", popularity=2, seen=300.0),
        paper("decoding-2", popularity=9, seen=100.0),
        paper("decoding-3", popularity=2, seen=200.0),
        paper("proteins", popularity=50, seen=400.0),
    ]

    picks = ranked(Reader(id=1, size=4, tags=frozenset({"nlp"})), candidates=candidates)[1]

    # Popularity first, then the newest; the slot left explores a popular other topic.
    assert names(picks) == ["decoding-2", "decoding", "decoding-3", "proteins"]
    assert {pick.reason for pick in picks[:3]} == {"you follow #NLP"}


def test_a_reader_with_no_signal_gets_the_site_wide_trending_papers():
    candidates = [
        paper("decoding", popularity=1, seen=300.0),
        paper("weather", popularity=7, seen=100.0),
        paper("auctions", popularity=7, seen=200.0),
        paper("compilers", popularity=0, seen=400.0),
    ]

    picks = ranked(Reader(id=1, size=3), candidates=candidates)[1]

    assert names(picks) == ["auctions", "weather", "decoding"]
    assert {pick.reason for pick in picks} == {"trending on paperfeed"}


def test_no_topic_takes_more_than_its_share_while_others_qualify():
    candidates = [
        paper("decoding", popularity=9),
        paper("decoding-2", popularity=8),
        paper("decoding-3", popularity=7),
        paper("rag", popularity=6, tags=("nlp", "retrieval")),
        paper("grasping", popularity=1),
        paper("grasping-2", popularity=1),
    ]
    reader = Reader(id=1, size=5, tags=frozenset({"nlp", "robotics"}))

    picks = ranked(reader, candidates=candidates)[1]

    # ceil(5 * 0.4) = 2 NLP papers before the robotics ones, the rest after them.
    assert [pick.section for pick in picks[:4]] == ["NLP", "NLP", "Robotics", "Robotics"]
    assert len(picks) == 5


def test_a_topic_fills_the_digest_when_nothing_else_qualifies():
    candidates = [paper("decoding"), paper("decoding-2"), paper("decoding-3"), paper("rag")]

    picks = ranked(Reader(id=1, size=4, tags=frozenset({"nlp"})), candidates=candidates)[1]

    assert len(picks) == 4


def test_near_duplicates_are_shown_once():
    twin = paper("decoding", number=500, seen=100.0)
    candidates = [*CANDIDATES, twin]
    reader = Reader(id=1, evidence=(Evidence(SAVED_DECODING.id, 1.0),))

    chosen = {
        pick.paper_id
        for pick in ranked(reader, candidates=candidates, evidence=[SAVED_DECODING])[1]
    }

    assert len(chosen & {IDS["decoding"], twin.id}) == 1


def test_the_last_slot_explores_a_popular_topic_outside_the_readers_own():
    candidates = [
        *(paper(name) for name in ("decoding", "decoding-2", "decoding-3", "proteins")),
        paper("grasping", popularity=3),
        paper("grasping-2", popularity=1),
        paper("weather", popularity=0),  # not popular: nothing to explore
    ]
    reader = Reader(id=1, size=3, tags=frozenset({"nlp"}))

    picks = ranked(reader, candidates=candidates)[1]

    assert len(picks) == 3
    assert names(picks)[-1] == "grasping"
    assert picks[-1].reason == "outside your usual topics: popular in #Robotics"
    assert picks[-1].section == "Robotics"
    assert {pick.section for pick in picks[:2]} == {"NLP"}


def test_topics_of_the_evidence_are_not_explored():
    candidates = [
        paper("decoding-2"),
        paper("grasping-2", popularity=5),
        paper("auctions", popularity=1),
    ]
    reader = Reader(
        id=1, size=3, tags=frozenset({"nlp"}), evidence=(Evidence(SAVED_GRASPING.id, 1.0),)
    )

    picks = ranked(reader, candidates=candidates, evidence=[SAVED_GRASPING])[1]

    assert names(picks)[-1] == "auctions"
    assert picks[-1].reason == "outside your usual topics: popular in #Economics"


def test_small_digests_do_not_explore():
    candidates = [paper("decoding"), paper("decoding-2"), paper("grasping", popularity=5)]

    picks = ranked(Reader(id=1, size=2, tags=frozenset({"nlp"})), candidates=candidates)[1]

    assert set(names(picks)) == {"decoding", "decoding-2"}


def test_a_paper_without_tags_is_listed_under_more_new_papers():
    candidates = [paper("decoding", tags=())]
    reader = Reader(id=1, searches=(("drafts", frozenset({IDS["decoding"]})),))

    assert ranked(reader, candidates=candidates)[1][0].section == "More new papers"


def test_the_strongest_signal_explains_a_pick():
    candidates = [paper("decoding", authors=("Jane Doe",)), *CANDIDATES[1:]]
    reader = Reader(
        id=1,
        tags=frozenset({"nlp"}),
        authors=frozenset({author_key("Jane Doe")}),
        searches=(("drafts", frozenset({IDS["decoding"]})),),
    )

    picks = ranked(reader, candidates=candidates)[1]

    assert picks[0] == Pick(
        IDS["decoding"], pytest.approx(picks[0].score), "NLP", "you follow Jane Doe"
    )


def test_many_readers_in_one_call_get_what_each_would_alone():
    evidence = [SAVED_DECODING, SAVED_GRASPING, paper("rag", number=104, seen=1.0)]
    candidates = [
        dataclasses.replace(item, popularity=float(k % 4), seen=100.0 + k)
        for k, item in enumerate(CANDIDATES)
    ]
    readers = [
        Reader(id=1, tags=frozenset({"nlp"})),
        Reader(id=2),
        Reader(id=3, size=4, evidence=(Evidence(101, 1.0), Evidence(102, 2.0))),
        Reader(id=4, authors=frozenset({author_key("Ann Author")}), since=105.0),
        Reader(
            id=5, evidence=(Evidence(104, 1.0), Evidence(101, -1.0)), tags=frozenset({"vision"})
        ),
        Reader(id=6, size=0, tags=frozenset({"nlp"})),
        Reader(
            id=7,
            searches=(("rag", frozenset({IDS["rag"], IDS["rag-2"]})),),
            exclude=frozenset({IDS["rag"]}),
        ),
    ]

    together = ranked(*readers, candidates=candidates, evidence=evidence)
    alone = {
        reader.id: ranked(reader, candidates=candidates, evidence=evidence)[reader.id]
        for reader in readers
    }

    assert_same(together, alone)
    assert together[6] == []
    assert len(together[3]) <= 4


def test_readers_are_ranked_in_chunks_with_the_same_result(monkeypatch):
    readers = [
        Reader(
            id=k, tags=frozenset({"nlp"}) if k % 2 else frozenset(), evidence=(Evidence(101, 1.0),)
        )
        for k in range(30)
    ]
    whole = ranked(*readers, evidence=[SAVED_DECODING])
    monkeypatch.setattr(ranking, "CELLS_PER_CHUNK", 3 * len(CANDIDATES))

    assert_same(ranked(*readers, evidence=[SAVED_DECODING]), whole)


def test_evidence_missing_from_the_papers_given_is_ignored():
    reader = Reader(id=1, tags=frozenset({"retrieval"}), evidence=(Evidence(12345, 1.0),))

    assert set(names(ranked(reader)[1])[:2]) == {"rag", "rag-2"}


def test_calls_with_other_candidates_in_between_rank_the_same():
    reader = Reader(id=1, tags=frozenset({"nlp"}), evidence=(Evidence(101, 1.0),))
    first = ranked(reader, evidence=[SAVED_DECODING])
    ranked(reader, candidates=CANDIDATES[3:], evidence=[SAVED_DECODING])

    assert_same(ranked(reader, evidence=[SAVED_DECODING]), first)


def test_candidates_with_lists_for_tuples_are_ranked_too():
    candidates = [dataclasses.replace(item, tags=list(item.tags)) for item in CANDIDATES]

    picks = ranked(Reader(id=1, tags=frozenset({"retrieval"})), candidates=candidates)[1]

    assert set(names(picks)[:2]) == {"rag", "rag-2"}


def test_papers_without_words_are_no_trouble():
    candidates = [
        PaperText(id=1, title="", abstract="", seen=1.0),
        PaperText(id=2, title="?", abstract="!", seen=2.0),
    ]
    evidence = [PaperText(id=3, title="", abstract="")]

    result = ranked(
        Reader(id=1, evidence=(Evidence(3, 1.0),)),
        Reader(id=2),
        candidates=candidates,
        evidence=evidence,
    )

    assert result[1] == []
    assert [pick.paper_id for pick in result[2]] == [2, 1]  # the newest first
    assert [pick.reason for pick in result[2]] == ["trending on paperfeed"] * 2
