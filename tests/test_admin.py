import pytest
from django.contrib import admin
from django.urls import reverse

from papers.models import Paper
from tests.factories import PaperFactory, PaperTagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_page_opens(staff_client, model):
    PaperTagFactory()
    opts = model._meta

    changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    searched = staff_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), {"q": "sparse"}
    )
    assert searched.status_code == 200


@pytest.mark.parametrize("count", [1, 50])
def test_paper_changelist_query_count_does_not_grow(staff_client, count, django_assert_num_queries):
    PaperFactory.create_batch(count)
    url = reverse("admin:papers_paper_changelist")

    # session, user, papers (no full count: show_full_result_count is off), filters
    with django_assert_num_queries(6):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == count


@pytest.mark.parametrize("count", [1, 50])
def test_papertag_changelist_query_count_does_not_grow(
    staff_client, count, django_assert_num_queries
):
    PaperTagFactory.create_batch(count)
    url = reverse("admin:papers_papertag_changelist")

    # session, user, count, rows, the tag filter's choices, the total count
    with django_assert_num_queries(6):
        response = staff_client.get(url)
    assert response.status_code == 200


def test_paper_change_page_opens(staff_client):
    paper = PaperTagFactory().paper

    response = staff_client.get(reverse("admin:papers_paper_change", args=[paper.pk]))

    assert response.status_code == 200
    assert paper.title in response.text


def edit_paper(client, paper, **changes):
    """Post the paper's admin form as shown, with `changes` typed in."""
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    for inline in ("paper_tags", "versions", "title_aliases"):
        data.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
    return client.post(url, {**data, **changes})


def test_a_curators_correction_is_normalised_searchable_and_kept(staff_client):
    from papers import importing
    from papers.sources import PaperRecord

    record = PaperRecord(
        source="hf-daily",
        position="1",
        title="Lamguage modles",
        authors=("Ada Lovelace",),
        upvotes=3,
    )
    importing.import_and_process([record], run=importing.start_run(source="t"))
    paper = Paper.objects.get()

    response = edit_paper(
        staff_client,
        paper,
        title="Language models",
        arxiv_id="arXiv:2401.00001v2",
        doi="https://doi.org/10.1000/ABC",
        author_names="Ada Lovelace,Grace Hopper",
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    paper.refresh_from_db()
    assert (paper.title_key, paper.arxiv_id, paper.doi) == (
        "language models",
        "2401.00001",
        "10.1000/abc",
    )
    assert set(paper.curated_fields) >= {"title", "author_names"}
    assert list(paper.authorships.values_list("author__name", flat=True)) == [
        "Ada Lovelace",
        "Grace Hopper",
    ]
    assert Paper.objects.filter(search_vector__isnull=False).count() == 1
    importing.import_and_process([record], run=importing.start_run(source="t"))  # unchanged
    importing.import_and_process(
        [PaperRecord(source="hf-daily", position="1", title="Lamguage modles", upvotes=9)],
        run=importing.start_run(source="t"),
    )
    paper.refresh_from_db()
    assert (paper.title, paper.hf_upvotes) == ("Language models", 9)


def test_a_bad_identifier_is_refused_in_the_admin(staff_client):
    response = edit_paper(staff_client, PaperFactory(), arxiv_id="not an id", doi="nope")

    assert response.status_code == 200
    assert "Not an arXiv identifier" in response.text
    assert "Not a DOI" in response.text
