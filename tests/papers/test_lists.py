"""Reading lists: the domain functions, the pages, the save control, import and feeds."""

import datetime

import feedparser
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from papers import lists
from papers.models import ListItem, Paper, ReadingList
from papers.sources import bibtex
from tests.factories import PaperFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Everyone here signs in with force_login, so no password is ever checked: hashing
    # them the slow, secure way would only cost seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def saves(*papers):
    return [Paper.objects.get(pk=paper.pk).save_count for paper in papers]


def titles(reading_list):
    return [item.paper.title for item in lists.items_of(reading_list)]


def snapshot():
    """Everything a list write could change, to show that a refused one changed nothing."""
    return (
        list(ReadingList.objects.order_by("pk").values()),
        list(ListItem.objects.order_by("pk").values()),
        list(Paper.objects.order_by("pk").values_list("pk", "save_count")),
    )


# Lists: create, rename, delete


def test_a_reader_has_many_lists_and_names_are_unique_per_reader_whatever_the_case():
    ada, bob = UserFactory(), UserFactory()
    lists.create_list(owner=ada, name="To read")
    lists.create_list(owner=ada, name="  Reading   group ")
    lists.create_list(owner=bob, name="To read")  # another reader may use the same name

    with pytest.raises(lists.ListError, match="already have a list named “to READ”"):
        lists.create_list(owner=ada, name="to READ")

    assert sorted(lists.owned_by(ada).values_list("name", flat=True)) == [
        "Reading group",
        "To read",
    ]
    assert ReadingList.objects.count() == 3


def test_a_new_list_is_private_and_has_a_secret_token():
    reading_list = lists.create_list(owner=UserFactory(), name="Mine")

    assert reading_list.visibility == ReadingList.Visibility.PRIVATE
    assert len(reading_list.share_token) >= 32


def test_renaming_onto_another_list_name_is_refused_and_changes_nothing():
    owner = UserFactory()
    lists.create_list(owner=owner, name="Agents")
    reading_list = lists.create_list(owner=owner, name="Retrieval")

    with pytest.raises(lists.ListError, match="choose another name"):
        lists.update_list(reading_list, name="AGENTS", description="x", visibility="public")

    reading_list.refresh_from_db()
    assert (reading_list.name, reading_list.visibility) == ("Retrieval", "private")
    lists.update_list(reading_list, name="Retrieval papers", description="", visibility="public")
    reading_list.refresh_from_db()
    assert (reading_list.name, reading_list.visibility) == ("Retrieval papers", "public")


def test_an_empty_name_is_refused():
    with pytest.raises(lists.ListError, match="Give the list a name"):
        lists.create_list(owner=UserFactory(), name="   ")


def test_a_new_share_link_replaces_the_old_one():
    reading_list = lists.create_list(owner=UserFactory(), name="Mine", visibility="unlisted")
    old = reading_list.share_token

    lists.new_share_link(reading_list)

    reading_list.refresh_from_db()
    assert reading_list.share_token != old
    assert not lists.shared_with(UserFactory()).filter(share_token=old).exists()


# Items and Paper.save_count


def test_save_count_follows_adds_removes_and_list_deletes():
    owner = UserFactory()
    first = lists.create_list(owner=owner, name="First")
    second = lists.create_list(owner=owner, name="Second")
    a, b = PaperFactory(), PaperFactory()

    assert lists.add_paper(first, a) is True
    assert lists.add_paper(first, a) is False  # a double click counts once
    lists.add_paper(second, a)
    lists.add_paper(second, b)
    assert saves(a, b) == [2, 1]

    assert lists.remove_paper(first, a) is True
    assert lists.remove_paper(first, a) is False
    assert saves(a, b) == [1, 1]

    lists.delete_list(second)
    assert saves(a, b) == [0, 0]
    assert not ListItem.objects.exists()
    assert list(ReadingList.objects.all()) == [first]


def test_deleting_a_readers_account_releases_their_saves():
    from accounts.data import delete_account

    owner, other = UserFactory(), UserFactory()
    paper = PaperFactory()
    lists.create_list(owner=owner, name="One", papers=[paper])
    lists.create_list(owner=owner, name="Two", papers=[paper])
    lists.create_list(owner=other, name="Theirs", papers=[paper])

    delete_account(owner)

    assert saves(paper) == [1]
    assert list(ReadingList.objects.values_list("name", flat=True)) == ["Theirs"]


def test_a_new_list_with_a_taken_name_adds_nothing():
    owner = UserFactory()
    paper = PaperFactory()
    lists.create_list(owner=owner, name="Taken")

    with pytest.raises(lists.ListError):
        lists.create_list(owner=owner, name="taken", papers=[paper])

    assert saves(paper) == [0]
    assert not ListItem.objects.exists()


def test_new_items_go_to_the_end_and_can_be_moved():
    reading_list = lists.create_list(owner=UserFactory(), name="Order")
    a, b, c, d = (PaperFactory(title=title) for title in "ABCD")
    lists.add_papers(reading_list, [a, b, c, d])
    item = {paper.title: reading_list.items.get(paper=paper) for paper in (a, b, c, d)}

    assert lists.move_item(item["D"], to=1) == 1
    assert titles(reading_list) == ["D", "A", "B", "C"]
    assert lists.move_item(item["D"], to=3) == 3
    assert titles(reading_list) == ["A", "B", "D", "C"]
    assert lists.move_item(item["A"], to=99) == 4  # clamped to the end
    assert titles(reading_list) == ["B", "D", "C", "A"]

    lists.remove_paper(reading_list, b)
    lists.add_paper(reading_list, b)
    assert titles(reading_list) == ["D", "C", "A", "B"]


def test_note_and_status_are_kept_per_item():
    reading_list = lists.create_list(owner=UserFactory(), name="Notes")
    lists.add_paper(reading_list, PaperFactory())
    item = reading_list.items.get()

    lists.update_item(item, note="Read §3 first", status=ListItem.Status.READING)

    item.refresh_from_db()
    assert (item.note, item.status) == ("Read §3 first", "reading")


# Which lists hold which papers: for the save control on cards


def test_saved_lists_says_which_list_holds_each_paper_in_one_query():
    owner = UserFactory()
    papers = PaperFactory.create_batch(3)
    first = lists.create_list(owner=owner, name="First", papers=papers[:2])
    lists.create_list(owner=owner, name="Second", papers=papers[1:2])
    lists.create_list(owner=UserFactory(), name="Not theirs", papers=papers)

    with CaptureQueriesContext(connection) as queries:
        saved = lists.saved_lists(owner, papers)

    assert len(queries) == 1
    assert {rl.name: rl.held for rl in saved} == {
        "First": {papers[0].pk, papers[1].pk},
        "Second": {papers[1].pk},
    }
    assert saved.papers == {papers[0].pk, papers[1].pk}
    assert first.pk in {rl.pk for rl in saved}


def test_saved_lists_costs_a_visitor_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        saved = lists.saved_lists(AnonymousUser(), [PaperFactory.build(pk=1)])
    assert list(saved) == [] and saved.papers == set()


# Pages: my lists, the list page, the save control


def test_creating_a_list_from_my_lists(client):
    owner = UserFactory()
    client.force_login(owner)

    response = client.post(
        reverse("lists"), {"name": "Agents", "description": "", "visibility": "unlisted"}
    )

    reading_list = ReadingList.objects.get()
    assert response["Location"] == reverse("list", args=[reading_list.pk])
    assert (reading_list.owner, reading_list.visibility) == (owner, "unlisted")
    page = client.get(reverse("lists"))
    assert "Agents" in page.text and "0 papers" in page.text


def test_a_duplicate_list_name_gets_a_clear_message_and_changes_nothing(client):
    owner = UserFactory()
    lists.create_list(owner=owner, name="Agents")
    client.force_login(owner)
    before = snapshot()

    response = client.post(reverse("lists"), {"name": "agents", "visibility": "private"})

    assert response.status_code == 400
    assert "You already have a list named “agents”; choose another name." in response.text
    assert snapshot() == before


def test_renaming_to_a_duplicate_name_on_the_edit_page(client):
    owner = UserFactory()
    lists.create_list(owner=owner, name="Agents")
    reading_list = lists.create_list(owner=owner, name="Retrieval")
    client.force_login(owner)
    before = snapshot()

    response = client.post(
        reverse("list-edit", args=[reading_list.pk]),
        {"name": "AGENTS", "description": "new", "visibility": "public"},
    )

    assert response.status_code == 400
    assert "choose another name" in response.text
    assert snapshot() == before


def test_the_list_page_shows_items_in_order_with_notes_for_visitors(client):
    owner = UserFactory(name="Ada")
    reading_list = lists.create_list(owner=owner, name="Public picks", visibility="public")
    first, second = PaperFactory(title="First paper"), PaperFactory(title="Second paper")
    lists.add_papers(reading_list, [second, first])
    lists.update_item(reading_list.items.get(paper=first), note="Great <b>intro</b>", status="read")

    response = client.get(reverse("list", args=[reading_list.pk]))

    assert response.status_code == 200
    text = response.text
    assert text.index("Second paper") < text.index("First paper")
    assert "Great &lt;b&gt;intro&lt;/b&gt;" in text and "Read" in text
    assert "Kept by Ada" in text
    assert "<textarea" not in text  # no editing for visitors
    assert reverse("feed-list-atom", args=[reading_list.pk]) in text


def test_the_owner_edits_note_and_status_with_htmx_and_without(client):
    owner = UserFactory()
    reading_list = lists.create_list(owner=owner, name="Mine")
    lists.add_paper(reading_list, PaperFactory())
    item = reading_list.items.get()
    client.force_login(owner)
    url = reverse("list-item", args=[reading_list.pk, item.pk])

    fragment = client.post(url, {"status": "reading", "note": "Look at fig. 2"}, headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.strip().startswith('<form class="item-edit"')
    assert "Saved." in fragment.text
    item.refresh_from_db()
    assert (item.status, item.note) == ("reading", "Look at fig. 2")

    plain = client.post(url, {"status": "read", "note": ""})
    assert plain["Location"] == f"/lists/{reading_list.pk}/#item-{item.pk}"
    item.refresh_from_db()
    assert (item.status, item.note) == ("read", "")


def test_a_bad_status_or_an_overlong_note_changes_nothing(client):
    owner = UserFactory()
    reading_list = lists.create_list(owner=owner, name="Mine", papers=[PaperFactory()])
    item = reading_list.items.get()
    client.force_login(owner)
    url = reverse("list-item", args=[reading_list.pk, item.pk])
    before = snapshot()

    bad_status = client.post(url, {"status": "finished", "note": "x"}, headers=HTMX)
    too_long = client.post(url, {"status": "read", "note": "x" * 5001}, follow=True)

    assert "Nothing was changed: Select a valid choice." in bad_status.text
    assert "Nothing was changed: Ensure this value has at most 5000 characters" in too_long.text
    assert snapshot() == before


def test_moving_an_item_with_htmx_returns_the_reordered_items(client):
    owner = UserFactory()
    reading_list = lists.create_list(owner=owner, name="Mine")
    lists.add_papers(reading_list, [PaperFactory(title=t) for t in ("Alpha", "Beta", "Gamma")])
    gamma = reading_list.items.get(paper__title="Gamma")
    client.force_login(owner)
    url = reverse("list-item-move", args=[reading_list.pk, gamma.pk])

    fragment = client.post(url, {"to": "1", "page": "1"}, headers=HTMX)
    assert fragment.text.strip().startswith('<div id="items"')
    assert fragment.text.index("Gamma") < fragment.text.index("Alpha")
    assert titles(reading_list) == ["Gamma", "Alpha", "Beta"]

    plain = client.post(url, {"to": "2"})
    assert plain["Location"] == f"/lists/{reading_list.pk}/#item-{gamma.pk}"
    assert titles(reading_list) == ["Alpha", "Gamma", "Beta"]

    refused = client.post(url, {"to": "0"}, follow=True)
    assert "Nothing was changed" in refused.text
    assert titles(reading_list) == ["Alpha", "Gamma", "Beta"]


def test_removing_an_item_with_htmx_says_so(client):
    owner = UserFactory()
    paper = PaperFactory(title="Gone soon")
    reading_list = lists.create_list(owner=owner, name="Mine", papers=[paper])
    item = reading_list.items.get()
    client.force_login(owner)

    response = client.post(
        reverse("list-item-remove", args=[reading_list.pk, item.pk]), headers=HTMX
    )

    assert 'role="status"' in response.text and "Removed “Gone soon”" in response.text
    assert not ListItem.objects.exists()
    assert saves(paper) == [0]


def test_deleting_a_list_asks_first(client):
    owner = UserFactory()
    paper = PaperFactory()
    reading_list = lists.create_list(owner=owner, name="Old", papers=[paper])
    client.force_login(owner)
    url = reverse("list-delete", args=[reading_list.pk])

    confirm = client.get(url)
    assert "Delete “Old”?" in confirm.text and ReadingList.objects.exists()

    response = client.post(url, follow=True)
    assert "Deleted the list “Old”." in response.text
    assert not ReadingList.objects.exists() and saves(paper) == [0]


# The save control


def test_cards_show_which_of_the_readers_lists_hold_the_paper(client):
    owner = UserFactory()
    saved, unsaved = PaperFactory(title="Saved one"), PaperFactory(title="Unsaved one")
    holding = lists.create_list(owner=owner, name="Holding", papers=[saved])
    client.force_login(owner)

    text = client.get(reverse("latest")).text

    save_control = text[text.index(f'id="save-{saved.pk}"') :]
    save_control = save_control[: save_control.index("</details>")]
    assert "Saved<span" in save_control
    assert f'name="remove" value="{holding.pk}" aria-pressed="true"' in save_control
    other_control = text[text.index(f'id="save-{unsaved.pk}"') :]
    other_control = other_control[: other_control.index("</details>")]
    assert f'name="add" value="{holding.pk}" aria-pressed="false"' in other_control


def test_visitors_see_a_sign_in_link_instead(client):
    paper = PaperFactory()

    text = client.get(reverse("latest")).text

    assert f'/accounts/login/?next=/papers/{paper.pk}/"' in text
    assert 'Save<span class="visually-hidden"> to a reading list (sign in first)' in text


def test_the_paper_page_loads_the_save_control(client):
    owner = UserFactory()
    paper = PaperFactory()
    client.force_login(owner)

    page = client.get(paper.get_absolute_url()).text
    assert f'hx-get="/lists/save/{paper.pk}/"' in page

    fragment = client.get(
        reverse("save-paper", args=[paper.pk]),
        headers={**HTMX, "HX-Current-URL": f"http://testserver/papers/{paper.pk}/"},
    )
    assert fragment.text.strip().startswith('<details class="save"')
    assert f'name="next" value="http://testserver/papers/{paper.pk}/"' in fragment.text

    without_js = client.get(reverse("save-paper", args=[paper.pk]))
    assert "<h1>Save" in without_js.text and 'for="new-list-' in without_js.text


def test_saving_to_a_list_with_htmx_and_taking_it_back(client):
    owner = UserFactory()
    paper = PaperFactory()
    reading_list = lists.create_list(owner=owner, name="Later")
    client.force_login(owner)
    url = reverse("save-paper", args=[paper.pk])

    added = client.post(url, {"add": reading_list.pk}, headers=HTMX)
    assert added.text.strip().startswith('<details class="save"')
    assert "Saved to “Later”." in added.text and 'aria-pressed="true"' in added.text
    assert saves(paper) == [1]

    removed = client.post(url, {"remove": reading_list.pk}, headers=HTMX)
    assert "Removed from “Later”." in removed.text and 'aria-pressed="true"' not in removed.text
    assert saves(paper) == [0]


def test_saving_to_a_new_list_without_javascript_returns_to_the_page(client):
    owner = UserFactory()
    paper = PaperFactory()
    client.force_login(owner)

    response = client.post(
        reverse("save-paper", args=[paper.pk]), {"new_list": "Brand new", "next": "/latest/"}
    )

    assert response["Location"] == "/latest/"
    reading_list = ReadingList.objects.get(owner=owner)
    assert reading_list.name == "Brand new" and list(reading_list.papers.all()) == [paper]
    assert saves(paper) == [1]


@pytest.mark.parametrize("field", ["add", "remove"])
def test_another_readers_list_in_the_save_form_is_refused(client, field):
    paper = PaperFactory()
    theirs = lists.create_list(owner=UserFactory(), name="Theirs", papers=[paper])
    client.force_login(UserFactory())
    before = snapshot()

    fragment = client.post(reverse("save-paper", args=[paper.pk]), {field: theirs.pk}, headers=HTMX)
    page = client.post(reverse("save-paper", args=[paper.pk]), {field: theirs.pk})

    assert "That is not one of your lists" in fragment.text
    assert page.status_code == 400 and "That is not one of your lists" in page.text
    assert "Theirs" not in fragment.text
    assert snapshot() == before


def test_a_duplicate_new_list_name_in_the_save_form(client):
    owner = UserFactory()
    paper = PaperFactory()
    lists.create_list(owner=owner, name="Later")
    client.force_login(owner)
    before = snapshot()

    response = client.post(
        reverse("save-paper", args=[paper.pk]), {"new_list": "LATER"}, headers=HTMX
    )

    assert "You already have a list named “LATER”; choose another name." in response.text
    assert snapshot() == before


def test_the_save_page_never_links_back_off_site(client):
    paper = PaperFactory()
    client.force_login(UserFactory())

    response = client.get(reverse("save-paper", args=[paper.pk]), {"next": "javascript:alert(1)"})

    assert "javascript:" not in response.text
    assert f'href="/papers/{paper.pk}/"' in response.text


# Import into a list


BIBTEX = rb"""
@article{known_by_arxiv,
  title = {Whatever the file calls it},
  author = {Someone Else},
  eprint = {2401.00001}, archivePrefix = {arXiv},
}
@article{known_by_doi, title = {Also renamed}, doi = {10.1000/XYZ.1}}
@inproceedings{known_by_title,
  title = {{Sparse} Experts at Scale},
  author = {Lovelace, Ada and Turing, Alan},
}
@misc{unknown, title = {A paper nobody imported}, eprint = {2501.99999}, archivePrefix = {arXiv}}
@article{broken, author = {No Title}}
"""


def test_importing_bibtex_adds_the_papers_it_finds_and_reports_the_rest(client):
    owner = UserFactory()
    by_arxiv = PaperFactory(arxiv_id="2401.00001")
    by_doi = PaperFactory(doi="10.1000/xyz.1")
    by_title = PaperFactory(title="Sparse experts at scale", author_names=["Ada Lovelace"])
    PaperFactory(title="Sparse experts at scale", author_names=["Grace Hopper"])  # not theirs
    reading_list = lists.create_list(owner=owner, name="Imported", papers=[by_doi])
    client.force_login(owner)
    upload = _upload("refs.bib", BIBTEX)

    response = client.post(reverse("list-import", args=[reading_list.pk]), {"file": upload})

    assert response.status_code == 200
    report = response.context["report"]
    assert report.added == [by_arxiv, by_title]
    assert report.already == [by_doi]
    assert [record.title for record in report.unmatched] == ["A paper nobody imported"]
    assert [error.position for error in report.unreadable] == ["entry 5 (broken, line 13)"]
    assert "A paper nobody imported" in response.text and "the entry has no title" in response.text
    assert titles(reading_list) == [by_doi.title, by_arxiv.title, by_title.title]
    assert saves(by_arxiv, by_doi, by_title) == [1, 1, 1]
    assert Paper.objects.count() == 4  # a list import never adds papers to the corpus


def test_importing_ris_goes_through_the_ris_parser(client):
    owner = UserFactory()
    paper = PaperFactory(arxiv_id="2401.00002")
    reading_list = lists.create_list(owner=owner, name="RIS")
    client.force_login(owner)
    ris = b"TY  - JOUR\r\nTI  - Anything\r\nUR  - https://arxiv.org/abs/2401.00002v3\r\nER  - \r\n"

    response = client.post(
        reverse("list-import", args=[reading_list.pk]), {"file": _upload("x.ris", ris)}
    )

    assert response.context["report"].added == [paper]


@pytest.mark.parametrize(
    ("name", "content", "fmt", "message"),
    [
        ("huge.bib", b"@misc{a, title={x}}\n" + b"%" * (10 * 1024 * 1024), "", "huge.bib is 10.0"),
        ("photo.bib", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "bibtex", "binary"),
        ("photo.bib", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "", "binary"),
        ("notes.bib", b"Just some notes, not references.", "", "neither BibTeX nor RIS"),
        (
            "feed.json",
            b'[{"title": "x", "paper": {"id": "2401.00001"}}]',
            "",
            "BibTeX (.bib) or RIS",
        ),
        ("empty.bib", b"", "", "The submitted file is empty"),
    ],
    ids=["10MB", "binary-as-bibtex", "binary", "not-references", "other-format", "empty"],
)
def test_a_bad_upload_gets_a_clear_message_and_changes_nothing(client, name, content, fmt, message):
    owner = UserFactory()
    reading_list = lists.create_list(owner=owner, name="Safe", papers=[PaperFactory()])
    client.force_login(owner)
    before = snapshot()

    response = client.post(
        reverse("list-import", args=[reading_list.pk]),
        {"file": _upload(name, content), "format": fmt},
    )

    assert response.status_code == 400
    assert message in response.text, response.context["form"].errors
    assert snapshot() == before


def test_a_list_import_reads_a_bounded_number_of_entries(monkeypatch):
    monkeypatch.setattr(lists, "IMPORT_MAX_ENTRIES", 2)
    papers = PaperFactory.create_batch(3)
    reading_list = lists.create_list(owner=UserFactory(), name="Bounded")
    entries = b"".join(
        b"@misc{k%d, title = {%s}, author = {Ada Lovelace}}\n" % (n, paper.title.encode())
        for n, paper in enumerate(papers)
    )
    report = lists.import_into_list(reading_list, bibtex.parse(entries))

    assert (report.added, report.skipped) == (papers[:2], 1)
    assert titles(reading_list) == [paper.title for paper in papers[:2]]


def _upload(name, content):
    return SimpleUploadedFile(name, content)


# Feeds of public lists


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_a_public_list_has_a_feed_newest_addition_first_with_notes(client, fmt):
    reading_list = lists.create_list(owner=UserFactory(), name="Picks", visibility="public")
    old = PaperFactory(title="Old paper", published_at=datetime.datetime(2017, 6, 1, tzinfo=UTC))
    new = PaperFactory(title="New paper")
    lists.add_papers(reading_list, [old])
    lists.add_papers(reading_list, [new])
    ListItem.objects.filter(paper=old).update(
        added_at=datetime.datetime(2024, 5, 1, tzinfo=UTC), note="Read <this>"
    )
    ListItem.objects.filter(paper=new).update(added_at=datetime.datetime(2024, 5, 2, tzinfo=UTC))

    response = client.get(reverse(f"feed-list-{fmt}", args=[reading_list.pk]))

    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    assert parsed.feed.title == "paperfeed — reading list: Picks"
    assert [entry.title for entry in parsed.entries] == ["New paper", "Old paper"]
    published = datetime.datetime(*parsed.entries[1].published_parsed[:6], tzinfo=UTC)
    assert published == datetime.datetime(2024, 5, 1, tzinfo=UTC)  # when it joined the list
    assert "Note: Read &lt;this&gt;" in parsed.entries[1].summary


# Query counts: the list page costs the same for 1 item and for 50


@pytest.mark.parametrize("viewer", ["owner", "visitor"])
def test_list_page_query_count_does_not_grow_with_items(client, django_assert_num_queries, viewer):
    owner = UserFactory()
    counts = {}
    for size in (1, 50):
        reading_list = lists.create_list(
            owner=owner,
            name=f"Size {size}",
            visibility="public",
            papers=PaperFactory.create_batch(size),
        )
        if viewer == "owner":
            client.force_login(owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("list", args=[reading_list.pk]))
        assert response.status_code == 200
        assert len(response.context["page"]) == size
        counts[size] = len(queries)

    # Session and user for the owner; then the list, the item count and the items.
    assert counts == {1: 5 if viewer == "owner" else 3, 50: 5 if viewer == "owner" else 3}


def test_my_lists_query_count_does_not_grow_with_lists(client):
    owner = UserFactory()
    client.force_login(owner)
    counts = []
    for total in (1, 50):
        while ReadingList.objects.filter(owner=owner).count() < total:
            lists.create_list(
                owner=owner, name=f"List {ReadingList.objects.count()}", papers=[PaperFactory()]
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("lists"))
        assert len(response.context["reading_lists"]) == total
        counts.append(len(queries))

    assert counts == [3, 3]
