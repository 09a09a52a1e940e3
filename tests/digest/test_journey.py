"""A reader signs up on the site, gets their digest at their local hour from a real SMTP
server, gives a 👎 from the e-mail, and unsubscribes in one click."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Preferences
from digest import sending
from digest.dispatching import dispatch_due
from digest.models import Feedback
from tests.factories import PaperFactory, PaperTagFactory, TagFactory

UTC = dt.UTC
PASSWORD = "a long test password"
# Monday 2 March 2026, 10:00 UTC = 19:00 in Tokyo (UTC+9, no daylight saving).
SIGN_UP = dt.datetime(2026, 3, 2, 10, tzinfo=UTC)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link(message, path: str) -> str:
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", text_of(message))
    assert match, f"no {path} link in:\n{text_of(message)}"
    return match.group(1)


def paper(title, abstract, tag, seen):
    made = PaperFactory(title=title, abstract=abstract, first_seen_at=seen)
    PaperTagFactory(paper=made, tag=tag)
    return made


@pytest.mark.django_db
def test_sign_up_digest_at_the_local_hour_feedback_and_one_click_unsubscribe(client, smtp_server):
    retrieval = TagFactory(name="Retrieval", slug="retrieval")
    robotics = TagFactory(name="Robotics", slug="robotics")
    with time_machine.travel(SIGN_UP, tick=False) as clock:
        client.post(
            reverse("account_signup"),
            {
                "email": "kenji@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "time_zone": "Asia/Tokyo",
            },
        )
        [verification] = smtp_server.wait_for(1)
        client.post(link(verification, "/accounts/confirm-email/"))
        client.post(reverse("follow-tag", args=["retrieval"]), {"follow": "on"})
        client.post(
            reverse("preferences"),
            {
                "digest_frequency": "daily",
                "digest_weekday": 0,
                "digest_hour": 7,
                "time_zone": "Asia/Tokyo",
                "digest_size": 10,
            },
        )
        prefs = Preferences.objects.get(user__email="kenji@example.org")
        assert prefs.next_digest_at == dt.datetime(2026, 3, 2, 22, tzinfo=UTC)  # 07:00 Tokyo

        seen = SIGN_UP + dt.timedelta(hours=1)
        dense = paper(
            "Dense passage retrieval with hard negatives",
            "Dense retrievers trained with mined hard negative passages for open domain QA.",
            retrieval,
            seen,
        )
        sparse = paper(
            "Learned sparse retrieval for enterprise search",
            "Sparse lexical expansion models index enterprise documents for keyword search.",
            retrieval,
            seen,
        )
        paper("Quadruped locomotion", "Legged robots learn to walk in simulation.", robotics, seen)

        clock.move_to(dt.datetime(2026, 3, 2, 21, 55, tzinfo=UTC))  # 06:55 in Tokyo
        assert dispatch_due() == []
        clock.move_to(dt.datetime(2026, 3, 2, 22, 0, tzinfo=UTC))
        [digest_id] = dispatch_due()
        assert sending.send_digest(digest_id) == "sent"

    digest_mail = smtp_server.wait_for(2)[-1]
    assert digest_mail["To"] == "kenji@example.org"
    body = text_of(digest_mail)
    assert dense.title in body and sparse.title in body
    assert "you follow #Retrieval" in body
    assert digest_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The next morning they read it: 👎 on the dense-retrieval paper, from the e-mail, in the
    # browser they are signed in with (one click); then a paper like it and another come in.
    with time_machine.travel(dt.datetime(2026, 3, 3, 9, tzinfo=UTC), tick=False) as clock:
        entry = body[body.index(f"* {dense.title}") :]
        less = re.search(r"👎 Not interested:\s+https?://[^/\s]+(/\S+)", entry).group(1)
        client.get(less)
        assert list(Feedback.objects.values_list("paper", "value")) == [(dense.pk, -1)]
        twin = paper(
            "Dense passage retrieval with hard negatives, revisited",
            "Dense retrievers trained with mined hard negative passages for open domain QA, again.",
            retrieval,
            dt.datetime(2026, 3, 3, 9, tzinfo=UTC),
        )
        other = paper(
            "Late interaction retrieval at web scale",
            "Token level late interaction models for efficient passage ranking on the web.",
            retrieval,
            dt.datetime(2026, 3, 3, 9, tzinfo=UTC),
        )
        clock.move_to(dt.datetime(2026, 3, 3, 22, 0, tzinfo=UTC))
        [digest_id] = dispatch_due()
        sending.send_digest(digest_id)
    second = text_of(smtp_server.wait_for(3)[-1])
    assert f"* {dense.title}\n" not in second  # never sent twice
    assert other.title in second
    if twin.title in second:
        assert second.index(other.title) < second.index(twin.title)

    # One click in the mail client: a POST without cookies, as RFC 8058 describes.
    unsubscribe = re.search(r"<https?://[^/]+(/[^>]+)>", digest_mail["List-Unsubscribe"])
    response = Client().post(
        unsubscribe.group(1),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    prefs.refresh_from_db()
    assert (prefs.digest_frequency, prefs.next_digest_at) == ("off", None)
