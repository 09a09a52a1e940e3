from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from tests.e2e.conftest import VIEWPORTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO = (
    Path(__file__).resolve().parents[2]
    / "papers"
    / "demo"
    / "hf-papers-listing-language-models.txt"
)


@pytest.fixture
def demo():
    call_command("load_taxonomy", verbosity=0)
    call_command("import_papers", str(DEMO), verbosity=0)


def signed_in_context(browser, live_server, viewport="desktop", **options):
    """A browser context carrying the session of a new reader."""
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())
    context = browser.new_context(viewport=VIEWPORTS[viewport], **options)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def fits_the_screen(page, viewport):
    return page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_visitor_browses_searches_and_reads(
    live_server, browser, screenshot, accessibility, demo, viewport
):
    page = browser.new_page(viewport=VIEWPORTS[viewport])

    page.goto(live_server.url)
    first = page.get_by_role("link", name="GreaseLM: Graph REASoning Enhanced Language Models")
    assert first.is_visible()
    assert page.locator("article.card").count() == 20
    assert fits_the_screen(page, viewport)
    assert accessibility(page) == []
    screenshot(page, f"home-{viewport}")

    first.click()
    page.wait_for_url("**/papers/*/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("GreaseLM")
    # Each tag says why it is there, on demand.
    reason = page.locator(".tags .reason").first
    assert not reason.is_visible()
    page.locator(".tags .why").first.click()
    assert reason.is_visible()
    assert "matched “" in reason.inner_text()
    assert fits_the_screen(page, viewport)
    assert accessibility(page) == []
    screenshot(page, f"paper-{viewport}")

    page.get_by_role("link", name="Question answering").first.click()
    page.wait_for_url("**/tags/question-answering/")
    assert page.locator("svg.chart").count() == 1
    assert page.get_by_role("link", name="Sign in to follow").is_visible()
    assert fits_the_screen(page, viewport)
    assert accessibility(page) == []
    screenshot(page, f"tag-{viewport}")

    page.get_by_role("searchbox", name="Search papers").fill('"language model" -medical')
    page.get_by_role("searchbox", name="Search papers").press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert page.locator("article.card mark").first.inner_text().lower().startswith("language")
    if not page.get_by_label("Has code").is_visible():  # the filters stay folded until used
        page.get_by_text("Filters").click()
    page.get_by_label("Has code").check()
    page.get_by_role("button", name="Search", exact=True).last.click()
    page.wait_for_url("**code=on*")
    count = page.get_by_role("status").inner_text()
    assert count.split()[0].isdigit()
    assert fits_the_screen(page, viewport)
    assert accessibility(page) == []
    screenshot(page, f"search-{viewport}")

    page.get_by_role("link", name="Trending").click()
    page.get_by_role("link", name="Latest").click()
    page.get_by_role("link", name="Next →").click()
    assert "Page 2 of 15" in page.content()
    page.close()


def test_votes_and_follows_without_a_reload(live_server, browser, demo):
    from papers.models import Paper

    paper = Paper.objects.get(title__startswith="GreaseLM")
    context = signed_in_context(browser, live_server)
    page = context.new_page()
    page.goto(live_server.url + paper.get_absolute_url())
    page.evaluate("window.stillHere = true")

    page.locator(".actions").get_by_role("button", name="vote").click()
    page.locator('.actions button[aria-pressed="true"]').wait_for()
    assert page.evaluate("window.stillHere") is True  # htmx swapped the button in place
    assert Paper.objects.get(pk=paper.pk).vote_count == 1

    page.get_by_role("link", name="Knowledge graphs").first.click()
    page.evaluate("window.stillHere = true")
    page.get_by_role("button", name="Follow").click()
    page.get_by_role("button", name="Following ✓").wait_for()
    assert page.evaluate("window.stillHere") is True
    page.reload()
    assert page.get_by_role("button", name="Following ✓").is_visible()
    context.close()


def test_voting_works_without_javascript(live_server, browser, demo):
    from papers.models import Paper

    paper = Paper.objects.get(title__startswith="GreaseLM")
    context = signed_in_context(browser, live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + paper.get_absolute_url())

    page.locator(".actions").get_by_role("button", name="vote").click()
    page.wait_for_load_state()
    assert page.locator('.actions button[aria-pressed="true"]').is_visible()
    assert Paper.objects.get(pk=paper.pk).vote_count == 1
    context.close()


def test_imported_markup_stays_inert(live_server, browser):
    from papers.models import Paper
    from papers.search import index_papers
    from tests.factories import PaperFactory

    payload = "<img src=x onerror=\"window.pwned=1;alert('img')\">"
    paper = PaperFactory(
        title=f"Attention<script>window.pwned=1;alert('title')</script> {payload}",
        abstract=f'Attention {payload} <a href="javascript:window.pwned=1">click</a>',
        author_names=[f"Mallory {payload}"],
        code_url="javascript:window.pwned=1",
        project_url="javascript:alert(1)",
    )
    index_papers()
    page = browser.new_page(viewport=VIEWPORTS["desktop"])
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    for path in ("/", "/latest/", paper.get_absolute_url(), "/search/?q=attention"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.pwned") is None, path
        assert page.locator("img").count() == 0, path
        assert page.locator('a[href^="javascript:"]').count() == 0, path
        assert "<script>" in page.locator("h1, h2").filter(has_text="Attention").first.inner_text()
    assert dialogs == []
    assert Paper.objects.count() == 1
    page.close()


def test_the_sign_in_page_works_in_a_browser(live_server, browser, screenshot):
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    user = UserFactory(email="reader@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    page = browser.new_page(viewport=VIEWPORTS["desktop"])

    page.goto(live_server.url)
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_placeholder("Email address").fill("reader@example.org")
    page.get_by_placeholder("Password").fill("a long test password")
    screenshot(page, "sign-in-desktop")
    page.get_by_role("button", name="Sign In").click()

    page.get_by_role("button", name="Sign out").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in", exact=True).wait_for()
    page.close()
