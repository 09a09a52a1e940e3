import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SavedSearch
from accounts.preferences import preferences_of
from digest.models import Digest, Feedback
from tests.factories import DigestFactory, DigestItemFactory, PaperFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

ME_URLS = [
    "/api/me/",
    "/api/me/follows/",
    "/api/me/searches/",
    "/api/me/digests/",
    "/api/me/feedback/",
]


@pytest.mark.parametrize("url", ME_URLS)
def test_me_is_for_readers_only(api, url):
    response = api.get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_preferences_read_and_change(reader, reader_api):
    me = reader_api.get("/api/me/").json()
    assert me["email"] == reader.email
    assert me["preferences"]["digest_frequency"] == "weekly"

    changed = reader_api.patch(
        "/api/me/",
        {"preferences": {"digest_frequency": "daily", "digest_hour": 7, "time_zone": "Asia/Tokyo"}},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    preferences = preferences_of(reader)
    assert (preferences.digest_frequency, preferences.digest_hour, preferences.time_zone) == (
        "daily",
        7,
        "Asia/Tokyo",
    )
    next_at = preferences.next_digest_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert next_at.hour == 7
    assert changed.json()["preferences"]["next_digest_at"] is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_size": 0}, "digest_size"),
        ({"digest_frequency": "hourly"}, "digest_frequency"),
        ({"digest_weekday": 7}, "digest_weekday"),
    ],
)
def test_bad_preferences_change_nothing(reader, reader_api, change, field):
    before = preferences_of(reader).digest_frequency
    response = reader_api.patch("/api/me/", {"preferences": change}, format="json")
    assert response.status_code == 400
    [nested] = response.json()["error"]["fields"]["preferences"]
    assert list(nested) == [field]
    assert preferences_of(reader).digest_frequency == before


def test_follows_and_saved_searches(reader, reader_api):
    tag = TagFactory(name="Retrieval")
    reader_api.post("/api/tags/retrieval/follow/")
    follows = reader_api.get("/api/me/follows/").json()
    assert [t["slug"] for t in follows["tags"]] == ["retrieval"] and follows["authors"] == []
    assert follows["tags"][0]["following"] is True

    made = reader_api.post(
        "/api/me/searches/", {"query": "speculative decoding", "tag": tag.slug}, format="json"
    )
    assert made.status_code == 201, made.content
    assert made.json()["name"] == "speculative decoding"
    assert "q=speculative+decoding" in made.json()["html_url"]
    again = reader_api.post(
        "/api/me/searches/", {"query": "speculative  decoding", "tag": tag.slug}, format="json"
    )
    assert again.json()["id"] == made.json()["id"]  # the same search is saved once

    taken = reader_api.post(
        "/api/me/searches/", {"query": "other", "name": "Speculative Decoding"}, format="json"
    )
    assert taken.status_code == 400 and "name" in taken.json()["error"]["fields"]
    empty = reader_api.post("/api/me/searches/", {"query": "  "}, format="json")
    assert empty.status_code == 400
    assert reader_api.post("/api/me/searches/", {"tag": "nope"}, format="json").status_code == 400
    for tag in ("", 5, True):
        odd = reader_api.post("/api/me/searches/", {"query": "q", "tag": tag}, format="json")
        assert odd.status_code == 400, tag

    assert reader_api.delete(f"/api/me/searches/{made.json()['id']}/").status_code == 204
    assert not SavedSearch.objects.exists()


def test_another_reader_s_searches_and_digests_are_not_found(reader, reader_api):
    other = UserFactory()
    search = SavedSearch.objects.create(user=other, name="x", query="x")
    digest = DigestFactory(user=other, status=Digest.Status.SENT)
    for url in (f"/api/me/searches/{search.pk}/", f"/api/me/digests/{digest.pk}/"):
        assert reader_api.get(url).status_code == 404
    assert reader_api.delete(f"/api/me/searches/{search.pk}/").status_code == 404
    assert SavedSearch.objects.filter(pk=search.pk).exists()


def test_digests_with_items_and_reasons(reader, reader_api):
    sent = DigestFactory(user=reader, status=Digest.Status.SENT, sent_at=timezone.now())
    DigestFactory(user=reader, status=Digest.Status.PENDING)  # not yet a past digest
    for position, reason in enumerate(["you follow #retrieval", "matches your search ‘rag’"], 1):
        DigestItemFactory(digest=sent, position=position, reason=reason)

    listed = reader_api.get("/api/me/digests/").json()["results"]
    assert [(d["id"], d["status"], d["item_count"]) for d in listed] == [(sent.pk, "sent", 2)]
    detail = reader_api.get(f"/api/me/digests/{sent.pk}/").json()
    assert [i["reason"] for i in detail["items"]] == [
        "you follow #retrieval",
        "matches your search ‘rag’",
    ]
    assert detail["items"][0]["paper"]["title"]


def test_feedback_more_less_and_take_back(reader, reader_api):
    paper = PaperFactory()
    made = reader_api.post("/api/me/feedback/", {"paper": paper.pk, "value": "more"})
    assert made.status_code == 201 and made.json()["value"] == "more"
    reader_api.post("/api/me/feedback/", {"paper": paper.pk, "value": "less"})
    assert Feedback.objects.get().value == Feedback.Value.LESS  # the later one replaces
    assert [s["value"] for s in reader_api.get("/api/me/feedback/").json()["results"]] == ["less"]
    assert (
        reader_api.post("/api/me/feedback/", {"paper": 999999, "value": "more"}).status_code == 400
    )
    assert (
        reader_api.post("/api/me/feedback/", {"paper": paper.pk, "value": "meh"}).status_code == 400
    )
    assert reader_api.delete(f"/api/me/feedback/{paper.pk}/").status_code == 204
    assert reader_api.delete(f"/api/me/feedback/{paper.pk}/").status_code == 404
    assert not Feedback.objects.exists()


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_me_lists_keep_their_query_count(reader, reader_api):
    def add(count):
        for _ in range(count):
            digest = DigestFactory(user=reader, status=Digest.Status.SENT)
            DigestItemFactory(digest=digest)
            paper = PaperFactory()
            Feedback.objects.create(user=reader, paper=paper, value=1)
            SavedSearch.objects.create(user=reader, name=f"s{paper.pk}", query="x")

    add(1)
    reader_api.get("/api/me/")  # a token records its first use once
    first = DigestFactory(user=reader, status=Digest.Status.SENT)
    DigestItemFactory(digest=first)
    urls = [
        "/api/me/digests/?limit=100",
        "/api/me/feedback/?limit=100",
        "/api/me/searches/?limit=100",
    ]
    one = [_queries(reader_api, url) for url in urls]
    detail = _queries(reader_api, f"/api/me/digests/{first.pk}/")
    add(49)
    for _ in range(49):
        DigestItemFactory(digest=first)
    assert [_queries(reader_api, url) for url in urls] == one
    assert _queries(reader_api, f"/api/me/digests/{first.pk}/") == detail
