"""Curators watch digests in the admin: status, items, errors, totals, a test digest."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from lxml import html

from accounts.preferences import preferences_of
from digest.feedback import set_feedback
from digest.models import Digest, Feedback
from tests.factories import DigestFactory, DigestItemFactory, PaperFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every digest factory makes a reader; the real hasher's slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def curator():
    return UserFactory(email="curator@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, curator):
    client.force_login(curator)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("count", [1, 50])
def test_digest_changelist_query_count_does_not_grow(
    staff_client, count, django_assert_num_queries
):
    for _ in range(count):
        digest = DigestFactory(status=Digest.Status.SENT, attempts=1)
        DigestItemFactory.create_batch(2, digest=digest)

    # session, user, count, one page of digests with readers and item counts
    with django_assert_num_queries(4):
        response = staff_client.get(reverse("admin:digest_digest_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == count
    rows = html.fromstring(response.content).xpath('//table[@id="result_list"]/tbody/tr')
    assert len(rows) == count
    assert rows[0].xpath('.//td[@class="field-item_count"]')[0].text_content() == "2"


def test_the_changelist_shows_status_attempts_and_errors_and_finds_a_reader(staff_client):
    failed = DigestFactory(
        user=UserFactory(email="bounced@example.org"),
        status=Digest.Status.FAILED,
        attempts=5,
        error="550 5.1.1 mailbox unavailable " + "x" * 200,
    )
    DigestFactory(user=UserFactory(email="fine@example.org"), status=Digest.Status.SENT)
    url = reverse("admin:digest_digest_changelist")

    found = staff_client.get(url, {"q": "bounced@"})
    assert [d.pk for d in found.context["cl"].result_list] == [failed.pk]
    text = found.text
    assert "550 5.1.1 mailbox unavailable" in text
    assert "x" * 100 not in text  # long errors are cut short in the list
    filtered = staff_client.get(url, {"status__exact": "sent"})
    assert [d.user.email for d in filtered.context["cl"].result_list] == ["fine@example.org"]
    past_week = staff_client.get(url, {"scheduled_for__gte": timezone.now() - dt.timedelta(7)})
    assert past_week.context["cl"].result_count == 2


def test_a_digest_shows_its_items_read_only(staff_client, django_assert_max_num_queries):
    digest = DigestFactory(status=Digest.Status.SENT, error="")
    DigestItemFactory(digest=digest, paper=PaperFactory(title="Sparse experts"), reason="why not")
    DigestItemFactory.create_batch(20, digest=digest)
    url = reverse("admin:digest_digest_change", args=[digest.pk])

    with django_assert_max_num_queries(12):
        response = staff_client.get(url)

    assert response.status_code == 200
    assert "Sparse experts" in response.text
    assert "why not" in response.text
    assert "<textarea" not in response.text  # a record, not a form
    assert staff_client.get(reverse("admin:digest_digest_add")).status_code == 403


def test_totals_per_day_count_each_status_in_one_query(staff_client, django_assert_num_queries):
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - dt.timedelta(days=1)
    for status in ["sent", "sent", "skipped", "failed"]:
        DigestFactory(scheduled_for=today, status=status)
    DigestFactory(scheduled_for=yesterday, status="sent")
    DigestFactory(scheduled_for=today - dt.timedelta(days=40), status="sent")  # too old

    # session, user, the totals
    with django_assert_num_queries(3):
        response = staff_client.get(reverse("admin:digest_totals"))

    assert response.status_code == 200
    rows = [
        [cell.text_content().strip() for cell in row.xpath("./th|./td")]
        for row in html.fromstring(response.content).xpath("//tbody/tr")
    ]
    statuses = [label for _, label in Digest.Status.choices]
    by_status = [dict(zip(["day", "all", *statuses], row, strict=True)) for row in rows]
    assert [row["all"] for row in by_status] == ["4", "1"]
    assert by_status[0]["Sent"] == "2"
    assert by_status[0]["Skipped (nothing new)"] == "1"
    assert by_status[0]["Failed"] == "1"
    assert by_status[0]["Pending"] == "0"

    # Each day links to that day's digests.
    link = html.fromstring(response.content).xpath("//tbody/tr[1]/th/a/@href")[0]
    assert staff_client.get(link).context["cl"].result_count == 4


def test_the_changelist_links_to_totals_and_the_test_digest(staff_client):
    text = staff_client.get(reverse("admin:digest_digest_changelist")).text

    assert reverse("admin:digest_totals") in text
    assert reverse("admin:digest_send_test") in text
    assert "Send a test digest to me" in text


def test_send_a_test_digest_to_me(staff_client, curator, smtp_server):
    preferences = preferences_of(curator)
    preferences.digest_frequency = "daily"
    preferences.save()
    PaperFactory(title="A paper everybody reads", vote_count=30)

    response = staff_client.post(reverse("admin:digest_send_test"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:digest_digest_changelist")
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "curator@example.org"
    assert "A paper everybody reads" in mail.get_body(preferencelist=("plain",)).get_content()
    assert messages_of(response) == [
        "A test digest of 1 paper is on its way to curator@example.org."
    ]
    assert not Digest.objects.exists()  # a test records nothing


def test_a_test_digest_with_nothing_new_says_so(staff_client, smtp_server):
    response = staff_client.post(reverse("admin:digest_send_test"))

    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("Nothing to send")
    assert smtp_server.messages == []


def test_the_test_digest_is_sent_by_post_only_and_by_staff_only(client, staff_client):
    url = reverse("admin:digest_send_test")

    assert staff_client.get(url).status_code == 405
    client.force_login(UserFactory())
    assert client.post(url)["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("count", [1, 50])
def test_feedback_changelist_query_count_does_not_grow(
    staff_client, count, django_assert_num_queries
):
    reader = UserFactory()
    for paper in PaperFactory.create_batch(count):
        set_feedback(reader, paper, Feedback.Value.LESS)

    # session, user, count, one page with readers and papers
    with django_assert_num_queries(4):
        response = staff_client.get(reverse("admin:digest_feedback_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == count


def test_feedback_is_filtered_by_value(staff_client):
    reader = UserFactory()
    liked, disliked = PaperFactory(title="Liked"), PaperFactory(title="Disliked")
    set_feedback(reader, liked, Feedback.Value.MORE)
    set_feedback(reader, disliked, Feedback.Value.LESS)

    response = staff_client.get(reverse("admin:digest_feedback_changelist"), {"value__exact": "-1"})

    assert [f.paper for f in response.context["cl"].result_list] == [disliked]
