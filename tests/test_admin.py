import pytest
from django.contrib import admin
from django.urls import reverse

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
