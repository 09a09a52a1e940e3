"""In a real browser: the time zone comes from the browser, unfollow works in place, and
the account pages pass axe's accessibility checks."""

import pytest
from django.test import Client

from accounts import follows
from accounts.models import Preferences
from tests.factories import TagFactory, UserFactory

PASSWORD = "a long test password"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def signed_in(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


def test_sign_up_records_the_browsers_time_zone(browser, live_server):
    page = browser.new_context(timezone_id="Asia/Tokyo").new_page()
    page.goto(f"{live_server.url}/accounts/signup/")

    page.get_by_label("Email").fill("grace@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")

    assert Preferences.objects.get(user__email="grace@example.org").time_zone == "Asia/Tokyo"


def test_unfollow_from_the_preferences_page_in_place(browser, live_server):
    reader = UserFactory()
    tag = TagFactory(name="Retrieval")
    follows.set_following(reader, tag, True)
    page = signed_in(browser, live_server, reader)
    page.goto(f"{live_server.url}/me/preferences/")

    page.get_by_role("button", name="Unfollow Retrieval").click()
    follow = page.get_by_role("button", name="Follow", exact=True)
    follow.wait_for()

    assert not follows.is_following(reader, tag)
    assert page.url.endswith("/me/preferences/")
    follow.click()
    page.get_by_role("button", name="Following ✓").wait_for()
    assert follows.is_following(reader, tag)


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_signed_out_pages_are_accessible(browser, live_server, accessibility, path):
    page = browser.new_page()
    page.goto(f"{live_server.url}{path}")

    assert accessibility(page) == []


@pytest.mark.parametrize("path", ["/me/preferences/", "/me/delete/", "/accounts/email/"])
def test_signed_in_pages_are_accessible(browser, live_server, accessibility, path):
    follows.set_following(reader := UserFactory(), TagFactory(name="Retrieval"), True)
    page = signed_in(browser, live_server, reader)
    page.goto(f"{live_server.url}{path}")

    assert accessibility(page) == []
