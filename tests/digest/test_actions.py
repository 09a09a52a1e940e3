import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from accounts.preferences import preferences_of
from digest import links
from digest.actions import SAVED_LIST_NAME
from digest.models import Feedback
from papers.lists import create_list
from papers.models import ListItem, ReadingList
from tests.factories import PaperFactory, UserFactory

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return url.removeprefix(settings.SITE_URL)


@pytest.fixture
def reader():
    return UserFactory()


@pytest.fixture
def paper():
    return PaperFactory(title="Sparse <attention> for long documents")


@pytest.fixture
def browser():
    """A browser that keeps CSRF honest, as a real one does."""
    return Client(enforce_csrf_checks=True)


def feedback_of(user, paper):
    return Feedback.objects.filter(user=user, paper=paper).values_list("value", flat=True).first()


def post_form(browser, path):
    """Open the confirmation page and press its button, as a reader's browser does."""
    page = browser.get(path)
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    return browser.post(path, {"csrfmiddlewaretoken": token})


# One-click feedback


@pytest.mark.parametrize("action", ["more", "less", "save"])
def test_a_get_without_the_readers_session_changes_nothing(browser, reader, paper, action):
    # Mail scanners and link previewers open every link in a message.
    path = path_of(links.action_url(user=reader, paper=paper, action=action))

    response = browser.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post">' in html
    assert "Sparse &lt;attention&gt; for long documents" in html
    assert "<attention>" not in html
    assert feedback_of(reader, paper) is None
    assert not ReadingList.objects.filter(owner=reader).exists()
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_confirmation_page_names_the_action(browser, reader, paper):
    for action, words in [
        ("more", "👍 More like this"),
        ("less", "👎 Not interested"),
        ("save", f"“{SAVED_LIST_NAME}”"),
    ]:
        response = browser.get(path_of(links.action_url(user=reader, paper=paper, action=action)))
        assert words in response.content.decode()


def test_a_get_in_the_readers_own_signed_in_browser_applies_at_once(client, reader, paper):
    client.force_login(reader)

    response = client.get(path_of(links.action_url(user=reader, paper=paper, action="more")))

    assert response.status_code == 200
    assert feedback_of(reader, paper) == 1
    html = response.content.decode()
    assert "Noted: more like this" in html
    for url in [paper.get_absolute_url(), "/for-you/", "/me/preferences/"]:
        assert f'href="{url}"' in html


def test_a_get_signed_in_as_someone_else_changes_nothing(client, reader, paper):
    client.force_login(UserFactory())

    response = client.get(path_of(links.action_url(user=reader, paper=paper, action="less")))

    assert response.status_code == 200
    assert '<form method="post">' in response.content.decode()
    assert not Feedback.objects.exists()


def test_pressing_the_button_applies_without_a_session(browser, reader, paper):
    path = path_of(links.action_url(user=reader, paper=paper, action="less"))

    response = post_form(browser, path)

    assert response.status_code == 200
    assert "Noted: not interested" in response.content.decode()
    assert feedback_of(reader, paper) == -1


def test_a_post_without_the_csrf_token_is_refused(browser, reader, paper):
    response = browser.post(path_of(links.action_url(user=reader, paper=paper, action="more")))

    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_a_later_opinion_replaces_an_earlier_one(client, reader, paper):
    client.post(path_of(links.action_url(user=reader, paper=paper, action="more")))
    client.post(path_of(links.action_url(user=reader, paper=paper, action="less")))

    assert list(Feedback.objects.values_list("value", flat=True)) == [-1]


def test_save_makes_the_digest_list_once_and_keeps_using_it(client, reader):
    first, second = PaperFactory(), PaperFactory()
    client.force_login(reader)

    for paper in [first, second, first]:
        response = client.get(path_of(links.action_url(user=reader, paper=paper, action="save")))
        assert response.status_code == 200

    (saved,) = ReadingList.objects.filter(owner=reader)
    assert saved.name == SAVED_LIST_NAME
    assert list(saved.items.order_by("position").values_list("paper_id", flat=True)) == [
        first.pk,
        second.pk,
    ]
    first.refresh_from_db()
    assert first.save_count == 1
    assert f'href="/lists/{saved.pk}/"' in response.content.decode()


def test_save_uses_the_readers_list_of_that_name_whatever_its_case(browser, reader, paper):
    own = create_list(owner=reader, name=SAVED_LIST_NAME.upper())
    create_list(owner=UserFactory(), name=SAVED_LIST_NAME)

    post_form(browser, path_of(links.action_url(user=reader, paper=paper, action="save")))

    assert ReadingList.objects.filter(owner=reader).count() == 1
    assert ListItem.objects.get().reading_list == own


def test_a_post_from_another_browser_does_not_link_to_the_private_list(browser, reader, paper):
    path = path_of(links.action_url(user=reader, paper=paper, action="save"))

    response = post_form(browser, path)

    assert response.status_code == 200
    assert "/lists/" not in response.content.decode()
    assert ListItem.objects.filter(reading_list__owner=reader, paper=paper).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_link_gets_a_polite_400(client, reader, paper, method):
    token = links.action_url(user=reader, paper=paper, action="more").rstrip("/").rsplit("/")[-1]

    response = getattr(client, method)(f"/d/{token[:-2]}xx/")

    assert response.status_code == 400
    html = response.content.decode()
    assert "This link does not work" in html
    assert "Copy the whole link" in html
    assert not Feedback.objects.exists()


def test_an_expired_link_says_so(client, reader, paper, settings):
    settings.DIGEST_LINK_DAYS = 7
    with time_machine.travel(dt.datetime(2026, 1, 5, tzinfo=dt.UTC), tick=False):
        path = path_of(links.action_url(user=reader, paper=paper, action="more"))
    with time_machine.travel(dt.datetime(2026, 1, 20, tzinfo=dt.UTC), tick=False):
        response = client.get(path)

    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()


def test_a_link_to_a_deleted_paper_gets_a_polite_400(client, reader, paper):
    path = path_of(links.action_url(user=reader, paper=paper, action="save"))
    paper.delete()

    response = client.post(path)

    assert response.status_code == 400
    assert "no longer on paperfeed" in response.content.decode()


def test_other_methods_are_not_allowed(client, reader, paper):
    response = client.put(path_of(links.action_url(user=reader, paper=paper, action="more")))

    assert response.status_code == 405


# Unsubscribe


def test_one_click_unsubscribe_needs_no_cookie_and_no_csrf_token(browser, reader):
    preferences = preferences_of(reader)
    assert preferences.next_digest_at is not None

    response = browser.post(
        path_of(links.unsubscribe_url(user=reader)),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert 'href="/me/preferences/"' in response.content.decode()
    preferences.refresh_from_db()
    assert preferences.digest_frequency == "off"
    assert preferences.next_digest_at is None


def test_unsubscribe_get_shows_a_button_and_changes_nothing(browser, reader):
    preferences = preferences_of(reader)
    before = (preferences.digest_frequency, preferences.next_digest_at)

    response = browser.get(path_of(links.unsubscribe_url(user=reader)))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post">' in html
    assert "Unsubscribe</button>" in html
    preferences.refresh_from_db()
    assert (preferences.digest_frequency, preferences.next_digest_at) == before


def test_the_unsubscribe_button_works_and_twice_is_harmless(browser, reader):
    path = path_of(links.unsubscribe_url(user=reader))
    preferences_of(reader)

    for _ in range(2):
        assert browser.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200

    assert preferences_of(reader).digest_frequency == "off"
    assert "You are unsubscribed" in browser.get(path).content.decode()


def test_an_address_only_subscriber_is_pointed_at_the_home_page_to_come_back(browser):
    subscriber = UserFactory(password=None)
    subscriber.set_unusable_password()
    subscriber.save()

    response = browser.post(path_of(links.unsubscribe_url(user=subscriber)))

    html = response.content.decode()
    assert 'href="/">Subscribe again' in html
    assert "/me/preferences/" not in html.split("<main", 1)[1]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_unsubscribe_link_gets_a_polite_400(browser, reader, method):
    response = getattr(browser, method)("/unsubscribe/12.abc.def/")

    assert response.status_code == 400
    assert "turn the digest off in your preferences" in response.content.decode()
