import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import resolve

from accounts.preferences import preferences_of
from digest import links
from digest.emails import digest_message
from digest.models import Digest, DigestItem
from papers.models import PaperTag
from tests.factories import (
    DigestFactory,
    DigestItemFactory,
    PaperFactory,
    PaperTagFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# 23:30 in UTC is already the 27th in Berlin: the subject shows the reader's day.
SCHEDULED = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def reader():
    user = UserFactory(email="ada@example.org")
    preferences = preferences_of(user)
    preferences.time_zone = "Europe/Berlin"
    preferences.digest_frequency = "daily"
    preferences.save()
    return user


def make_digest(reader, sections=("Retrieval", "Agents", "Retrieval")) -> Digest:
    digest = DigestFactory(user=reader, scheduled_for=SCHEDULED, period="2026-11-27")
    for position, section in enumerate(sections, start=1):
        DigestItemFactory(
            digest=digest,
            position=position,
            section=section,
            reason=f"you follow #{section.lower()}",
            paper=PaperFactory(title=f"Paper {position} on {section}"),
        )
    # As the sender reads it: nothing cached on it.
    return Digest.objects.get(pk=digest.pk)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


def hrefs_of(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def html_of(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def test_subject_names_the_readers_day_the_count_and_the_topics(reader):
    message = digest_message(make_digest(reader))

    assert message.subject == "paperfeed digest · 27 Nov: 3 new papers on Retrieval, Agents"
    assert message.to == ["ada@example.org"]


def test_subject_with_many_topics_and_one_paper(reader):
    many = digest_message(make_digest(reader, sections=("A", "B", "C", "D")))
    assert many.subject.endswith("4 new papers on A, B, C and more")

    other = UserFactory()
    one = digest_message(make_digest(other, sections=("Retrieval",)))
    assert one.subject == "paperfeed digest · 26 Nov: 1 new paper on Retrieval"


def test_headers_identify_the_digest_and_offer_one_click_unsubscribe(reader):
    digest = make_digest(reader)

    headers = digest_message(digest).extra_headers

    assert headers["Message-ID"] == digest.message_id
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{settings.SITE_URL}/unsubscribe/")
    token = resolve(unsubscribe[1:-1].removeprefix(settings.SITE_URL)).kwargs["token"]
    assert links.read_unsubscribe(token) == reader
    assert headers["List-Id"] == f"paperfeed digest <digest.{settings.MESSAGE_ID_DOMAIN}>"


def test_sections_follow_the_first_appearance_of_each_topic(reader):
    message = digest_message(make_digest(reader))

    text = message.body
    assert text.index("== Retrieval ==") < text.index("Paper 1 on Retrieval")
    assert text.index("Paper 1 on Retrieval") < text.index("Paper 3 on Retrieval")
    assert text.index("Paper 3 on Retrieval") < text.index("== Agents ==")
    assert text.index("== Agents ==") < text.index("Paper 2 on Agents")
    assert text.count("== ") == 2

    html = html_of(message)
    headings = re.findall(r"<h2[^>]*>([^<]*)</h2>", html)
    assert headings == ["Retrieval", "Agents"]
    titles = re.findall(r"<h3[^>]*><a[^>]*>([^<]*)</a></h3>", html)
    assert titles == ["Paper 1 on Retrieval", "Paper 3 on Retrieval", "Paper 2 on Agents"]


def test_each_paper_shows_authors_snippet_tags_reason_and_its_links(reader):
    digest = DigestFactory(user=reader, scheduled_for=SCHEDULED)
    paper = PaperFactory(
        title="Retrieval <b>augmented</b> generation & friends",
        author_names=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
        abstract=("We ask whether retrieval helps. " * 20).strip(),
    )
    PaperTagFactory(paper=paper, tag=TagFactory(name="RAG", slug="rag"))
    PaperTagFactory(
        paper=paper,
        tag=TagFactory(name="Wrong tag", slug="wrong-tag"),
        status=PaperTag.Status.REJECTED,
    )
    DigestItemFactory(digest=digest, paper=paper, section="Retrieval", reason="you follow #rag")

    message = digest_message(digest)
    text, html = message.body, html_of(message)

    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in text
    assert "Edsger" not in text
    snippet = re.search(r"\n  (We ask[^\n]*)\n", text).group(1)
    assert len(snippet) <= 222
    assert snippet.endswith(" …")
    kept = snippet.removesuffix(" …")
    assert paper.abstract.startswith(kept)
    assert paper.abstract[len(kept)] == " "  # cut between words
    assert "Tags: RAG\n" in text
    assert "Wrong tag" not in text
    assert "Wrong tag" not in html
    assert "Why: you follow #rag" in text
    assert f"{settings.SITE_URL}/papers/{paper.pk}/\n" in text

    # Everything a paper brings is escaped in the HTML part, and left alone in the text.
    assert "Retrieval &lt;b&gt;augmented&lt;/b&gt; generation &amp; friends" in html
    assert "<b>augmented" not in html
    assert "Retrieval <b>augmented</b> generation & friends" in text

    actions = {}
    for href in hrefs_of(html):
        path = href.removeprefix(settings.SITE_URL)
        if resolve(path).view_name == "digest:act":
            _, found, action = links.read_action(resolve(path).kwargs["token"])
            assert found == paper
            actions[action] = href
    assert set(actions) == {"more", "less", "save"}
    for href in actions.values():
        assert f"\n  {href}\n" in text  # each link on a line of its own
    for words in ["👍 More like this", "👎 Not interested", "Save to my list"]:
        assert words in html
        assert words in text


def test_html_part_is_ready_for_dark_mode_and_keeps_its_styles_inline(reader):
    html = html_of(digest_message(make_digest(reader)))

    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html
    # The <style> block only enhances: every element it restyles carries its own style.
    for match in re.finditer(r"<(\w+)[^>]*class=\"pf-[^\"]*\"[^>]*>", html):
        if match.group(1) != "body":
            assert "style=" in match.group(0), match.group(0)


def test_web_copy_and_footer_links_are_there(reader):
    digest = make_digest(reader)
    message = digest_message(digest)
    text, html = message.body, html_of(message)

    web_copy = links.web_copy_url(digest=digest)
    # Made in the same second, so the same token.
    assert html.index(web_copy) < html.index("Paper 1 on Retrieval")
    assert text.index(web_copy) < text.index("Paper 1 on Retrieval")
    for url in [
        f"{settings.SITE_URL}/me/preferences/",
        f"{settings.SITE_URL}/digests/",
        links.unsubscribe_url(user=reader),
    ]:
        assert url in hrefs_of(html)
        assert f"\n{url}\n" in text


def test_every_link_of_the_message_opens_a_working_page(client, reader):
    message = digest_message(make_digest(reader))
    client.force_login(reader)

    hrefs = set(hrefs_of(html_of(message)))
    assert hrefs == set(re.findall(r"^\s*(https?://\S+)$", message.body, re.MULTILINE))
    assert len(hrefs) == 3 * 4 + 4  # per paper: itself and 3 actions; web copy; footer
    for href in sorted(hrefs):
        assert href.startswith(settings.SITE_URL + "/")
        response = client.get(href.removeprefix(settings.SITE_URL))
        assert response.status_code == 200, href


def test_an_address_only_subscriber_is_offered_a_full_account(client):
    subscriber = UserFactory(password=None)
    subscriber.set_unusable_password()
    subscriber.save()

    message = digest_message(make_digest(subscriber))

    offer = f"{settings.SITE_URL}/accounts/password/reset/"
    assert offer in hrefs_of(html_of(message))
    assert f"\n{offer}\n" in message.body
    assert "Set a password for" in message.body
    assert "your digest stays" in message.body
    assert client.get(offer.removeprefix(settings.SITE_URL)).status_code == 200


def test_a_reader_with_a_password_is_not_offered_an_account(reader):
    message = digest_message(make_digest(reader))

    assert "/accounts/password/reset/" not in message.body
    assert "/accounts/password/reset/" not in html_of(message)
    assert "Set a password" not in message.body


@pytest.mark.parametrize("count", [1, 20])
def test_rendering_takes_a_fixed_number_of_queries(reader, count, django_assert_num_queries):
    digest = make_digest(reader, sections=[f"Topic {n % 4}" for n in range(count)])
    for item in digest.items.all():
        PaperTagFactory(paper=item.paper)
        PaperTagFactory(paper=item.paper)
    digest = Digest.objects.get(pk=digest.pk)

    # The items (with the reader's settings), their tags, the reader.
    with django_assert_num_queries(3):
        message = digest_message(digest)

    assert message.body.count("Why: ") == count
    # The sender selects the reader along with the digest: one query fewer.
    with_reader = Digest.objects.select_related("user").get(pk=digest.pk)
    with django_assert_num_queries(2):
        digest_message(with_reader)


def test_a_test_digest_renders_from_unsaved_items(reader):
    paper = PaperFactory(title="Not yet sent")
    PaperTagFactory(paper=paper, tag=TagFactory(name="RAG", slug="rag"))
    digest = Digest(user=reader, period="test", scheduled_for=SCHEDULED, since=SCHEDULED)
    items = [DigestItem(digest=digest, paper=paper, position=1, score=1, section="S", reason="r")]

    message = digest_message(digest, items=items)

    assert "Not yet sent" in message.body
    assert "Tags: RAG" in message.body
    assert "/d/view/" not in message.body
    assert "View in browser" not in html_of(message)


def test_a_reader_without_preferences_gets_dates_in_utc():
    message = digest_message(make_digest(UserFactory()))

    assert " · 26 Nov:" in message.subject
    assert "You get this digest because" in html_of(message)


def test_the_message_arrives_whole_over_smtp(reader, smtp_server):
    digest = make_digest(reader)

    assert digest_message(digest).send() == 1

    (received,) = smtp_server.wait_for(1)
    assert received.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part for part in received.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "Paper 2 on Agents" in parts["text/plain"].get_content()
    assert "Paper 2 on Agents" in parts["text/html"].get_content()
    assert received["Message-ID"] == digest.message_id
    assert received["To"] == "ada@example.org"
    # The encoded subject is folded onto a line of its own; unfolding leaves a space.
    subject = received["Subject"].strip()
    assert subject == "paperfeed digest · 27 Nov: 3 new papers on Retrieval, Agents"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Long headers are folded too (RFC 5322 allows it; readers unfold them).
    unsubscribe = received["List-Unsubscribe"].strip()
    assert unsubscribe == f"<{links.unsubscribe_url(user=reader)}>"
