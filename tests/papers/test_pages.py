import pytest
from django.urls import reverse

from tests.factories import PaperFactory, PaperTagFactory, TagFactory

pytestmark = pytest.mark.django_db


def papers_with_tags(count):
    tags = [TagFactory(name="Retrieval"), TagFactory(name="Agents")]
    papers = PaperFactory.create_batch(count)
    for paper in papers:
        for tag in tags:
            PaperTagFactory(paper=paper, tag=tag)
    return papers, tags


def test_home_lists_the_latest_papers(client):
    papers, _ = papers_with_tags(3)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    for paper in papers:
        assert paper.title in response.text
    assert 'href="/tags/retrieval/"' in response.text


def test_home_is_paginated(client, settings):
    settings.PAPERS_PER_PAGE = 2
    PaperFactory.create_batch(5)

    response = client.get(reverse("home"), {"page": 3})

    assert response.context["page"].number == 3
    assert len(response.context["page"]) == 1
    assert "Page 3 of 3" in response.text
    assert client.get(reverse("home"), {"page": "nonsense"}).status_code == 200


def test_home_without_papers_says_what_to_do(client):
    response = client.get(reverse("home"))

    assert "No papers yet" in response.text
    assert "import_papers" in response.text


@pytest.mark.parametrize("count", [1, 50])
def test_home_query_count_does_not_grow_with_papers(
    client, settings, count, django_assert_num_queries
):
    settings.PAPERS_PER_PAGE = 50
    papers_with_tags(count)

    # newest day, its neighbours, count, page of papers, their tags
    with django_assert_num_queries(5):
        response = client.get(reverse("home"))
    assert len(response.context["page"]) == count


@pytest.mark.parametrize("count", [1, 50])
def test_tag_page_query_count_does_not_grow_with_papers(
    client, settings, count, django_assert_num_queries
):
    settings.PAPERS_PER_PAGE = 50
    _, tags = papers_with_tags(count)

    # tag, newest day, weekly chart, count, page of papers, their tags
    with django_assert_num_queries(6):
        response = client.get(tags[0].get_absolute_url())
    assert len(response.context["page"]) == count


def test_paper_page_shows_the_paper_and_its_tags(client):
    paper_tag = PaperTagFactory(
        paper__arxiv_id="2401.00001",
        paper__arxiv_version=2,
        paper__code_url="https://github.com/a/b",
    )

    response = client.get(paper_tag.paper.get_absolute_url())

    assert response.status_code == 200
    assert paper_tag.paper.title in response.text
    assert "2401.00001v2" in response.text
    assert 'href="https://github.com/a/b"' in response.text
    assert paper_tag.reason in response.text


def test_unknown_paper_and_tag_are_404(client):
    assert client.get(reverse("paper", args=[987654])).status_code == 404
    assert client.get(reverse("tag", args=["no-such-tag"])).status_code == 404


def test_imported_text_is_escaped(client):
    paper = PaperFactory(
        title='<script>alert("title")</script>',
        abstract='<img src=x onerror="alert(1)">',
        author_names=["<b>Mallory</b>"],
    )

    home = client.get(reverse("home")).text
    page = client.get(paper.get_absolute_url()).text

    for html in (home, page):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>Mallory</b>" not in html
        assert "&lt;script&gt;" in html


def test_an_updated_paper_says_so_and_lists_its_versions(client):
    from datetime import UTC, datetime

    from papers.models import PaperVersion

    paper = PaperFactory(
        arxiv_id="2401.00001", arxiv_version=2, updated_at=datetime(2024, 3, 4, tzinfo=UTC)
    )
    PaperVersion.objects.create(
        paper=paper, number=1, submitted_at=datetime(2024, 1, 2, tzinfo=UTC)
    )
    PaperVersion.objects.create(
        paper=paper,
        number=2,
        submitted_at=datetime(2024, 3, 4, tzinfo=UTC),
        comment="fixed typos",
        title="A better title",
    )

    html = client.get(paper.get_absolute_url()).text

    assert "Updated: this is version 2, of 4 March 2024" in html
    assert "fixed typos" in html
    assert "Title changed to “A better title”" in html
