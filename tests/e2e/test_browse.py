from pathlib import Path

import pytest
from django.core.management import call_command

from tests.e2e.conftest import VIEWPORTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO = (
    Path(__file__).resolve().parents[2]
    / "papers"
    / "demo"
    / "hf-papers-listing-language-models.txt"
)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_visitor_reads_the_demo_papers(live_server, browser, screenshot, viewport):
    call_command("load_taxonomy", verbosity=0)
    call_command("import_papers", str(DEMO), verbosity=0)
    page = browser.new_page(viewport=VIEWPORTS[viewport])

    page.goto(live_server.url)
    first = page.get_by_role("link", name="GreaseLM: Graph REASoning Enhanced Language Models")
    assert first.is_visible()
    assert page.locator("article.card").count() == 20
    # Nothing is wider than the screen on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]
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
    screenshot(page, f"paper-{viewport}")

    page.get_by_role("link", name="paperfeed").click()
    page.get_by_role("link", name="Older →").click()
    assert "Page 2 of 15" in page.content()
    page.close()


def test_the_sign_in_page_works_in_a_browser(live_server, browser, screenshot):
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    user = UserFactory(email="reader@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    page = browser.new_page(viewport=VIEWPORTS["desktop"])

    page.goto(live_server.url)
    page.get_by_role("link", name="Sign in").click()
    page.get_by_placeholder("Email address").fill("reader@example.org")
    page.get_by_placeholder("Password").fill("a long test password")
    screenshot(page, "sign-in-desktop")
    page.get_by_role("button", name="Sign In").click()

    page.get_by_role("button", name="Sign out").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").wait_for()
    page.close()
