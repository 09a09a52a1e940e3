"""A reader's digests on the site: past ones, one as a page, its web copy, "For you",
👍/👎 from the site, and their signals on the preferences page."""

import datetime as dt
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse
from lxml import html

from accounts.follows import set_following
from accounts.preferences import preferences_of
from digest import links
from digest.feedback import set_feedback
from digest.models import Digest, Feedback
from papers import votes
from tests.factories import (
    DigestFactory,
    DigestItemFactory,
    PaperFactory,
    PaperTagFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# 23:30 UTC on the 26th is already the 27th in Berlin, where the reader lives.
SCHEDULED = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every digest factory makes a reader; the real hasher's slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reader():
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    preferences = preferences_of(user)
    preferences.time_zone = "Europe/Berlin"
    preferences.digest_frequency = "daily"
    preferences.save()
    return user


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


def make_digest(user, *, sections=("Retrieval", "Agents", "Retrieval"), **fields):
    fields = {"scheduled_for": SCHEDULED, "status": Digest.Status.SENT, **fields}
    if fields["status"] == Digest.Status.SENT:
        fields.setdefault("sent_at", fields["scheduled_for"] + dt.timedelta(minutes=2))
    digest = DigestFactory(user=user, **fields)
    for position, section in enumerate(sections, start=1):
        DigestItemFactory(
            digest=digest,
            position=position,
            section=section,
            reason=f"you follow #{section.lower()}",
            paper=PaperFactory(title=f"Paper {position} on {section}"),
        )
    return digest


def text_of(response) -> str:
    return " ".join(html.fromstring(response.content).xpath("//main")[0].text_content().split())


# My digests


def test_my_digests_needs_a_signed_in_reader(client):
    response = client.get(reverse("digest:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_my_digests_lists_the_readers_past_digests_with_status_day_and_count(reader_client, reader):
    sent = make_digest(reader)
    skipped = make_digest(
        reader,
        sections=(),
        status=Digest.Status.SKIPPED,
        scheduled_for=SCHEDULED - dt.timedelta(days=1),
    )
    failed = make_digest(
        reader, sections=("A",), status=Digest.Status.FAILED, error="550 mailbox unavailable"
    )
    make_digest(reader, status=Digest.Status.PENDING, scheduled_for=SCHEDULED + dt.timedelta(1))
    make_digest(UserFactory(), sections=("Someone else's",))

    response = reader_client.get(reverse("digest:list"))

    assert response.status_code == 200
    text = text_of(response)
    # In Berlin time: the 27th, not the UTC 26th.
    assert "Friday 27 November 2026 Sent 3 papers · sent 00:32" in text
    assert "Thursday 26 November 2026 Skipped: nothing new no papers" in text
    assert "Not delivered 1 paper" in text
    assert "550" not in text  # the server's words are for curators, not readers
    assert [d.pk for d in response.context["page"]] == [failed.pk, sent.pk, skipped.pk]
    assert reverse("digest:detail", args=[sent.pk]) in response.text


def test_my_digests_says_when_the_first_one_comes(reader_client, reader):
    response = reader_client.get(reverse("digest:list"))

    assert "No digests yet. Your first is due" in text_of(response)


@pytest.mark.parametrize("count", [1, 50])
def test_my_digests_takes_a_fixed_number_of_queries(
    reader_client, reader, count, django_assert_num_queries
):
    for n in range(count):
        make_digest(reader, sections=("A", "B"), scheduled_for=SCHEDULED - dt.timedelta(days=n))

    # session, user, preferences, count, one page of digests with their item counts
    with django_assert_num_queries(5):
        response = reader_client.get(reverse("digest:list"))

    assert len(response.context["page"]) == min(count, 30)
    assert response.context["page"][0].item_count == 2


# A digest as a page


def test_a_digest_page_shows_sections_papers_reasons_and_buttons(reader_client, reader):
    digest = make_digest(reader)
    paper = digest.items.get(position=1).paper
    PaperTagFactory(paper=paper, tag=TagFactory(name="RAG", slug="rag"))
    set_feedback(reader, paper, Feedback.Value.MORE)

    response = reader_client.get(reverse("digest:detail", args=[digest.pk]))

    assert response.status_code == 200
    page = html.fromstring(response.content)
    assert [h.text_content() for h in page.xpath("//main//h2")] == ["Retrieval", "Agents"]
    assert [h.text_content().strip() for h in page.xpath("//main//h3")] == [
        "Paper 1 on Retrieval",
        "Paper 3 on Retrieval",
        "Paper 2 on Agents",
    ]
    text = text_of(response)
    assert "Daily papers of Friday 27 November 2026" in text
    assert "You follow #retrieval" in text
    assert "RAG" in text
    # The reader's own 👍 shows pressed; the other buttons post to the site.
    pressed = page.xpath(f'//form[@action="/feedback/{paper.pk}/"]//button[@aria-pressed="true"]')
    assert [b.get("value") for b in pressed] == ["clear"]
    assert len(page.xpath('//form[@class="feedback"]')) == 3
    assert "/d/" not in response.text  # no signed e-mail links for the signed-in owner


def test_another_readers_digest_is_not_found(client, reader):
    digest = make_digest(reader)
    client.force_login(UserFactory())

    assert client.get(reverse("digest:detail", args=[digest.pk])).status_code == 404
    assert client.get(reverse("digest:detail", args=[999999])).status_code == 404


def test_a_digest_page_needs_a_signed_in_reader(client, reader):
    digest = make_digest(reader)

    response = client.get(reverse("digest:detail", args=[digest.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_skipped_digest_says_why_it_was_not_sent(reader_client, reader):
    digest = make_digest(reader, sections=(), status=Digest.Status.SKIPPED)

    text = text_of(reader_client.get(reverse("digest:detail", args=[digest.pk])))

    assert "nothing new on what you follow" in text


@pytest.mark.parametrize("count", [1, 50])
def test_a_digest_page_takes_a_fixed_number_of_queries(
    reader_client, reader, count, django_assert_num_queries
):
    digest = make_digest(reader, sections=[f"Topic {n % 5}" for n in range(count)])
    for item in digest.items.all():
        PaperTagFactory(paper=item.paper)

    # session, user, digest + reader, items, papers, their tags, preferences,
    # 👍/👎, votes, reading lists
    with django_assert_num_queries(10):
        response = reader_client.get(reverse("digest:detail", args=[digest.pk]))

    assert response.text.count('class="card digest-item"') == count


# The web copy


def web_copy_path(digest) -> str:
    return links.web_copy_url(digest=digest).removeprefix(settings.SITE_URL)


def test_the_web_copy_opens_without_signing_in_with_the_mails_links(client, reader):
    digest = make_digest(reader)

    response = client.get(web_copy_path(digest))

    assert response.status_code == 200
    text = text_of(response)
    assert "Paper 1 on Retrieval" in text
    assert "You follow #agents" in text
    page = html.fromstring(response.content)
    # The e-mail's signed links stand in for the site's buttons, which need a session.
    hrefs = page.xpath('//a[@class="feedback-link"]/@href')
    assert len(hrefs) == 9
    assert all(href.startswith(f"{settings.SITE_URL}/d/") for href in hrefs)
    assert not page.xpath('//form[@class="feedback"]')
    assert page.xpath('//meta[@name="referrer"]/@content') == ["no-referrer"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_web_copy_opened_by_its_reader_has_the_sites_buttons(reader_client, reader):
    digest = make_digest(reader)

    response = reader_client.get(web_copy_path(digest))

    assert 'class="feedback"' in response.text
    assert "feedback-link" not in response.text


def test_a_forged_or_expired_web_copy_link_gets_a_polite_page(client, reader):
    digest = make_digest(reader)

    forged = client.get(reverse("digest:web-copy", args=["1.abc.def"]))
    assert forged.status_code == 400
    assert "not one paperfeed made" in text_of(forged)

    path = web_copy_path(digest)
    with time_machine.travel(dt.timedelta(days=settings.DIGEST_LINK_DAYS + 1)):
        expired = client.get(path)
    assert expired.status_code == 400
    assert "has expired" in text_of(expired)


# For you


def test_for_you_needs_a_signed_in_reader(client):
    assert client.get(reverse("digest:for-you"))["Location"].startswith(reverse("account_login"))


def distinct_paper(title, **fields):
    """A paper unlike the others: ranking keeps one of several near-duplicates only."""
    words = title.lower()
    return PaperFactory(title=title, abstract=f"An abstract on {words} and nothing else.", **fields)


def test_for_you_shows_the_trending_list_to_a_reader_who_follows_nothing(reader_client):
    distinct_paper("A paper everybody reads", vote_count=40)
    distinct_paper("Quieter protein folding study", vote_count=3)

    response = reader_client.get(reverse("digest:for-you"))

    assert response.status_code == 200
    text = text_of(response)
    assert "Follow tags, authors or searches to make this yours" in text
    assert "A paper everybody reads" in text
    assert text.index("A paper everybody reads") < text.index("Quieter protein folding study")
    assert len(html.fromstring(response.content).xpath('//form[@class="feedback"]')) == 2


def test_for_you_explains_each_pick_of_a_reader_who_follows_a_tag(reader_client, reader):
    tag = TagFactory(name="Retrieval", slug="retrieval")
    PaperTagFactory(paper=distinct_paper("Dense retrieval at scale"), tag=tag)
    set_following(reader, tag, True)

    response = reader_client.get(reverse("digest:for-you"))

    text = text_of(response)
    assert "Dense retrieval at scale" in text
    assert "Follow tags, authors or searches to make this yours" not in text
    assert "You follow #Retrieval" in text


def test_for_you_leaves_out_what_the_reader_marked_not_interested(reader_client, reader):
    distinct_paper("A paper everybody reads", vote_count=40)
    unwanted = distinct_paper("Not for me: galaxy surveys", vote_count=50)
    set_feedback(reader, unwanted, Feedback.Value.LESS)

    text = text_of(reader_client.get(reverse("digest:for-you")))

    assert "A paper everybody reads" in text
    assert "galaxy surveys" not in text


def test_for_you_with_nothing_new(reader_client):
    text = text_of(reader_client.get(reverse("digest:for-you")))

    assert "Nothing new for you since your last digest" in text


# 👍 / 👎 from the site


def test_feedback_with_htmx_answers_the_control_pressed(reader_client, reader):
    paper = PaperFactory()
    url = reverse("digest:feedback", args=[paper.pk])

    response = reader_client.post(
        url, {"value": "less", "next": "/for-you/"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert Feedback.objects.get(user=reader, paper=paper).value == Feedback.Value.LESS
    form = html.fromstring(response.content)
    assert form.get("class") == "feedback"
    assert form.xpath('.//button[@aria-pressed="true"]/@value') == ["clear"]
    assert "stays out of your digests" in form.text_content()
    assert form.xpath('.//input[@name="next"]/@value') == ["/for-you/"]

    reader_client.post(url, {"value": "more"}, headers={"HX-Request": "true"})
    assert Feedback.objects.get(user=reader, paper=paper).value == Feedback.Value.MORE

    taken_back = reader_client.post(url, {"value": "clear"}, headers={"HX-Request": "true"})
    assert not Feedback.objects.filter(user=reader, paper=paper).exists()
    assert "Taken back." in taken_back.text


def test_feedback_without_javascript_goes_back_with_a_message(reader_client, reader):
    paper = PaperFactory(title="Sparse experts")

    response = reader_client.post(
        reverse("digest:feedback", args=[paper.pk]),
        {"value": "more", "next": "/for-you/?page=2"},
        follow=True,
    )

    assert response.redirect_chain[0] == ("/for-you/?page=2", 302)
    assert "Noted: more papers like “Sparse experts”." in response.text
    assert Feedback.objects.get(user=reader, paper=paper).value == Feedback.Value.MORE


def test_feedback_never_sends_the_reader_off_site(reader_client):
    paper = PaperFactory()

    response = reader_client.post(
        reverse("digest:feedback", args=[paper.pk]),
        {"value": "less", "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("digest:for-you")


def test_bad_feedback_gets_a_clear_answer(reader_client):
    paper = PaperFactory()
    url = reverse("digest:feedback", args=[paper.pk])

    bad = reader_client.post(url, {"value": "love"})
    assert bad.status_code == 400
    assert "Choose “more like this” or “not interested”." in bad.text
    assert not Feedback.objects.exists()
    assert reader_client.get(url).status_code == 405
    assert (
        reader_client.post(reverse("digest:feedback", args=[999999]), {"value": "more"}).status_code
        == 404
    )


def test_feedback_needs_a_signed_in_reader(client):
    paper = PaperFactory()
    url = reverse("digest:feedback", args=[paper.pk])

    plain = client.post(url, {"value": "more"})
    htmx = client.post(url, {"value": "more"}, headers={"HX-Request": "true"})

    assert plain["Location"].startswith(reverse("account_login"))
    assert htmx["HX-Redirect"].startswith(reverse("account_login"))
    assert not Feedback.objects.exists()


# Around the site


def test_signed_in_readers_find_for_you_and_their_digests_in_the_header(reader_client):
    page = html.fromstring(reader_client.get(reverse("latest")).content)

    header_links = page.xpath("//header//a/@href")
    assert reverse("digest:for-you") in header_links
    assert reverse("digest:list") in header_links


def test_visitors_get_the_subscribe_box_on_the_home_page_and_readers_do_not(client, reader_client):
    PaperFactory()
    from django.test import Client

    visitor = Client().get(reverse("home"))
    assert "Get trending papers in your email inbox once a day" in visitor.text
    box = html.fromstring(visitor.content).xpath('//section[@class="subscribe-box"]//form')[0]
    assert box.get("action") == reverse("digest:subscribe")
    assert {field.get("name") for field in box.xpath(".//input")} == {"email", "time_zone"}
    # The page stays one that can be kept for every visitor: no token, no cookie.
    assert "csrfmiddlewaretoken" not in visitor.text
    assert not visitor.cookies

    assert "subscribe-box" not in reader_client.get(reverse("home")).text


# Signals on the preferences page, and in the data export


def test_preferences_list_the_readers_signals_and_reset_one(reader_client, reader):
    liked = PaperFactory(title="Liked paper")
    disliked = PaperFactory(title="Disliked paper")
    set_feedback(reader, liked, Feedback.Value.MORE)
    set_feedback(reader, disliked, Feedback.Value.LESS)
    set_feedback(UserFactory(), liked, Feedback.Value.LESS)

    page = reader_client.get(reverse("preferences"))

    text = text_of(page)
    assert "👍 More like Liked paper" in text
    assert "👎 Not interested in Disliked paper" in text
    assert "Reset all 2 signals" in text

    response = reader_client.post(reverse("reset-signal", args=[disliked.pk]), follow=True)

    assert "Your signal on “Disliked paper” is reset." in response.text
    assert list(Feedback.objects.filter(user=reader).values_list("paper", flat=True)) == [liked.pk]
    assert Feedback.objects.count() == 2  # the other reader's is theirs


def test_preferences_reset_all_signals(reader_client, reader):
    for paper in PaperFactory.create_batch(3):
        set_feedback(reader, paper, Feedback.Value.MORE)
    other = UserFactory()
    set_feedback(other, PaperFactory(), Feedback.Value.MORE)

    response = reader_client.post(reverse("reset-signals"), follow=True)

    assert "All your signals are reset (3)." in response.text
    assert not Feedback.objects.filter(user=reader).exists()
    assert Feedback.objects.filter(user=other).exists()
    assert "No signals yet." in text_of(response)
    assert reader_client.get(reverse("reset-signals")).status_code == 405


@pytest.mark.parametrize("count", [1, 50])
def test_preferences_page_queries_do_not_grow_with_signals(
    reader_client, reader, count, django_assert_num_queries
):
    for paper in PaperFactory.create_batch(count):
        set_feedback(reader, paper, Feedback.Value.LESS)

    # session, user, preferences, tags, authors, searches, signals, API tokens
    with django_assert_num_queries(8):
        response = reader_client.get(reverse("preferences"))

    assert response.text.count("👎 Not interested in") == count


def test_preferences_say_why_a_digest_is_paused(reader_client, reader):
    preferences = preferences_of(reader)
    preferences.paused_reason = "Your mail server refused the last 3 digests."
    preferences.save()

    text = text_of(reader_client.get(reverse("preferences")))

    assert "Your digest is paused: Your mail server refused the last 3 digests." in text


def test_the_data_export_holds_the_readers_signals(reader_client, reader):
    paper = PaperFactory(title="Liked paper")
    set_feedback(reader, paper, Feedback.Value.MORE)
    set_feedback(UserFactory(), paper, Feedback.Value.LESS)

    data = reader_client.get(reverse("export-data")).json()

    [signal] = data["feedback"]
    assert signal["value"] == "more"
    assert signal["paper"]["title"] == "Liked paper"
    assert re.match(r"\d{4}-\d\d-\d\dT", signal["created_at"])


def test_a_vote_on_a_digest_page_is_shown(reader_client, reader):
    digest = make_digest(reader, sections=("A",))
    paper = digest.items.get().paper
    votes.set_vote(reader, paper, True)

    page = html.fromstring(reader_client.get(reverse("digest:detail", args=[digest.pk])).content)

    assert page.xpath('//form[@class="vote"]//button/@aria-pressed') == ["true"]
