import pytest

from tests.factories import PaperFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_work_offline_and_can_call_the_api(browser, live_server, settings):
    settings.API_RATE_ANONYMOUS = "100000/minute"
    PaperFactory(title="Offline docs still list me")
    context = browser.new_context()
    elsewhere = []

    def only_this_site(route):
        # Anything not from the site itself is refused, as on a machine without internet.
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_site)
    page = context.new_page()
    page.goto(f"{live_server.url}/api/docs/")

    page.get_by_text("paperfeed API").first.wait_for()
    operation = page.locator("#operations-papers-papers_list")
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    answer = page.locator(".live-responses-table")
    answer.get_by_text("Offline docs still list me").first.wait_for()
    assert "200" in answer.locator(".response .response-col_status").first.inner_text()
    assert elsewhere == []
    context.close()
