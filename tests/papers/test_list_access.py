"""Who may read and who may change a reading list: the whole matrix.

Readers: a visitor, the owner, another reader, and staff (a superuser, who on the site's
pages is a reader like any other). Lists: private, unlisted, public. Reads and writes.
A refused read is a 404 (a private list does not exist for anyone else); a refused write
changes nothing at all, which `snapshot()` compares in full.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from papers import lists
from papers.models import ListItem, Paper, ReadingList
from tests.factories import PaperFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTORS = ["visitor", "owner", "other", "staff"]
VISIBILITIES = ["private", "unlisted", "public"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Everyone here signs in with force_login, so no password is ever checked: hashing
    # them the slow, secure way would only cost seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def snapshot():
    return (
        list(ReadingList.objects.order_by("pk").values()),
        list(ListItem.objects.order_by("pk").values()),
        list(Paper.objects.order_by("pk").values_list("pk", "save_count")),
    )


@pytest.fixture
def world():
    owner = UserFactory()
    people = {
        "visitor": None,
        "owner": owner,
        "other": UserFactory(),
        "staff": UserFactory(is_staff=True, is_superuser=True),
    }
    held = [PaperFactory(title="Held one"), PaperFactory(title="Held two")]
    loose = PaperFactory(title="Not in the list", arxiv_id="2402.00042")
    return {"people": people, "held": held, "loose": loose, "owner": owner}


def make_list(world, visibility):
    reading_list = lists.create_list(
        owner=world["owner"], name="Watched", visibility=visibility, papers=world["held"]
    )
    reading_list.items.filter(paper=world["held"][0]).update(note="A private thought")
    return reading_list


def client_for(world, actor, **kwargs):
    client = Client(**kwargs)
    if world["people"][actor] is not None:
        client.force_login(world["people"][actor])
    return client


# Reads

READS = {
    "page": lambda rl: reverse("list", args=[rl.pk]),
    "shared-page": lambda rl: reverse("list-shared", args=[rl.share_token]),
    "export-bib": lambda rl: reverse("list-export", args=[rl.pk, "bib"]),
    "export-ris": lambda rl: reverse("list-export", args=[rl.pk, "ris"]),
    "export-csv": lambda rl: reverse("list-export", args=[rl.pk, "csv"]),
    "shared-export": lambda rl: reverse("list-shared-export", args=[rl.share_token, "bib"]),
    "feed-rss": lambda rl: reverse("feed-list-rss", args=[rl.pk]),
    "feed-atom": lambda rl: reverse("feed-list-atom", args=[rl.pk]),
}


def may_read(actor, visibility, read):
    if read.startswith("feed"):
        # Feeds live in feed readers and other sites: public lists only, even for the owner.
        return visibility == "public"
    if actor == "owner":
        return True
    if read.startswith("shared"):
        return visibility != "private"
    # By id: unlisted lists are not found that way, only by their secret link.
    return visibility == "public"


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("actor", ACTORS)
def test_read(world, actor, visibility, read):
    reading_list = make_list(world, visibility)

    response = client_for(world, actor).get(READS[read](reading_list))

    if may_read(actor, visibility, read):
        assert response.status_code == 200
        assert b"Held one" in response.content
    else:
        assert response.status_code == 404
        assert b"Held one" not in response.content
        assert b"A private thought" not in response.content
        assert b"Watched" not in response.content


@pytest.mark.parametrize("actor", ACTORS)
def test_my_lists_shows_only_the_readers_own(world, actor):
    make_list(world, "public")

    response = client_for(world, actor).get(reverse("lists"))

    if actor == "visitor":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 200
        assert ("Watched" in response.text) == (actor == "owner")


@pytest.mark.parametrize("actor", ["other", "staff"])
def test_other_readers_save_menus_never_offer_the_owners_lists(world, actor):
    reading_list = make_list(world, "public")

    text = client_for(world, actor).get(reverse("latest")).text

    assert 'class="save"' in text
    assert f'value="{reading_list.pk}"' not in text and "Watched" not in text


# Writes


def _bibtex(paper):
    content = (
        f"@misc{{x, title={{{paper.title}}}, eprint={{{paper.arxiv_id}}}, archivePrefix={{arXiv}}}}"
    )
    return SimpleUploadedFile("refs.bib", content.encode())


def _item(rl, world, n=0):
    return rl.items.get(paper=world["held"][n])


WRITES = {
    "edit": lambda rl, w: (
        reverse("list-edit", args=[rl.pk]),
        {"name": "Renamed", "description": "", "visibility": "public"},
    ),
    "share": lambda rl, w: (reverse("list-share", args=[rl.pk]), {}),
    "delete": lambda rl, w: (reverse("list-delete", args=[rl.pk]), {}),
    "import": lambda rl, w: (reverse("list-import", args=[rl.pk]), {"file": _bibtex(w["loose"])}),
    "item-edit": lambda rl, w: (
        reverse("list-item", args=[rl.pk, _item(rl, w).pk]),
        {"status": "read", "note": "Overwritten"},
    ),
    "item-move": lambda rl, w: (
        reverse("list-item-move", args=[rl.pk, _item(rl, w).pk]),
        {"to": "2"},
    ),
    "item-remove": lambda rl, w: (
        reverse("list-item-remove", args=[rl.pk, _item(rl, w).pk]),
        {},
    ),
    "save-add": lambda rl, w: (reverse("save-paper", args=[w["loose"].pk]), {"add": rl.pk}),
    "save-remove": lambda rl, w: (
        reverse("save-paper", args=[w["held"][0].pk]),
        {"remove": rl.pk},
    ),
}
# How each write refuses a reader who is not the owner: a URL naming another reader's
# list is not found; a form naming one is invalid, with a message.
REFUSED_WITH = {"save-add": 400, "save-remove": 400}


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("actor", ACTORS)
def test_write(world, actor, visibility, write, htmx):
    reading_list = make_list(world, visibility)
    url, data = WRITES[write](reading_list, world)
    before = snapshot()
    headers = {"HX-Request": "true"} if htmx else {}

    response = client_for(world, actor).post(url, data, headers=headers)

    if actor == "owner":
        assert response.status_code in (200, 302), response.content[:300]
        assert snapshot() != before
        return
    assert snapshot() == before
    if actor == "visitor":
        login = "/accounts/login/"
        if htmx:
            assert response.status_code == 200 and login in response["HX-Redirect"]
        else:
            assert response.status_code == 302 and login in response["Location"]
    elif write in REFUSED_WITH:
        assert response.status_code == (200 if htmx else REFUSED_WITH[write])
        assert "That is not one of your lists" in response.text
        assert "Watched" not in response.text
    else:
        assert response.status_code == 404
        assert b"Watched" not in response.content


@pytest.mark.parametrize("write", ["item-edit", "item-move", "item-remove"])
def test_an_item_of_another_readers_list_under_ones_own_list_is_not_found(world, write):
    theirs = make_list(world, "public")
    intruder = UserFactory()
    mine = lists.create_list(owner=intruder, name="Mine")
    url, data = WRITES[write](theirs, world)
    url = url.replace(f"/lists/{theirs.pk}/", f"/lists/{mine.pk}/")
    client = Client()
    client.force_login(intruder)
    before = snapshot()

    response = client.post(url, data)

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("write", [*WRITES, "create"])
def test_every_write_needs_the_csrf_token(world, write):
    reading_list = make_list(world, "public")
    if write == "create":
        url, data = reverse("lists"), {"name": "New", "visibility": "private"}
    else:
        url, data = WRITES[write](reading_list, world)
    client = client_for(world, "owner", enforce_csrf_checks=True)
    before = snapshot()

    response = client.post(url, data)

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("write", ["edit", "share", "delete", "item-edit", "item-move", "save-add"])
def test_writes_refuse_get(world, write):
    reading_list = make_list(world, "public")
    url, _ = WRITES[write](reading_list, world)
    before = snapshot()

    response = client_for(world, "owner").get(url)

    # A GET shows a form or a confirmation, or is not allowed; it never writes.
    assert response.status_code in (200, 405)
    assert snapshot() == before
