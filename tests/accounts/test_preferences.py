"""The preferences page: digest settings, and what the reader follows with unfollow."""

import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import follows, tokens
from accounts.models import Preferences, SavedSearch
from accounts.preferences import preferences_of
from papers.models import Author
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db

VALID = {
    "digest_frequency": "daily",
    "digest_weekday": "4",
    "digest_hour": "7",
    "time_zone": "America/Sao_Paulo",
    "digest_size": "25",
}


def test_the_page_needs_a_signed_in_reader(client):
    response = client.get(reverse("preferences"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_readers_from_before_preferences_existed_get_the_defaults(reader_client, reader):
    assert not Preferences.objects.filter(user=reader).exists()

    page = reader_client.get(reverse("preferences"))

    assert page.status_code == 200
    assert Preferences.objects.get(user=reader).digest_frequency == "weekly"
    assert 'value="weekly"' in page.text and "checked" in page.text


def test_saving_the_digest_settings_reschedules_the_next_digest(reader_client, reader):
    response = reader_client.post(reverse("preferences"), VALID)

    assert response["Location"] == reverse("preferences")
    saved = Preferences.objects.get(user=reader)
    assert (
        saved.digest_frequency,
        saved.digest_weekday,
        saved.digest_hour,
        saved.time_zone,
        saved.digest_size,
    ) == ("daily", 4, 7, "America/Sao_Paulo", 25)
    local = saved.next_digest_at.astimezone(zoneinfo.ZoneInfo("America/Sao_Paulo"))
    assert (local.hour, local.minute) == (7, 0)
    assert saved.next_digest_at > timezone.now()
    assert "Your digest settings are saved." in reader_client.get(reverse("preferences")).text


def test_turning_the_digest_off_schedules_none(reader_client, reader):
    reader_client.post(reverse("preferences"), {**VALID, "digest_frequency": "off"})

    assert Preferences.objects.get(user=reader).next_digest_at is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("digest_hour", "24", "Pick an hour from 00:00 to 23:00."),
        ("digest_hour", "-1", "Pick an hour from 00:00 to 23:00."),
        ("time_zone", "Mars/Olympus_Mons", "is not a time zone we know"),
        ("digest_size", "0", "Type a whole number from 1 to 100."),
        ("digest_size", "101", "Type a whole number from 1 to 100."),
        ("digest_size", "ten", "Type a whole number from 1 to 100."),
        ("digest_frequency", "hourly", "Select a valid choice"),
        ("digest_weekday", "7", "Pick a day of the week from the list."),
    ],
)
def test_bad_settings_are_explained_and_nothing_is_saved(
    reader_client, reader, field, value, message
):
    before = preferences_of(reader)

    response = reader_client.post(reverse("preferences"), {**VALID, field: value})

    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    after = Preferences.objects.get(user=reader)
    assert (after.digest_frequency, after.digest_hour, after.time_zone, after.digest_size) == (
        before.digest_frequency,
        before.digest_hour,
        before.time_zone,
        before.digest_size,
    )


def test_every_field_has_a_visible_label(reader_client):
    page = reader_client.get(reverse("preferences"))

    for label in ["Digest e-mail", "Day", "Time", "Time zone", "Papers per digest"]:
        assert f">{label}</" in page.text


def following_setup(reader, count):
    preferences = preferences_of(reader)
    tags = [TagFactory(name=f"Topic {n}") for n in range(count)]
    authors = [
        Author.objects.create(name=f"Author {n}", name_key=f"author {n}") for n in range(count)
    ]
    preferences.followed_tags.add(*tags)
    preferences.followed_authors.add(*authors)
    SavedSearch.objects.bulk_create(
        SavedSearch(user=reader, name=f"search {n}", query=f"words {n}", tag=tags[n])
        for n in range(count)
    )
    return tags, authors


@pytest.mark.parametrize("count", [1, 50])
def test_the_page_lists_follows_in_a_fixed_number_of_queries(
    reader_client, reader, count, django_assert_num_queries
):
    tags, _ = following_setup(reader, count)
    for n in range(min(count, tokens.MAX_TOKENS)):
        tokens.create_token(reader, name=f"token {n}")

    # session, user, preferences, tags, authors, saved searches (with their tags),
    # signals, API tokens
    with django_assert_num_queries(8):
        page = reader_client.get(reverse("preferences"))

    assert page.text.count("Unfollow</button>") == 3 * count
    assert f'href="/tags/{tags[-1].slug}/"' in page.text
    assert "/search/?q=words+0&amp;tag=topic-0" in page.text


def test_unfollow_a_tag_without_javascript(reader_client, reader):
    (tag,), _ = following_setup(reader, 1)

    response = reader_client.post(
        reverse("follow-tag", args=[tag.slug]), {"follow": "off", "next": reverse("preferences")}
    )

    assert response["Location"] == reverse("preferences")
    assert not follows.is_following(reader, tag)
    assert tag.get_absolute_url() not in reader_client.get(reverse("preferences")).text


def test_unfollow_an_author_in_place_leaves_a_follow_button_to_undo(reader_client, reader):
    _, (author,) = following_setup(reader, 1)

    response = reader_client.post(
        reverse("follow-author", args=[author.pk]),
        {"follow": "off"},
        headers={"HX-Request": "true"},
    )

    assert not follows.is_following(reader, author)
    assert 'aria-pressed="false">Follow</button>' in response.text


def test_unfollow_a_search_in_place_leaves_a_follow_button_to_undo(reader_client, reader):
    following_setup(reader, 1)
    search = SavedSearch.objects.get(user=reader)

    response = reader_client.post(
        reverse("unfollow-search", args=[search.pk]),
        {"next": reverse("preferences")},
        headers={"HX-Request": "true"},
    )

    assert not SavedSearch.objects.exists()
    assert "Follow this search</button>" in response.text
    assert 'name="q" value="words 0"' in response.text
    assert 'name="tag" value="topic-0"' in response.text
    undo = reader_client.post(
        reverse("follow-search"),
        {"q": "words 0", "tag": "topic-0", "name": "search 0"},
        headers={"HX-Request": "true"},
    )
    assert "Following this search ✓" in undo.text
    assert SavedSearch.objects.get().name == "search 0"


def test_the_header_links_to_the_preferences_page(reader_client):
    assert f'href="{reverse("preferences")}"' in reader_client.get(reverse("tags")).text
