import pytest
from hypothesis import given
from hypothesis import strategies as st

from papers.tagging.rules import Match, PaperText, Rule, RuleError, compile_rule

PAPER = PaperText(
    title="Retrieval-Augmented Generation for Large Language Models: A Survey",
    abstract=(
        "Large language models (LLMs) hallucinate. We review RAG pipelines that ground "
        "generation in retrieved passages, and benchmarks such as KILT."
    ),
    authors=("Yunfan Gao", "Haofen Wang"),
)


def match(algorithm, pattern, **options):
    return compile_rule(Rule("tag", algorithm, pattern, **options))(PAPER)


def test_any_word_returns_the_words_found():
    assert match("any", "diffusion hallucinate speech") == Match("abstract", ("hallucinate",))


def test_words_match_whole_words_only_ignoring_case_and_punctuation():
    assert match("any", "retrieval") == Match("title", ("retrieval",))
    assert match("any", "retriev") is None  # not a prefix match
    assert match("any", "RETRIEVAL-augmented") == Match("title", ("retrieval augmented",))


def test_all_words_must_be_there():
    assert match("all", "survey retrieval") == Match("title", ("survey", "retrieval"))
    assert match("all", "survey diffusion") is None


def test_all_words_may_be_spread_over_fields():
    found = match("all", "survey passages")
    assert found == Match("title+abstract", ("survey", "passages"))


def test_quoted_phrases_count_as_one_term():
    assert match("any", '"language models" diffusion') == Match("title", ("language models",))
    assert match("any", '"models language"') is None


def test_exact_phrase():
    assert match("phrase", "large language models") == Match("title", ("large language models",))
    assert match("phrase", "language large models") is None


def test_case_sensitive_rules_keep_case():
    assert match("any", "RAG", case_sensitive=True) == Match("abstract", ("RAG",))
    assert match("any", "rag", case_sensitive=True) is None
    assert match("any", "rag") == Match("abstract", ("rag",))


def test_regex_returns_the_spans_it_matched():
    assert match("regex", r"\bLLMs?\b") == Match("abstract", ("LLMs",))
    assert match("regex", r"KIL[T]", fields=("title",)) is None


def test_fuzzy_tolerates_small_differences():
    found = match("fuzzy", "retreival augmented generaton")
    assert found is not None and found.field == "title"
    assert match("fuzzy", "protein folding") is None


def test_fields_limit_where_a_rule_looks():
    assert match("any", "gao", fields=("title", "abstract")) is None
    assert match("any", "gao", fields=("authors",)) == Match("authors", ("gao",))


def test_none_never_matches():
    assert match("none", "retrieval") is None


@pytest.mark.parametrize(
    ("algorithm", "pattern", "fields", "message"),
    [
        ("regex", "(unclosed", ("title",), "not a valid regular expression"),
        ("regex", "a*", ("title",), "matches empty text"),
        ("any", "   ", ("title",), "the pattern is empty"),
        ("any", "-- ...", ("title",), "no letters or digits"),
        ("magic", "x", ("title",), "unknown algorithm"),
        ("any", "x", ("body",), "fields must be some of"),
        ("any", "x", (), "fields must be some of"),
    ],
)
def test_unusable_rules_are_refused_with_a_reason(algorithm, pattern, fields, message):
    with pytest.raises(RuleError, match=message):
        compile_rule(Rule("tag", algorithm, pattern, fields=fields))


def test_a_catastrophic_regex_gives_up_instead_of_hanging():
    evil = compile_rule(Rule("tag", "regex", r"(a+)+$", fields=("abstract",)))
    text = PaperText(abstract="a" * 5000 + "!")

    # Without the time limit this search would not end for ages (the test would hang).
    assert evil(text) is None


@given(st.text(max_size=200), st.sampled_from(["any", "all", "phrase", "fuzzy"]))
def test_any_pattern_either_compiles_and_matches_quietly_or_is_refused(pattern, algorithm):
    try:
        matcher = compile_rule(Rule("tag", algorithm, pattern))
    except RuleError:
        return
    result = matcher(PAPER)
    assert result is None or (result.terms and all(isinstance(t, str) for t in result.terms))
