"""Anonymous clients are served kept answers; readers never are."""

import pytest
from rest_framework.test import APIClient

from papers import results, search
from papers.models import Paper
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db


def retitle(paper, title):
    Paper.objects.filter(pk=paper.pk).update(title=title)


@pytest.mark.parametrize("address", ["/api/papers/", "/api/papers/{pk}/"])
def test_an_anonymous_answer_is_kept_until_the_corpus_changes(
    api, reader_api, address, django_assert_num_queries
):
    paper = PaperFactory(title="Before")
    url = address.format(pk=paper.pk)

    def title(client):
        data = client.get(url).json()
        return (data["results"][0] if "results" in data else data)["title"]

    assert title(api) == "Before"
    retitle(paper, "After")
    with django_assert_num_queries(0):
        assert title(api) == "Before"
    # A reader's answer shows their votes: never a kept one.
    assert title(reader_api) == "After"

    results.corpus_changed()
    assert title(api) == "After"


def test_kept_answers_name_the_host_they_were_asked_of(api, settings):
    settings.ALLOWED_HOSTS = ["testserver", "testserver.example"]
    paper = PaperFactory()
    api.get("/api/papers/")
    other = APIClient(SERVER_NAME="testserver.example")
    url = other.get("/api/papers/").json()["results"][0]["url"]
    assert url == f"http://testserver.example/api/papers/{paper.pk}/"


def test_every_filter_and_page_is_an_answer_of_its_own(api):
    old, new = PaperFactory(title="Old kernels"), PaperFactory(title="New kernels")
    search.index_papers()
    first = api.get("/api/papers/", {"limit": 1}).json()
    second = api.get(first["next"])
    assert {first["results"][0]["id"], second.json()["results"][0]["id"]} == {old.pk, new.pk}
    assert api.get("/api/papers/", {"search": "old"}).json()["results"][0]["id"] == old.pk


def test_rate_limits_hold_for_kept_answers(api, settings):
    settings.API_RATE_ANONYMOUS = "2/minute"
    PaperFactory()
    assert [api.get("/api/papers/").status_code for _ in range(3)] == [200, 200, 429]


def test_refusals_are_not_kept(api):
    paper = PaperFactory()
    assert api.get("/api/papers/", {"since": "yesterday"}).status_code == 400
    assert api.get(f"/api/papers/{paper.pk + 1}/").status_code == 404
    PaperFactory(pk=paper.pk + 1)
    assert api.get(f"/api/papers/{paper.pk + 1}/").status_code == 200
