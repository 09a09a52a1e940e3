"""A new reader's first visit, as the issue describes it, in a real browser with real mail."""

import re
from pathlib import Path

import bibtexparser
import pytest
from django.core.management import call_command

from tests.e2e.conftest import VIEWPORTS
from tests.e2e.test_browse import DEMO, signed_in_context

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "new.reader@example.org"
PASSWORD = "correct horse battery staple 42"


def test_sign_up_verify_follow_search_save_note_export(
    live_server, browser, screenshot, accessibility, smtp_server, settings, tmp_path
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    call_command("load_taxonomy", verbosity=0)
    call_command("import_papers", str(DEMO), verbosity=0)
    context = browser.new_context(viewport=VIEWPORTS["desktop"], timezone_id="Europe/Berlin")
    page = context.new_page()

    # Sign up; the browser's time zone comes along.
    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label(re.compile(r"^e-?mail", re.I)).first.fill(EMAIL)
    passwords = page.get_by_label(re.compile("password", re.I))
    passwords.nth(0).fill(PASSWORD)
    passwords.nth(1).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()

    # The verification link from the mail the SMTP server actually received.
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == EMAIL
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", body).group(0)
    page.goto(link)
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    page.wait_for_load_state()
    if page.get_by_role("link", name="Sign in", exact=True).is_visible():
        page.get_by_role("link", name="Sign in", exact=True).click()
        page.get_by_label(re.compile(r"^e-?mail", re.I)).first.fill(EMAIL)
        page.get_by_label(re.compile("password", re.I)).first.fill(PASSWORD)
        page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.get_by_role("button", name="Sign out").wait_for()

    from accounts.models import Preferences

    preferences = Preferences.objects.get(user__email=EMAIL)
    assert (preferences.time_zone, preferences.digest_frequency, preferences.digest_hour) == (
        "Europe/Berlin",
        "weekly",
        8,
    )

    # Follow a tag.
    page.goto(live_server.url + "/tags/question-answering/")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Following ✓").wait_for()

    # Search, then save the first result to a new list, in place.
    page.get_by_role("searchbox", name="Search papers").fill("knowledge graph")
    page.get_by_role("searchbox", name="Search papers").press("Enter")
    page.wait_for_url("**/search/?q=*")
    card = page.locator("article.card").first
    title = card.locator(".card-title").inner_text()
    card.locator("details.save summary").click()
    card.get_by_label("New list").fill("Graphs to read")
    card.get_by_role("button", name="Create and save").click()
    card.locator("details.save summary", has_text="Saved").wait_for()

    # The list: a note and "reading", saved in place.
    page.goto(live_server.url + "/lists/")
    page.get_by_role("link", name="Graphs to read").click()
    page.get_by_label("Status").first.select_option(label="Reading")
    page.get_by_label("Note").first.fill("Compare with GreaseLM's fusion layers.")
    page.get_by_role("button", name=re.compile("^Save")).first.click()
    page.get_by_role("status").filter(has_text="Saved.").first.wait_for()
    assert accessibility(page) == []
    list_url = page.url
    for viewport in VIEWPORTS:
        page.set_viewport_size(VIEWPORTS[viewport])
        screenshot(page, f"list-{viewport}")

    # Export BibTeX: the file a reference manager would read.
    with page.expect_download() as download:
        page.get_by_role("link", name="BibTeX", exact=True).click()
    path = tmp_path / "list.bib"
    download.value.save_as(path)
    library = bibtexparser.parse_string(Path(path).read_text())
    assert [entry["title"].strip("{}") for entry in library.entries] == [title]
    assert "GreaseLM" in Path(path).read_text() or len(library.entries) == 1

    page.goto(live_server.url + "/me/preferences/")
    assert "Question answering" in page.content()
    assert accessibility(page) == []
    for viewport in VIEWPORTS:
        page.set_viewport_size(VIEWPORTS[viewport])
        screenshot(page, f"preferences-{viewport}")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in", exact=True).wait_for()
    context.close()

    # Another reader cannot see the private list.
    other = signed_in_context(browser, live_server)
    stranger = other.new_page()
    response = stranger.goto(list_url)
    assert response.status == 404
    other.close()
