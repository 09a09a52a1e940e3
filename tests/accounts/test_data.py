"""Export my data, and delete my account (with the papers' counters put right)."""

import json

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts import follows
from accounts.data import delete_account
from accounts.models import Preferences, SavedSearch, User
from accounts.preferences import preferences_of
from accounts.saved_searches import save_search
from papers import votes
from papers.models import Author, ListItem, Paper, ReadingList, Vote
from tests.accounts.conftest import PASSWORD
from tests.factories import PaperFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def save_to_list(reading_list, paper, **fields):
    """A list item, with the paper's save counter kept as the lists code keeps it."""
    item = ListItem.objects.create(reading_list=reading_list, paper=paper, **fields)
    Paper.objects.filter(pk=paper.pk).update(save_count=paper.save_count + 1)
    paper.refresh_from_db()
    return item


def fill(user, count=1):
    """A reader with `count` of everything they can have."""
    papers = PaperFactory.create_batch(count)
    preferences = preferences_of(user)
    preferences.time_zone = "Europe/Paris"
    preferences.save()
    tags = [TagFactory(name=f"Topic {n}") for n in range(count)]
    preferences.followed_tags.add(*tags)
    preferences.followed_authors.add(
        *(Author.objects.create(name=f"Author {n}", name_key=f"author {n}") for n in range(count))
    )
    for n in range(count):
        save_search(user, query=f"words {n}", tag=tags[n], author="", has_code=False)
        votes.set_vote(user, papers[n], True)
    reading_list = ReadingList.objects.create(owner=user, name="To read", description="Mine")
    for n, paper in enumerate(papers):
        save_to_list(reading_list, paper, note=f"note {n}", status="reading", position=n)
    return papers


def test_export_is_one_json_file_with_everything(reader_client, reader):
    (paper,) = fill(reader)

    response = reader_client.get(reverse("export-data"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="paperfeed-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["format"] == "paperfeed-export"
    assert data["profile"]["email"] == "ada@example.org"
    assert data["profile"]["email_addresses"] == [
        {"email": "ada@example.org", "verified": True, "primary": True}
    ]
    assert data["preferences"]["time_zone"] == "Europe/Paris"
    assert data["preferences"]["digest_weekday"] == "Monday"
    assert data["follows"]["tags"] == [{"slug": "topic-0", "name": "Topic 0"}]
    assert [author["name"] for author in data["follows"]["authors"]] == ["Author 0"]
    assert data["saved_searches"][0] | {"created_at": None} == {
        "name": "words 0",
        "query": "words 0",
        "author": "",
        "has_code": False,
        "tag_slug": "topic-0",
        "created_at": None,
    }
    (reading_list,) = data["reading_lists"]
    assert (reading_list["name"], reading_list["description"]) == ("To read", "Mine")
    (item,) = reading_list["items"]
    assert (item["note"], item["status"]) == ("note 0", "reading")
    assert item["paper"]["id"] == paper.pk
    assert item["paper"]["title"] == paper.title
    assert item["paper"]["link"].endswith(f"/papers/{paper.pk}/")
    assert [vote["paper"]["id"] for vote in data["votes"]] == [paper.pk]
    assert data["feedback"] == []
    assert "password" not in response.text


def test_export_holds_nothing_of_other_readers(reader_client, reader):
    fill(UserFactory())

    data = reader_client.get(reverse("export-data")).json()

    assert data["votes"] == data["reading_lists"] == data["saved_searches"] == []
    assert data["follows"] == {"tags": [], "authors": []}


@pytest.mark.parametrize("count", [1, 50])
def test_export_takes_a_fixed_number_of_queries(
    reader_client, reader, count, django_assert_num_queries
):
    fill(reader, count)

    # session, user; addresses; preferences; tags; authors; searches; lists + items; votes;
    # feedback
    with django_assert_num_queries(11):
        data = reader_client.get(reverse("export-data")).json()

    assert len(data["votes"]) == len(data["reading_lists"][0]["items"]) == count


def test_export_needs_a_signed_in_reader(client):
    assert client.get(reverse("export-data"))["Location"].startswith(reverse("account_login"))


def test_deleting_removes_everything_personal_and_fixes_the_counters(reader):
    other = UserFactory()
    papers = fill(reader, 2)
    first, second = papers
    # A second list holding the first paper again: it counts twice in save_count.
    save_to_list(ReadingList.objects.create(owner=reader, name="Again"), first)
    # Another reader's vote and save on the first paper stay counted.
    votes.set_vote(other, first, True)
    save_to_list(ReadingList.objects.create(owner=other, name="Theirs"), first, note="keep")
    follows.set_following(other, TagFactory(name="Topic 0"), True)

    delete_account(reader)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.vote_count, first.save_count) == (1, 1)
    assert (second.vote_count, second.save_count) == (0, 0)
    assert not User.objects.filter(pk=reader.pk).exists()
    for model, mine in [
        (Preferences, {"user": reader.pk}),
        (SavedSearch, {"user": reader.pk}),
        (Vote, {"user": reader.pk}),
        (ReadingList, {"owner": reader.pk}),
        (ListItem, {"reading_list__owner": reader.pk}),
        (EmailAddress, {"user": reader.pk}),
    ]:
        assert not model.objects.filter(**mine).exists(), model.__name__
    # The papers and the other reader's data are untouched.
    assert Paper.objects.count() == 2
    assert Vote.objects.filter(user=other).count() == 1
    assert ListItem.objects.get(reading_list__owner=other).note == "keep"
    assert preferences_of(other).followed_tags.count() == 1


def test_a_counter_that_drifted_low_does_not_block_deletion(reader):
    (paper,) = fill(reader)
    Paper.objects.filter(pk=paper.pk).update(vote_count=0, save_count=0)

    delete_account(reader)

    paper.refresh_from_db()
    assert (paper.vote_count, paper.save_count) == (0, 0)
    assert not User.objects.filter(pk=reader.pk).exists()


def test_delete_over_the_web_needs_the_password(reader_client, reader):
    fill(reader)

    page = reader_client.get(reverse("delete-account"))
    wrong = reader_client.post(reverse("delete-account"), {"password": "not it"})

    assert '<label for="id_password">Your password</label>' in page.text
    assert wrong.status_code == 200
    assert "Incorrect password." in wrong.text
    assert User.objects.filter(pk=reader.pk).exists()
    assert Vote.objects.filter(user=reader).exists()


def test_delete_over_the_web_signs_out_and_says_so(reader_client, reader):
    fill(reader)

    response = reader_client.post(reverse("delete-account"), {"password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Your account and everything in it have been deleted." in response.text
    assert "_auth_user_id" not in reader_client.session
    assert not User.objects.filter(pk=reader.pk).exists()
    assert Paper.objects.get().vote_count == 0
