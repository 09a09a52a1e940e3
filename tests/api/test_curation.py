from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import tokens
from papers import tasks
from papers.models import ImportRun, Paper, PaperTag
from tests.factories import PaperTagFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(user, name='t')[1]}")
    return client


@pytest.fixture
def curator():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def curator_api(curator):
    return _client(curator)


CURATION = [
    ("get", "/api/imports/"),
    ("post", "/api/imports/"),
    ("get", "/api/paper-tags/"),
    ("post", "/api/paper-tags/{tag}/confirm/"),
    ("post", "/api/paper-tags/{tag}/reject/"),
]


@pytest.mark.parametrize(("method", "url"), CURATION)
@pytest.mark.parametrize(
    ("who", "expected"), [("anonymous", 401), ("reader", 403), ("staff without rights", 403)]
)
def test_curation_is_for_curators(method, url, who, expected):
    paper_tag = PaperTagFactory()
    client = {
        "anonymous": APIClient(),
        "reader": _client(UserFactory()),
        "staff without rights": _client(UserFactory(is_staff=True)),
    }[who]
    response = getattr(client, method)(
        url.format(tag=paper_tag.pk), {"url": "https://example.org/x.bib"}
    )
    assert response.status_code == expected
    paper_tag.refresh_from_db()
    assert paper_tag.status == PaperTag.Status.SUGGESTED
    assert not ImportRun.objects.exists()


def test_an_uploaded_file_is_imported_by_a_worker(
    curator, curator_api, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("d2l.bib", (FIXTURES / "bibtex" / "d2l.bib").read_bytes())
    with django_capture_on_commit_callbacks() as queued:
        response = curator_api.post("/api/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    run = response.json()
    assert (run["status"], run["trigger"], run["started_by"]) == ("queued", "api", curator.email)
    assert len(queued) == 1

    tasks.perform_import(run["id"])  # what the queued task does

    done = curator_api.get(f"/api/imports/{run['id']}/").json()
    assert done["status"] == "succeeded"
    assert done["created"] == Paper.objects.count() > 0
    assert curator_api.get("/api/imports/?status=succeeded").json()["results"][0]["id"] == run["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:8000/admin/"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "http://localhost/feed.xml"}, "url"),
        ({"url": "ftp://example.org/x.bib"}, "url"),
        ({"url": "https://example.org/x.bib", "format": "docx"}, "format"),
    ],
)
def test_unsafe_or_bad_imports_are_refused_before_a_run_starts(curator_api, body, field):
    response = curator_api.post("/api/imports/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not ImportRun.objects.exists()


def test_an_import_needs_a_file_or_an_address(curator_api):
    response = curator_api.post("/api/imports/", {}, format="json")
    assert response.status_code == 400
    assert "Choose a file or type a web address" in response.json()["error"]["message"]
    unreadable = SimpleUploadedFile("x.bib", b"\x00\x01\x02 nothing")
    refused = curator_api.post("/api/imports/", {"file": unreadable}, format="multipart")
    assert refused.status_code == 400 and "file" in refused.json()["error"]["fields"]
    assert not ImportRun.objects.exists()


def test_curators_review_suggested_tags(curator, curator_api):
    unsure = PaperTagFactory(confidence=0.3)
    sure = PaperTagFactory(confidence=0.9)
    PaperTagFactory(status=PaperTag.Status.CONFIRMED)

    queue = curator_api.get("/api/paper-tags/?status=suggested").json()["results"]
    assert [t["id"] for t in queue] == [unsure.pk, sure.pk]  # least sure first

    confirmed = curator_api.post(f"/api/paper-tags/{sure.pk}/confirm/").json()
    assert (confirmed["status"], confirmed["reviewed_by"]) == ("confirmed", curator.email)
    curator_api.post(f"/api/paper-tags/{unsure.pk}/reject/")
    unsure.refresh_from_db()
    assert unsure.status == PaperTag.Status.REJECTED and unsure.reviewed_by == curator
    # A rejected tag is gone from the paper everywhere the public looks.
    paper = APIClient().get(f"/api/papers/{unsure.paper_id}/").json()
    assert paper["tags"] == []
    assert curator_api.post("/api/paper-tags/999999/confirm/").status_code == 404


def test_curation_lists_keep_their_query_count(curator, curator_api):
    def add(count):
        for _ in range(count):
            PaperTagFactory(reviewed_by=curator)
            ImportRun.objects.create(source="bibtex", started_by=curator)

    add(1)
    curator_api.get("/api/imports/")  # a token records its first use once
    counts = []
    for _ in range(2):
        row = []
        for url in ("/api/imports/?limit=100", "/api/paper-tags/?limit=100"):
            with CaptureQueriesContext(connection) as captured:
                assert curator_api.get(url).status_code == 200
            row.append(len(captured))
        counts.append(row)
        add(49)
    assert counts[0] == counts[1]
