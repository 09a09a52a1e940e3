import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.urls import resolve

from digest import links
from digest.links import BadLink
from tests.factories import DigestFactory, PaperFactory, UserFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def token_of(url: str) -> str:
    assert url.startswith(settings.SITE_URL + "/")
    return resolve(url.removeprefix(settings.SITE_URL)).kwargs["token"]


@pytest.fixture
def reader():
    return UserFactory()


@pytest.fixture
def paper():
    return PaperFactory()


@pytest.mark.parametrize("action", ["more", "less", "save"])
def test_action_link_round_trip(reader, paper, action):
    url = links.action_url(user=reader, paper=paper, action=action)

    assert resolve(url.removeprefix(settings.SITE_URL)).view_name == "digest:act"
    assert links.read_action(token_of(url)) == (reader, paper, action)


def test_unsubscribe_and_web_copy_round_trip(reader):
    digest = DigestFactory(user=reader)
    unsubscribe = links.unsubscribe_url(user=reader)
    web_copy = links.web_copy_url(digest=digest)

    assert resolve(unsubscribe.removeprefix(settings.SITE_URL)).view_name == "digest:unsubscribe"
    assert resolve(web_copy.removeprefix(settings.SITE_URL)).view_name == "digest:web-copy"
    assert links.read_unsubscribe(token_of(unsubscribe)) == reader
    found = links.read_web_copy(token_of(web_copy))
    assert found == digest
    assert found.user == reader


def test_tokens_are_compact(reader, paper):
    # Long links get wrapped or cut by mail programs.
    assert len(token_of(links.action_url(user=reader, paper=paper, action="save"))) < 70


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature
        lambda token: "9" + token,  # another reader
        lambda token: token.replace(".m.", ".s.", 1),  # another action
        lambda token: token.rsplit(".", 1)[0],  # cut short
        lambda token: "",
        lambda token: "not-a-token",
    ],
)
def test_tampered_action_link_is_refused_as_forged(reader, paper, tamper):
    token = token_of(links.action_url(user=reader, paper=paper, action="more"))

    with pytest.raises(BadLink) as problem:
        links.read_action(tamper(token))

    assert not problem.value.expired
    assert "not one paperfeed made" in problem.value.message


def test_action_and_web_copy_links_expire_after_the_configured_days(reader, paper, settings):
    settings.DIGEST_LINK_DAYS = 30
    with time_machine.travel(START, tick=False):
        action = token_of(links.action_url(user=reader, paper=paper, action="less"))
        web_copy = token_of(links.web_copy_url(digest=DigestFactory(user=reader)))

    with time_machine.travel(START + dt.timedelta(days=29), tick=False):
        assert links.read_action(action)[2] == "less"
        assert links.read_web_copy(web_copy).user == reader

    with time_machine.travel(START + dt.timedelta(days=31), tick=False):
        for read, token in [(links.read_action, action), (links.read_web_copy, web_copy)]:
            with pytest.raises(BadLink) as problem:
                read(token)
            assert problem.value.expired
            assert "has expired" in problem.value.message
            assert "30 days" in problem.value.message


def test_unsubscribe_links_outlive_feedback_links_by_far(reader, settings):
    settings.DIGEST_LINK_DAYS = 30
    with time_machine.travel(START, tick=False):
        token = token_of(links.unsubscribe_url(user=reader))

    with time_machine.travel(START + dt.timedelta(days=300), tick=False):
        assert links.read_unsubscribe(token) == reader

    with time_machine.travel(START + dt.timedelta(days=400), tick=False):
        with pytest.raises(BadLink) as problem:
            links.read_unsubscribe(token)
        assert problem.value.expired


def test_a_token_of_one_kind_is_worthless_as_another(reader, paper):
    digest = DigestFactory(user=reader)
    unsubscribe = token_of(links.unsubscribe_url(user=reader))
    web_copy = token_of(links.web_copy_url(digest=digest))
    action = token_of(links.action_url(user=reader, paper=paper, action="more"))

    for read, token in [
        (links.read_unsubscribe, web_copy),
        (links.read_unsubscribe, action),
        (links.read_web_copy, unsubscribe),
        (links.read_web_copy, action),
        (links.read_action, unsubscribe),
        (links.read_action, web_copy),
    ]:
        with pytest.raises(BadLink) as problem:
            read(token)
        assert not problem.value.expired


def test_web_copy_token_of_the_same_id_does_not_unsubscribe(reader):
    # Both values are a bare id, so only the salt tells the two kinds apart.
    digest = DigestFactory(user=reader, pk=reader.pk)
    web_copy = token_of(links.web_copy_url(digest=digest))
    assert web_copy.split(".")[0] == str(reader.pk)

    with pytest.raises(BadLink):
        links.read_unsubscribe(web_copy)


def test_links_to_a_deleted_paper_or_reader_are_bad(reader, paper):
    action = token_of(links.action_url(user=reader, paper=paper, action="save"))
    paper.delete()

    with pytest.raises(BadLink) as problem:
        links.read_action(action)
    assert "no longer on paperfeed" in problem.value.message
    assert not problem.value.expired

    unsubscribe = token_of(links.unsubscribe_url(user=reader))
    web_copy = token_of(links.web_copy_url(digest=DigestFactory(user=reader)))
    reader.delete()
    with pytest.raises(BadLink, match="deleted"):
        links.read_unsubscribe(unsubscribe)
    with pytest.raises(BadLink, match="no longer kept"):
        links.read_web_copy(web_copy)


def test_changing_the_secret_key_invalidates_links(reader, settings):
    token = token_of(links.unsubscribe_url(user=reader))
    settings.SECRET_KEY = "another secret key, long enough for the test to mean something"

    with pytest.raises(BadLink):
        links.read_unsubscribe(token)
