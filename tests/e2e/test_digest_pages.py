"""Digests on the site in a real browser: "For you" with 👎, and the home page's box."""

import re

import pytest
from django.test import Client

from tests.e2e.conftest import VIEWPORTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOPICS = [
    ("Sparse mixture-of-experts scaling", "routing tokens to experts", 40),
    ("Protein structure from single sequences", "folding without alignments", 25),
    ("Retrieval-augmented question answering", "passages fetched at answer time", 12),
]


@pytest.fixture
def new_papers():
    from tests.factories import PaperFactory

    return [
        PaperFactory(title=title, abstract=f"We study {words}; nothing else.", vote_count=votes)
        for title, words, votes in TOPICS
    ]


def signed_in_as(browser, live_server, user, viewport="desktop"):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_a_reader_marks_a_paper_not_interested_on_for_you(
    live_server, browser, screenshot, accessibility, new_papers
):
    from django.utils import timezone

    from digest.models import Feedback
    from tests.factories import DigestFactory, DigestItemFactory, UserFactory

    reader = UserFactory()
    page = signed_in_as(browser, live_server, reader).new_page()

    page.goto(live_server.url)
    page.get_by_role("link", name="For you").click()
    page.wait_for_url("**/for-you/")
    assert page.get_by_role("heading", level=1).inner_text() == "For you"
    assert (
        "Follow tags, authors or searches to make this yours"
        in page.locator(".notice").inner_text()
    )
    item = page.locator("article.digest-item", has_text=TOPICS[1][0])
    assert item.locator(".pick-reason").inner_text().endswith("Trending on paperfeed")
    assert accessibility(page) == []

    item.get_by_role("button", name=re.compile("Not interested")).click()

    pressed = item.locator('form.feedback button[aria-pressed="true"]')
    pressed.wait_for()
    assert "Not interested" in pressed.inner_text()
    assert "stays out of your digests" in item.get_by_role("status").inner_text()
    [signal] = Feedback.objects.filter(user=reader)
    assert (signal.paper_id, signal.value) == (new_papers[1].pk, Feedback.Value.LESS)
    assert accessibility(page) == []
    screenshot(page, "for-you-desktop")

    # Taken back in place, too.
    pressed.click()
    item.get_by_role("status").filter(has_text="Taken back.").wait_for()
    assert not Feedback.objects.filter(user=reader).exists()

    # A past digest, from the header, as a page.
    digest = DigestFactory(user=reader, status="sent", sent_at=timezone.now())
    for position, paper in enumerate(new_papers, start=1):
        DigestItemFactory(digest=digest, paper=paper, position=position, section="Machine learning")
    page.get_by_role("link", name="My digests").click()
    page.locator("ul.digests a").first.click()
    page.wait_for_url(f"**/digests/{digest.pk}/")
    assert page.locator("article.digest-item").count() == 3
    assert accessibility(page) == []
    screenshot(page, "digest-page-desktop")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_visitor_subscribes_from_the_home_page(
    live_server, browser, screenshot, accessibility, smtp_server, new_papers, viewport
):
    context = browser.new_context(viewport=VIEWPORTS[viewport], timezone_id="America/Chicago")
    page = context.new_page()

    page.goto(live_server.url)
    box = page.get_by_role("region", name="Get trending papers in your email inbox once a day")
    assert box.is_visible()
    assert accessibility(page) == []
    screenshot(page, f"home-subscribe-{viewport}")

    box.get_by_label("Your e-mail address").fill(f"visitor-{viewport}@example.org")
    box.get_by_role("button", name="Subscribe").click()

    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert f"visitor-{viewport}@example.org" in page.content()
    assert accessibility(page) == []
    [mail] = smtp_server.wait_for(1)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "08:00 (America/Chicago)" in body
    screenshot(page, f"subscribe-sent-{viewport}")
