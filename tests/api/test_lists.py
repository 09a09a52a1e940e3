import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import tokens
from papers import lists
from papers.models import ListItem, Paper, ReadingList
from tests.factories import PaperFactory, UserFactory

pytestmark = pytest.mark.django_db

Visibility = ReadingList.Visibility


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(user, name='t')[1]}")
    return client


def test_a_reader_builds_a_list_end_to_end(reader, reader_api):
    papers = [PaperFactory(title=f"Paper {n}", doi=f"10.1/p{n}") for n in range(3)]

    made = reader_api.post(
        "/api/lists/",
        {"name": "RAG", "description": "to read", "papers": [papers[0].pk]},
        format="json",
    )
    assert made.status_code == 201, made.content
    data = made.json()
    assert (data["name"], data["visibility"], data["mine"], data["item_count"]) == (
        "RAG",
        "private",
        True,
        1,
    )
    url = f"/api/lists/{data['id']}/"

    assert reader_api.post(url + "items/", {"paper": papers[1].pk}).status_code == 201
    again = reader_api.post(url + "items/", {"paper": papers[1].pk})
    assert again.status_code == 200  # already there: nothing changes
    assert reader_api.post(url + "items/", {"paper": papers[2].pk}).status_code == 201
    assert Paper.objects.get(pk=papers[1].pk).save_count == 1

    changed = reader_api.patch(
        url + f"items/{papers[2].pk}/", {"note": "key result", "status": "reading", "place": 1}
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["note"], changed.json()["status"]) == ("key result", "reading")
    items = reader_api.get(url + "items/").json()["results"]
    assert [i["paper"]["id"] for i in items] == [papers[2].pk, papers[0].pk, papers[1].pk]

    order = [papers[1].pk, papers[2].pk, papers[0].pk]
    assert reader_api.post(url + "reorder/", {"papers": order}, format="json").status_code == 204
    items = reader_api.get(url + "items/?limit=2").json()
    rest = reader_api.get(items["next"]).json()["results"]
    assert [i["paper"]["id"] for i in items["results"] + rest] == order

    renamed = reader_api.patch(url, {"name": "Retrieval", "visibility": "public"}, format="json")
    assert renamed.json()["name"] == "Retrieval" and renamed.json()["visibility"] == "public"

    exported = reader_api.get(url + "export/csv/")
    assert exported["Content-Type"].startswith("text/csv")
    assert "retrieval.csv" in exported["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [row["title"] for row in rows] == ["Paper 1", "Paper 2", "Paper 0"]
    assert reader_api.get(url + "export/bib/").content.decode().count("@") == 3
    assert b"TY  -" in reader_api.get(url + "export/ris/").content

    assert reader_api.delete(url + f"items/{papers[0].pk}/").status_code == 204
    assert Paper.objects.get(pk=papers[0].pk).save_count == 0
    assert reader_api.delete(url).status_code == 204
    assert not ReadingList.objects.exists()
    assert Paper.objects.filter(save_count__gt=0).count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "RAG", "visibility": "secret"}, "visibility"),
        ({"name": "RAG", "papers": [999999]}, "papers"),
        ({"name": "Taken"}, "name"),
        ({"name": "taken "}, "name"),
    ],
)
def test_bad_lists_are_refused_with_field_messages(reader, reader_api, body, field):
    lists.create_list(owner=reader, name="Taken")
    response = reader_api.post("/api/lists/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    assert ReadingList.objects.count() == 1


def test_bad_item_changes_are_refused(reader, reader_api):
    reading_list = lists.create_list(owner=reader, name="RAG", papers=[PaperFactory()])
    url = f"/api/lists/{reading_list.pk}/"
    paper = reading_list.items.get().paper_id
    assert reader_api.post(url + "items/", {"paper": 999999}).status_code == 400
    assert reader_api.post(url + "items/", {}).status_code == 400
    for body in ({"status": "done"}, {"place": 0}, {"note": "x" * 5001}):
        assert reader_api.patch(url + f"items/{paper}/", body, format="json").status_code == 400
    assert reader_api.patch(url + "items/999999/", {"note": "x"}).status_code == 404
    for order in ([], [paper, paper], [paper, 999999]):
        refused = reader_api.post(url + "reorder/", {"papers": order}, format="json")
        assert refused.status_code == 400
        assert "exactly once" in refused.json()["error"]["fields"]["papers"][0]
    garbled = reader_api.post(url + "items/", data="{not json", content_type="application/json")
    assert garbled.status_code == 400 and garbled.json()["error"]["code"] == "parse_error"


def test_import_a_bibtex_file_reports_what_it_could_not_match(reader, reader_api):
    known = PaperFactory(title="Attention is all you need", doi="10.5555/attention")
    reading_list = lists.create_list(owner=reader, name="Classics")
    bib = (
        b"@article{a, title={Attention Is All You Need}, author={Vaswani, Ashish},"
        b" doi={10.5555/attention}, year={2017}}\n"
        b"@article{b, title={A paper we do not have}, author={Nobody, N.}, year={2020}}\n"
    )
    upload = SimpleUploadedFile("refs.bib", bib, content_type="application/x-bibtex")
    response = reader_api.post(
        f"/api/lists/{reading_list.pk}/import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["added"] == [known.pk] and report["already"] == []
    assert [entry["title"] for entry in report["unmatched"]] == ["A paper we do not have"]
    assert Paper.objects.count() == 1  # a reader's file never adds to the corpus

    garbage = SimpleUploadedFile("refs.bib", b"\x00\x01 not a bibliography")
    refused = reader_api.post(
        f"/api/lists/{reading_list.pk}/import/", {"file": garbage}, format="multipart"
    )
    assert refused.status_code == 400
    assert "file" in refused.json()["error"]["fields"]
    assert ListItem.objects.count() == 1


def test_a_new_share_link_retires_the_old_one(reader, reader_api):
    reading_list = lists.create_list(owner=reader, name="RAG", visibility=Visibility.UNLISTED)
    old = reading_list.share_token
    assert APIClient().get(f"/api/shared-lists/{old}/").status_code == 200
    new = reader_api.post(f"/api/lists/{reading_list.pk}/share-link/").json()["share_token"]
    assert new != old
    assert APIClient().get(f"/api/shared-lists/{old}/").status_code == 404
    shared = APIClient().get(f"/api/shared-lists/{new}/")
    assert shared.json()["share_token"] is None  # only the owner is shown the secret


# The permission matrix: who may read and who may write each kind of list.

READ, WRITE = "read", "write"
# visibility → who → (status reading by id, status writing by id)
EXPECTED = {
    Visibility.PRIVATE: {
        "anonymous": (404, 401),
        "owner": (200, 200),
        "other": (404, 404),
        "staff": (404, 404),
    },
    Visibility.UNLISTED: {
        "anonymous": (404, 401),
        "owner": (200, 200),
        "other": (404, 404),
        "staff": (404, 404),
    },
    Visibility.PUBLIC: {
        "anonymous": (200, 401),
        "owner": (200, 200),
        "other": (200, 403),
        "staff": (200, 403),
    },
}
BY_TOKEN = {Visibility.PRIVATE: 404, Visibility.UNLISTED: 200, Visibility.PUBLIC: 200}


@pytest.mark.parametrize("visibility", list(EXPECTED))
@pytest.mark.parametrize("who", ["anonymous", "owner", "other", "staff"])
def test_permission_matrix(visibility, who):
    owner = UserFactory()
    paper = PaperFactory()
    reading_list = lists.create_list(owner=owner, name="RAG", visibility=visibility, papers=[paper])
    user = {
        "anonymous": None,
        "owner": owner,
        "other": UserFactory(),
        "staff": UserFactory(is_staff=True, is_superuser=True),
    }[who]
    client = _client(user)
    url = f"/api/lists/{reading_list.pk}/"
    read, write = EXPECTED[visibility][who]
    other_paper = PaperFactory()

    for path in ("", "items/", "export/bib/"):
        assert client.get(url + path).status_code == read, path
    listed = {item["id"] for item in client.get("/api/lists/").json()["results"]}
    assert (reading_list.pk in listed) == (who == "owner" or visibility == Visibility.PUBLIC)
    writes = [
        client.patch(url, {"description": "mine now"}, format="json"),
        client.post(url + "items/", {"paper": other_paper.pk}),
        client.patch(url + f"items/{paper.pk}/", {"note": "x"}, format="json"),
        client.post(url + "reorder/", {"papers": [other_paper.pk, paper.pk]}, format="json"),
        client.post(url + "share-link/"),
        client.delete(url + f"items/{paper.pk}/"),
        client.delete(url),
    ]
    if write == 200:
        assert [r.status_code for r in writes] == [200, 201, 200, 204, 200, 204, 204]
    else:
        assert [r.status_code for r in writes] == [write] * len(writes)
        reading_list.refresh_from_db()
        assert reading_list.description == ""
        assert list(reading_list.items.values_list("paper_id", "note")) == [(paper.pk, "")]

    if write != 200:
        by_token = client.get(f"/api/shared-lists/{reading_list.share_token}/items/")
        assert by_token.status_code == (200 if who == "owner" else BY_TOKEN[visibility])


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_and_item_queries_do_not_grow(reader, reader_api):
    main = lists.create_list(owner=reader, name="Main", papers=[PaperFactory()])
    lists.create_list(owner=UserFactory(), name="Public 0", visibility=Visibility.PUBLIC)
    reader_api.get("/api/lists/")  # a token records its first use once
    one = _queries(reader_api, "/api/lists/?limit=100")
    items_one = _queries(reader_api, f"/api/lists/{main.pk}/items/?limit=100")
    for n in range(49):
        lists.create_list(owner=reader, name=f"Mine {n}")
        lists.add_paper(main, PaperFactory())
    assert _queries(reader_api, "/api/lists/?limit=100") == one
    assert _queries(reader_api, f"/api/lists/{main.pk}/items/?limit=100") == items_one
