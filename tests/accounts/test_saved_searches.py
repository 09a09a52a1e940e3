"""Following a search: saving it, a taken name, and letting it go (never another's)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import SavedSearch
from accounts.saved_searches import delete_saved_search, save_search
from tests.factories import TagFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_the_name_defaults_to_the_query_text(reader):
    saved = save_search(
        reader, query="  sparse   mixture of experts ", tag=None, author="", has_code=True
    )

    assert (saved.name, saved.query, saved.has_code) == (
        "sparse mixture of experts",
        "sparse mixture of experts",
        True,
    )


def test_a_search_without_words_is_named_after_its_filters(reader):
    tag = TagFactory(name="Vision")

    saved = save_search(reader, query="", tag=tag, author="Fei-Fei Li", has_code=False)

    assert saved.name == "tag Vision · by Fei-Fei Li"


def test_following_the_same_search_twice_keeps_one(reader):
    first = save_search(reader, query="diffusion", tag=None, author="", has_code=False)
    again = save_search(reader, query="diffusion ", tag=None, author="", has_code=False)

    assert again.pk == first.pk
    assert SavedSearch.objects.count() == 1


def test_a_name_taken_whatever_its_case_is_refused_with_a_clear_message(reader):
    save_search(reader, query="diffusion", tag=None, author="", has_code=False)

    with pytest.raises(ValidationError, match="You already follow a search named “Diffusion”"):
        save_search(reader, query="Diffusion", tag=None, author="", has_code=True)

    assert SavedSearch.objects.count() == 1


def test_another_reader_may_use_the_same_name(reader):
    save_search(reader, query="diffusion", tag=None, author="", has_code=False)

    save_search(UserFactory(), query="diffusion", tag=None, author="", has_code=False)

    assert SavedSearch.objects.count() == 2


def test_another_readers_search_cannot_be_deleted(reader):
    other = save_search(UserFactory(), query="diffusion", tag=None, author="", has_code=False)

    from django.http import Http404

    with pytest.raises(Http404):
        delete_saved_search(reader, other.pk)
    assert SavedSearch.objects.filter(pk=other.pk).exists()


def test_follow_a_search_without_javascript(reader_client, reader):
    tag = TagFactory(name="Language")

    response = reader_client.post(
        reverse("follow-search"),
        {
            "q": "retrieval OR RAG",
            "tag": tag.slug,
            "code": "on",
            "next": "/search/?q=retrieval+OR+RAG",
        },
    )

    assert response["Location"] == "/search/?q=retrieval+OR+RAG"
    saved = SavedSearch.objects.get(user=reader)
    assert (saved.name, saved.query, saved.tag, saved.has_code) == (
        "retrieval OR RAG",
        "retrieval OR RAG",
        tag,
        True,
    )


def test_follow_a_search_in_place(reader_client):
    response = reader_client.post(reverse("follow-search"), {"q": "graph neural"}, headers=HTMX)

    saved = SavedSearch.objects.get()
    assert "Following this search ✓" in response.text
    assert reverse("unfollow-search", args=[saved.pk]) in response.text
    assert "<html" not in response.text


def test_a_taken_name_asks_for_another_in_place_and_saves_nothing(reader_client, reader):
    save_search(reader, query="diffusion", tag=None, author="", has_code=False)

    response = reader_client.post(
        reverse("follow-search"), {"q": "diffusion", "code": "on"}, headers=HTMX
    )

    assert "You already follow a search named “diffusion”" in response.text
    assert '<label for="follow-search-name">Name for this search</label>' in response.text
    assert SavedSearch.objects.count() == 1
    renamed = reader_client.post(
        reverse("follow-search"),
        {"q": "diffusion", "code": "on", "name": "diffusion with code"},
        headers=HTMX,
    )
    assert "Following this search ✓" in renamed.text
    assert SavedSearch.objects.count() == 2


def test_a_taken_name_without_javascript_is_a_message(reader_client, reader):
    save_search(reader, query="diffusion", tag=None, author="", has_code=False)

    response = reader_client.post(
        reverse("follow-search"), {"q": "diffusion", "code": "on"}, follow=True
    )

    assert "You already follow a search named “diffusion”" in response.text
    assert SavedSearch.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"q": "   "}, "There is nothing to follow yet"),
        ({"q": "x", "tag": "no-such-tag"}, "There is no such tag"),
    ],
)
def test_bad_searches_are_explained(reader_client, data, message):
    response = reader_client.post(reverse("follow-search"), data, headers=HTMX)

    assert message in response.text
    assert not SavedSearch.objects.exists()


def test_unfollow_a_search_without_javascript(reader_client, reader):
    saved = save_search(reader, query="diffusion", tag=None, author="", has_code=False)

    response = reader_client.post(reverse("unfollow-search", args=[saved.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("preferences")
    assert "You no longer follow the search “diffusion”." in response.text
    assert not SavedSearch.objects.exists()


def test_another_readers_search_is_a_404_over_the_web(reader_client):
    other = save_search(UserFactory(), query="diffusion", tag=None, author="", has_code=False)

    response = reader_client.post(reverse("unfollow-search", args=[other.pk]))

    assert response.status_code == 404
    assert SavedSearch.objects.filter(pk=other.pk).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.post(reverse("follow-search"), {"q": "diffusion"}, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert not SavedSearch.objects.exists()


def test_following_is_a_post(reader_client):
    assert reader_client.get(reverse("follow-search")).status_code == 405
