import datetime as dt
import email
import email.policy
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.urls import resolve

from accounts.preferences import preferences_of
from digest import links
from digest.emails import as_bytes, digest_message
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

    # The items, their tags, the reader, the reader's settings.
    with django_assert_num_queries(4):
        message = digest_message(digest)

    assert message.body.count("Why: ") == count
    # The sender selects the reader and their settings along with the digest.
    with_reader = Digest.objects.select_related("user__preferences").get(pk=digest.pk)
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
    assert unsubscribe.startswith("<") and unsubscribe.endswith(">")
    token = resolve(unsubscribe[1:-1].removeprefix(settings.SITE_URL)).kwargs["token"]
    assert links.read_unsubscribe(token) == reader


# The bytes that go over SMTP, made by hand (digest.emails.as_bytes): read back with the
# email package, they must say what Django's own rendering of the message says.


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def head_of(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[0] + b"\r\n"


def folded(head: bytes) -> bool:
    """Whether each line of `head` is at most 78 characters, or a word too long to fold
    (a link) alone or after the header's name."""
    return all(len(line) <= 78 or len(line.split()) <= 2 for line in lines_of(head))


def lines_of(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    assert not any(b"\r" in line or b"\n" in line for line in lines), "a bare CR or LF"
    return lines


def assert_same_message(ours: bytes, djangos: bytes):
    mine, theirs = parsed(ours), parsed(djangos)
    assert list(mine.keys()) == list(theirs.keys())
    for name in mine:
        if name not in {"Date", "Content-Type"}:
            assert str(mine[name]).strip() == str(theirs[name]).strip(), name
    assert mine.get_content_type() == theirs.get_content_type() == "multipart/alternative"
    mine_parts, their_parts = list(mine.iter_parts()), list(theirs.iter_parts())
    assert [p.get_content_type() for p in mine_parts] == [p.get_content_type() for p in their_parts]
    for part, theirs_part in zip(mine_parts, their_parts, strict=True):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == theirs_part["Content-Transfer-Encoding"]
        assert part.get_content() == theirs_part.get_content()


def test_a_digests_bytes_say_what_djangos_rendering_says(reader):
    message = digest_message(make_digest(reader))

    data = as_bytes(message)

    assert_same_message(data, message.message().as_bytes(linesep="\r\n"))
    assert folded(head_of(data))
    received = parsed(data)
    assert received["Subject"] == "paperfeed digest · 27 Nov: 3 new papers on Retrieval, Agents"
    assert received["List-Unsubscribe"] == message.extra_headers["List-Unsubscribe"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # (The email package keeps the CRLFs of the parts it reads; Django's too.)
    text, html = (part.get_content().replace("\r\n", "\n") for part in received.iter_parts())
    assert text == message.body
    assert html == html_of(message)


def test_non_ascii_names_addresses_and_long_subjects_are_encoded(settings):
    settings.DEFAULT_FROM_EMAIL = "Bücherwurm Digest <digest@bücher.example>"
    subject = "Über 大規模言語モデル and retrieval-augmented generation: 12 new papers · " * 3
    message = EmailMultiAlternatives(
        subject=subject.strip(),
        body="Grüße\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=["Zoë Ärmel <zoe@example.org>"],
        headers={"Message-ID": "<m@example.org>"},
    )
    message.attach_alternative("<p>Grüße</p>\n", "text/html")

    data = as_bytes(message)

    assert data.isascii() is False  # the 8bit bodies
    assert head_of(data).isascii()
    assert folded(head_of(data))
    assert_same_message(data, message.message().as_bytes(linesep="\r\n"))
    received = parsed(data)
    assert received["Subject"] == subject.strip()
    assert received["From"].addresses[0].display_name == "Bücherwurm Digest"
    assert received["From"].addresses[0].domain == "xn--bcher-kva.example"
    assert received["To"].addresses[0].display_name == "Zoë Ärmel"


def test_a_line_too_long_for_smtp_is_quoted_printable_and_ascii_is_7bit():
    long_line = "<p>" + "ü" * 600 + "</p>\n"  # 1,207 bytes
    message = EmailMultiAlternatives(
        subject="Hi", body="Plain ASCII.\n", to=["a@example.org"], headers={"Message-ID": "<m@x>"}
    )
    message.attach_alternative(long_line + ".starts with a dot\nFrom here\r\nend\rx", "text/html")

    data = as_bytes(message)

    assert max(len(line) for line in lines_of(data)) <= 78
    assert_same_message(data, message.message().as_bytes(linesep="\r\n"))
    text, html = parsed(data).iter_parts()
    assert text["Content-Transfer-Encoding"] == "7bit"
    assert html["Content-Transfer-Encoding"] == "quoted-printable"
    assert html.get_content().replace("\r\n", "\n") == (
        long_line + ".starts with a dot\nFrom here\nend\nx"
    )


def test_a_line_break_in_a_header_is_refused():
    message = EmailMultiAlternatives(
        subject="Hi\nBcc: everyone@example.org", body="x\n", to=["a@example.org"]
    )
    message.attach_alternative("<p>x</p>", "text/html")

    with pytest.raises(BadHeaderError):
        as_bytes(message)


def test_other_messages_are_left_to_django():
    message = EmailMultiAlternatives(subject="Hi", body="x\n", to=["a@example.org"])
    message.attach("notes.txt", "some notes", "text/plain")

    assert parsed(as_bytes(message)).get_content_type() == "multipart/mixed"


def test_a_paper_in_several_digests_carries_each_readers_own_reason_and_links(reader):
    paper = PaperFactory(title="Shared <paper>")
    other = UserFactory()
    digests = []
    for user, reason in [(reader, 'you searched "<rag>" & more'), (other, "trending")]:
        digest = DigestFactory(user=user, scheduled_for=SCHEDULED)
        DigestItemFactory(digest=digest, paper=paper, section="S", reason=reason)
        digests.append(digest)

    first, second = (digest_message(Digest.objects.get(pk=d.pk)) for d in digests)

    assert 'Why: you searched "<rag>" & more\n' in first.body
    assert "you searched &quot;&lt;rag&gt;&quot; &amp; more" in html_of(first)
    assert "Why: trending\n" in second.body
    assert "Shared &lt;paper&gt;" in html_of(second)
    for message, user in [(first, reader), (second, other)]:
        for url in hrefs_of(html_of(message)):
            path = url.removeprefix(settings.SITE_URL)
            if resolve(path).view_name == "digest:act":
                assert links.read_action(resolve(path).kwargs["token"])[0] == user
                assert f"\n  {url}\n" in message.body


def test_an_edited_paper_shows_as_it_is_now(reader):
    digest = make_digest(reader, sections=("S",))
    assert "Paper 1 on S" in digest_message(digest).body
    paper = digest.items.get().paper
    paper.title = "A better title"
    paper.save()

    message = digest_message(Digest.objects.get(pk=digest.pk))

    assert "A better title" in message.body
    assert "A better title" in html_of(message)
