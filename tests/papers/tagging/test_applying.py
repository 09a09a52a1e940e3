from pathlib import Path

import pytest
from django.core.management import call_command

from papers import importing
from papers.models import Paper, PaperTag, Tag, TaggingRun, TagRule
from papers.sources import PaperRecord, listing
from papers.tagging import applying, starter

pytestmark = pytest.mark.django_db

DEMO = (
    Path(__file__).resolve().parents[3]
    / "papers"
    / "demo"
    / "hf-papers-listing-language-models.txt"
)


def paper(title, abstract="", categories=()):
    return Paper.objects.create(
        title=title, title_key=title.lower(), abstract=abstract, categories=list(categories)
    )


def tags_of(paper):
    return {pt.tag.slug: (pt.source, pt.reason) for pt in paper.paper_tags.select_related("tag")}


def test_starter_taxonomy_loads_once():
    assert applying.load_starter_taxonomy() == len(starter.TOPICS) >= 30
    assert applying.load_starter_taxonomy() == 0
    assert TagRule.objects.count() >= len(starter.TOPICS)
    assert (
        Tag.objects.get(slug="retrieval-augmented-generation")
        .rules.filter(case_sensitive=True, pattern="RAG")
        .exists()
    )


def test_arxiv_categories_become_category_tags_with_their_names():
    p = paper("Anything", categories=["cs.CL", "cs.LG", "xx.YY"])

    applying.tag_papers([p.pk])

    assert tags_of(p) == {
        "cs-cl": ("category", "arXiv lists it under cs.CL (primary category)"),
        "cs-lg": ("category", "arXiv lists it under cs.LG (category)"),
        "xx-yy": ("category", "arXiv lists it under xx.YY (category)"),
    }
    assert Tag.objects.get(category="cs.CL").name == "Computation and Language"
    assert Tag.objects.get(category="xx.YY").kind == Tag.Kind.CATEGORY


def test_a_rule_tags_with_what_it_matched_and_untags_when_it_stops_matching():
    tag = Tag.objects.create(name="Speech", slug="speech")
    rule = TagRule.objects.create(tag=tag, algorithm="any", pattern='speech "spoken language"')
    p = paper("Spoken language understanding", "We model speech.")

    applying.tag_papers([p.pk])
    assert tags_of(p) == {"speech": ("rule", "matched “spoken language” in the title")}

    rule.pattern = "audio"
    rule.save()
    counts = applying.tag_papers([p.pk])
    assert tags_of(p) == {}
    assert (counts.added, counts.removed) == (0, 1)


def test_curators_have_the_last_word():
    speech = Tag.objects.create(name="Speech", slug="speech")
    agents = Tag.objects.create(name="Agents", slug="agents")
    vision = Tag.objects.create(name="Vision", slug="vision")
    TagRule.objects.create(tag=speech, pattern="speech")
    TagRule.objects.create(tag=agents, pattern="agents")
    p = paper("Speech agents", "")
    applying.tag_papers([p.pk])
    PaperTag.objects.filter(paper=p, tag=speech).update(status=PaperTag.Status.REJECTED)
    PaperTag.objects.filter(paper=p, tag=agents).update(status=PaperTag.Status.CONFIRMED)
    PaperTag.objects.create(
        paper=p, tag=vision, source=PaperTag.Source.CURATOR, status=PaperTag.Status.CONFIRMED
    )
    TagRule.objects.filter(tag=agents).update(pattern="nothing-matches-this")

    applying.tag_papers([p.pk])

    statuses = dict(p.paper_tags.values_list("tag__slug", "status"))
    assert statuses == {"speech": "rejected", "agents": "confirmed", "vision": "confirmed"}
    shown = Paper.objects.filter(pk=p.pk).for_cards()[0].paper_tags.all()
    assert {paper_tag.tag.slug for paper_tag in shown} == {"agents", "vision"}
    assert not Paper.objects.tagged(speech).exists()  # a rejected tag is not shown


def test_disabled_and_broken_rules_are_skipped():
    tag = Tag.objects.create(name="Speech", slug="speech")
    TagRule.objects.create(tag=tag, pattern="speech", enabled=False)
    TagRule.objects.create(tag=tag, algorithm="regex", pattern="(unclosed")
    p = paper("Speech", "")

    applying.tag_papers([p.pk])

    assert tags_of(p) == {}


def test_imported_demo_papers_arrive_tagged():
    applying.load_starter_taxonomy()

    importing.import_and_process(
        listing.parse(DEMO.read_bytes()), run=importing.start_run(source="t")
    )

    tagged = Paper.objects.filter(paper_tags__isnull=False).distinct().count()
    assert tagged >= 250  # of 294: these are language-model papers
    llm = Tag.objects.get(slug="large-language-models")
    assert Paper.objects.tagged(llm).count() > 100
    reason = PaperTag.objects.filter(tag=llm).first().reason
    assert reason.startswith("matched “")


def test_retag_records_its_progress(capsys):
    applying.load_starter_taxonomy()
    importing.import_records(
        [PaperRecord(source="t", position=str(n), title=f"Agents number {n}") for n in range(5)],
        run=importing.start_run(source="t"),
    )

    call_command("retag")

    run = TaggingRun.objects.get()
    assert (run.status, run.total, run.done, run.added) == ("succeeded", 5, 5, 5)
    assert "tagged 5 papers: 5 tags added, 0 removed" in capsys.readouterr().out
