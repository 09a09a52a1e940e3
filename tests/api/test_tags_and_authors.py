import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.preferences import preferences_of
from papers.identity import author_key
from papers.models import Author, Tag
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db


def _author(name):
    return Author.objects.create(name=name, name_key=author_key(name))


def test_tags_list_by_name_with_kind_filter(api):
    TagFactory(name="Retrieval")
    TagFactory(name="Agents")
    TagFactory(
        name="Computation and Language", slug="cs-cl", kind=Tag.Kind.CATEGORY, category="cs.CL"
    )

    names = [t["name"] for t in api.get("/api/tags/").json()["results"]]
    assert names == ["Agents", "Computation and Language", "Retrieval"]
    [category] = api.get("/api/tags/?kind=category").json()["results"]
    assert category["category"] == "cs.CL"
    assert category["html_url"] == "http://testserver/tags/cs-cl/"
    assert api.get("/api/tags/?kind=nonsense").status_code == 400


def test_tag_detail_and_follow(api, reader, reader_api):
    tag = TagFactory(name="Retrieval")
    assert api.get("/api/tags/retrieval/").json()["following"] is False
    assert api.post("/api/tags/retrieval/follow/").status_code == 401

    assert reader_api.post("/api/tags/retrieval/follow/").json() == {"following": True}
    assert reader_api.post("/api/tags/retrieval/follow/").json() == {"following": True}
    assert list(preferences_of(reader).followed_tags.all()) == [tag]
    assert reader_api.get("/api/tags/retrieval/").json()["following"] is True
    assert reader_api.get("/api/tags/").json()["results"][0]["following"] is True

    assert reader_api.delete("/api/tags/retrieval/follow/").json() == {"following": False}
    assert not preferences_of(reader).followed_tags.exists()
    assert reader_api.post("/api/tags/no-such-tag/follow/").status_code == 404


def test_authors_by_name_words_and_follow(api, reader, reader_api):
    hinton = _author("Geoffrey E. Hinton")
    _author("Hintonville Smith")
    found = api.get("/api/authors/?name=hinton").json()["results"]
    assert [a["id"] for a in found] == [hinton.pk]
    assert found[0]["html_url"] == f"http://testserver/authors/{hinton.pk}/"

    assert reader_api.post(f"/api/authors/{hinton.pk}/follow/").json() == {"following": True}
    assert list(preferences_of(reader).followed_authors.all()) == [hinton]
    assert reader_api.get(f"/api/authors/{hinton.pk}/").json()["following"] is True
    assert reader_api.delete(f"/api/authors/{hinton.pk}/follow/").json() == {"following": False}


def test_tags_and_authors_page_with_cursors(api):
    for n in range(7):
        TagFactory(name=f"Topic {n:02d}")
        _author(f"Person {n}")
    for resource in ("tags", "authors"):
        url, seen = f"/api/{resource}/?limit=3", []
        while url:
            page = api.get(url).json()
            seen += page["results"]
            url = page["next"]
        assert len(seen) == 7
        assert len({str(item) for item in seen}) == 7


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("resource", ["tags", "authors"])
def test_list_queries_do_not_grow(reader, reader_api, resource):
    def add(count, start):
        for n in range(start, start + count):
            tag, author = TagFactory(name=f"Topic {n}"), _author(f"Person {n}")
            preferences_of(reader).followed_tags.add(tag)
            preferences_of(reader).followed_authors.add(author)

    add(1, 0)
    reader_api.get(f"/api/{resource}/")  # a token records its first use once
    one = _queries(reader_api, f"/api/{resource}/?limit=100")
    add(49, 1)
    assert _queries(reader_api, f"/api/{resource}/?limit=100") == one
