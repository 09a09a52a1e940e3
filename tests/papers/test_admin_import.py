from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from papers import remote, tasks
from papers.models import ImportRun, Paper
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
URL = reverse("admin:papers_import")


@pytest.fixture
def curator_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_run_list_offers_an_import(curator_client):
    response = curator_client.get(reverse("admin:papers_importrun_changelist"))

    assert URL in response.text


def test_an_uploaded_file_starts_a_run_that_a_worker_carries_out(
    curator_client, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("d2l.bib", (FIXTURES / "bibtex" / "d2l.bib").read_bytes())

    with django_capture_on_commit_callbacks() as queued:
        response = curator_client.post(URL, {"file": upload})

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:papers_importrun_change", args=[run.pk])
    assert (run.trigger, run.params["kind"], run.started_by.is_staff) == ("admin", "upload", True)
    assert run.status == ImportRun.Status.QUEUED  # for the worker to claim
    assert len(queued) == 1  # the task is queued once the run is committed

    tasks.perform_import(run.pk)  # what the queued task does
    run.refresh_from_db()
    page = curator_client.get(response.url)
    assert page.status_code == 200
    assert run.status == ImportRun.Status.SUCCEEDED
    assert Paper.objects.count() == run.created > 400


def test_a_typed_address_starts_a_queued_run(curator_client, settings):
    settings.IMPORT_URL_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # nothing is fetched here

    response = curator_client.post(URL, {"url": "http://127.0.0.1:9/refs.bib"})

    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert (run.params["kind"], run.status) == ("url", ImportRun.Status.QUEUED)


def test_a_running_import_page_refreshes_itself(curator_client):
    run = remote.start("upload", trigger="admin", upload=b"x")

    page = curator_client.get(reverse("admin:papers_importrun_change", args=[run.pk])).text

    assert '<meta http-equiv="refresh" content="2">' in page
    run.status = ImportRun.Status.SUCCEEDED
    run.save()
    page = curator_client.get(reverse("admin:papers_importrun_change", args=[run.pk])).text
    assert 'http-equiv="refresh"' not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a file or type a web address"),
        ({"url": "http://127.0.0.1:8000/admin/"}, "a local or private address"),
        ({"url": "ftp://example.org/papers.bib"}, "only http and https addresses"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(curator_client, data, message):
    response = curator_client.post(URL, data)

    assert response.status_code == 200
    assert message in response.text
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01garbage" * 100, "binary"),
        (b"", "The submitted file is empty"),
        (b"just some words\nthat are no format\n", "unrecognised format"),
    ],
)
def test_unreadable_uploads_are_refused_before_a_run_starts(curator_client, content, message):
    response = curator_client.post(URL, {"file": SimpleUploadedFile("x.bin", content)})

    assert message in response.text
    assert not ImportRun.objects.exists()


def test_a_tampered_format_is_refused_with_a_reason(curator_client):
    upload = SimpleUploadedFile("d2l.bib", (FIXTURES / "bibtex" / "d2l.bib").read_bytes())

    response = curator_client.post(URL, {"file": upload, "format": "bogus"})

    assert response.status_code == 200
    assert "Select a valid choice. bogus is not one of the available choices." in response.text
    assert not ImportRun.objects.exists()


def test_run_pages_never_load_a_waiting_upload(curator_client):
    run = remote.start("upload", trigger="admin", queued=True, upload=b"@" * 1000)

    with CaptureQueriesContext(connection) as queries:
        listing = curator_client.get(reverse("admin:papers_importrun_changelist"))
        page = curator_client.get(reverse("admin:papers_importrun_change", args=[run.pk]))

    assert (listing.status_code, page.status_code) == (200, 200)
    assert f"#{run.pk}" in listing.text
    read = [q["sql"] for q in queries if '"papers_importrun"' in q["sql"]]
    assert read
    assert not [sql for sql in read if '"papers_importrun"."upload"' in sql]


def test_an_oversized_upload_is_refused(curator_client, settings):
    settings.IMPORT_MAX_UPLOAD = 100

    response = curator_client.post(URL, {"file": SimpleUploadedFile("x.bib", b"@" * 500)})

    assert "the limit is 100" in response.text
    assert not ImportRun.objects.exists()


def test_readers_cannot_import(client):
    client.force_login(UserFactory())

    assert client.get(URL).status_code == 302
