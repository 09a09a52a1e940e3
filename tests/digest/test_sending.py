"""Sending over a real SMTP server (aiosmtpd): once per digest, retries, bounces, reuse."""

import datetime as dt
import re

import pytest
from django.db import OperationalError
from django.utils import timezone

from accounts.models import Preferences
from accounts.preferences import preferences_of, set_digest_settings
from digest import sending
from digest.emails import digest_message, digest_messages
from digest.models import Digest, DigestItem
from tests.factories import PaperFactory, UserFactory


def pending_digest(user=None, *, papers=2, period="2026-11-27"):
    user = user or UserFactory()
    preferences_of(user)
    now = timezone.now()
    digest = Digest.objects.create(user=user, period=period, scheduled_for=now, since=now)
    for position, paper in enumerate(PaperFactory.create_batch(papers), start=1):
        DigestItem.objects.create(
            digest=digest,
            paper=paper,
            position=position,
            score=1.0,
            section="More new papers",
            reason="trending on paperfeed",
        )
    return digest


def deliver(outbox, messages, *, point_of_no_return):
    """What became of each message (by key), handed over as the sender does."""
    outgoing = {key: sending._Outgoing(message) for key, message in messages.items()}
    return sending._answers(sending._start(outbox, outgoing, point_of_no_return=point_of_no_return))


@pytest.fixture
def outbox():
    box = sending.Outbox()
    yield box
    box.close()


@pytest.mark.django_db
def test_a_digest_is_sent_once_however_often_its_task_runs(smtp_server, outbox):
    digest = pending_digest()

    assert sending.send_digest(digest.pk, via=outbox) == Digest.Status.SENT
    assert sending.send_digest(digest.pk, via=outbox) is None

    digest.refresh_from_db()
    assert (digest.status, digest.attempts, digest.leased_until) == ("sent", 1, None)
    assert digest.sent_at is not None
    [message] = smtp_server.wait_for(1)
    assert message["To"] == digest.user.email
    assert message["Message-ID"] == digest.message_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.django_db
def test_what_arrives_is_the_message_made_dots_and_all(smtp_server, outbox):
    digest = pending_digest(UserFactory(email="zoë@example.org"), papers=0)
    paper = PaperFactory(title="Über dots\n.a line that starts with one\n..and two")
    DigestItem.objects.create(
        digest=digest, paper=paper, position=1, score=1.0, section="Ümlauts", reason="r"
    )
    made = digest_message(Digest.objects.get(pk=digest.pk))

    assert sending.send_digest(digest.pk, via=outbox) == Digest.Status.SENT

    [received] = smtp_server.wait_for(1)
    assert received["Subject"] == made.subject
    assert received["To"] == "zoë@example.org"
    text, html = (part.get_content().replace("\r\n", "\n") for part in received.iter_parts())
    assert "\n.a line that starts with one\n..and two\n" in text
    # The links are signed anew each time (their timestamp and signature differ); the
    # rest is the same.
    unsigned = re.compile(r"\.\w+\.[\w-]{43}/")
    assert unsigned.sub("", text) == unsigned.sub("", made.body)
    assert unsigned.sub("", html) == unsigned.sub("", made.alternatives[0].content)


@pytest.mark.django_db
def test_skipped_and_leased_digests_are_not_sent(smtp_server, outbox):
    skipped = pending_digest()
    Digest.objects.filter(pk=skipped.pk).update(status=Digest.Status.SKIPPED)
    leased = pending_digest()
    later = timezone.now() + dt.timedelta(minutes=5)
    Digest.objects.filter(pk=leased.pk).update(leased_until=later)

    assert sending.send_digest(skipped.pk, via=outbox) is None
    assert sending.send_digest(leased.pk, via=outbox) is None
    assert sending.send_digest(987654, via=outbox) is None
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_many_digests_share_one_connection_until_the_per_connection_cap(
    smtp_server, outbox, settings
):
    settings.DIGEST_MESSAGES_PER_CONNECTION = 4
    digests = [pending_digest(papers=1) for _ in range(10)]

    for digest in digests:
        sending.send_digest(digest.pk, via=outbox)

    assert len(smtp_server.wait_for(10)) == 10
    assert len(smtp_server.connections) == 3  # 4 + 4 + 2


@pytest.mark.django_db
def test_a_busy_server_means_a_retry_later_and_nothing_lost(smtp_server, outbox):
    digest = pending_digest()
    smtp_server.refuse[digest.user.email] = "451 4.3.0 Try again later"

    with pytest.raises(sending.TransientError, match="451"):
        sending.send_digest(digest.pk, via=outbox)

    digest.refresh_from_db()
    assert (digest.status, digest.leased_until) == ("pending", None)
    assert "451" in digest.error
    del smtp_server.refuse[digest.user.email]
    assert sending.send_digest(digest.pk, via=outbox) == Digest.Status.SENT
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.django_db
def test_a_digest_that_keeps_failing_is_given_up_after_the_last_attempt(
    smtp_server, outbox, settings
):
    settings.DIGEST_MAX_ATTEMPTS = 2
    digest = pending_digest()
    smtp_server.refuse[digest.user.email] = "421 4.7.0 Too busy"

    for _ in range(2):
        with pytest.raises(sending.TransientError):
            sending.send_digest(digest.pk, via=outbox)
    assert sending.send_digest(digest.pk, via=outbox) == Digest.Status.FAILED

    digest.refresh_from_db()
    assert digest.status == "failed"
    assert digest.error == "Gave up after 2 tries."


@pytest.mark.django_db
def test_repeated_bounces_pause_the_readers_digests_until_they_save_settings(
    smtp_server, outbox, settings
):
    settings.DIGEST_BOUNCE_LIMIT = 2
    user = UserFactory(email="gone@example.org")
    smtp_server.refuse["gone@example.org"] = "550 5.1.1 No such user"
    first = pending_digest(user, period="2026-11-26")
    second = pending_digest(user, period="2026-11-27")

    assert sending.send_digest(first.pk, via=outbox) == Digest.Status.FAILED
    prefs = Preferences.objects.get(user=user)
    assert (prefs.bounces, prefs.paused_reason) == (1, "")
    assert sending.send_digest(second.pk, via=outbox) == Digest.Status.FAILED

    prefs.refresh_from_db()
    assert prefs.bounces == 2
    assert prefs.next_digest_at is None
    assert "550 5.1.1 No such user" in prefs.paused_reason
    first.refresh_from_db()
    assert first.error == "550 5.1.1 No such user"

    set_digest_settings(prefs, digest_frequency="daily")
    prefs.refresh_from_db()
    assert (prefs.bounces, prefs.paused_reason) == (0, "")
    assert prefs.next_digest_at is not None


@pytest.mark.django_db
def test_a_delivery_clears_the_bounce_count(smtp_server, outbox):
    digest = pending_digest()
    Preferences.objects.filter(user=digest.user).update(bounces=2)

    sending.send_digest(digest.pk, via=outbox)

    assert Preferences.objects.get(user=digest.user).bounces == 0


@pytest.mark.django_db
def test_a_worker_that_stopped_is_settled_by_the_next_dispatch():
    now = timezone.now()
    handed_over = pending_digest()
    Digest.objects.filter(pk=handed_over.pk).update(
        status=Digest.Status.SENDING, leased_until=now - dt.timedelta(seconds=1)
    )
    lease_ran_out = pending_digest()
    Digest.objects.filter(pk=lease_ran_out.pk).update(leased_until=now - dt.timedelta(seconds=1))
    never_started = pending_digest()
    Digest.objects.filter(pk=never_started.pk).update(created_at=now - dt.timedelta(hours=1))
    just_queued = pending_digest()
    still_sending = pending_digest()
    Digest.objects.filter(pk=still_sending.pk).update(
        status=Digest.Status.SENDING, leased_until=now + dt.timedelta(minutes=4)
    )

    again = sending.recover_stalled(now=now)

    assert sorted(again) == sorted([lease_ran_out.pk, never_started.pk])
    handed_over.refresh_from_db()
    assert handed_over.status == "sent"
    assert handed_over.error.startswith("Delivery not confirmed")
    just_queued.refresh_from_db()
    still_sending.refresh_from_db()
    assert (just_queued.status, still_sending.status) == ("pending", "sending")


@pytest.mark.django_db
def test_a_worker_whose_lease_was_taken_drops_that_message_unfinished(smtp_server, outbox):
    taken, kept = pending_digest(), pending_digest()
    claimed = {digest.pk: digest for digest in sending._claim([taken.pk, kept.pk])}

    def another_worker_takes_one(pks):
        # As if this worker stalled past its lease and another claimed one digest.
        Digest.objects.filter(pk=taken.pk).update(leased_until=timezone.now())
        return sending._mark_sending([claimed[pk] for pk in pks])

    results = deliver(
        outbox,
        digest_messages(list(claimed.values())),
        point_of_no_return=another_worker_takes_one,
    )

    assert isinstance(results[taken.pk], sending._LeaseLost)
    assert results[kept.pk] is None
    assert [m["To"] for m in smtp_server.wait_for(2, timeout=1)] == [kept.user.email]
    taken.refresh_from_db()
    assert taken.status == "pending"


@pytest.mark.django_db
def test_a_failure_before_the_last_line_leaves_no_message_half_written(smtp_server, outbox):
    first, second = pending_digest(), pending_digest()
    claimed = sending._claim([first.pk])

    def database_fails(pks):
        raise OperationalError("the database went away")

    with pytest.raises(OperationalError):
        deliver(outbox, digest_messages(claimed), point_of_no_return=database_fails)
    # The worker goes on over the same outbox: the unfinished message must not take in
    # the next one.
    assert sending.send_digest(second.pk, via=outbox) == Digest.Status.SENT

    assert [m["To"] for m in smtp_server.wait_for(2, timeout=1)] == [second.user.email]
    first.refresh_from_db()
    assert first.status == "pending"


@pytest.mark.django_db
def test_a_batch_is_handed_over_a_group_at_a_time_each_message_on_its_own_connection(
    smtp_server, outbox, settings
):
    settings.DIGEST_SMTP_CONNECTIONS = 3
    digests = [pending_digest(papers=1) for _ in range(3 + 2)]

    outcome = sending.send_batch([d.pk for d in digests], via=outbox)

    assert outcome.counts == {"not ours": 0, "sent": len(digests)}
    received = smtp_server.wait_for(len(digests))
    assert sorted(m["To"] for m in received) == sorted(d.user.email for d in digests)
    # Kept open for the next batch, not one per message.
    assert len(smtp_server.connections) == 3
    assert set(Digest.objects.values_list("status", "leased_until", "error")) == {
        ("sent", None, "")
    }


@pytest.mark.django_db
def test_without_an_smtp_server_configured_digests_go_to_the_mail_backend(mailoutbox):
    digest = pending_digest()

    assert sending.send_digest(digest.pk, via=sending.Outbox()) == Digest.Status.SENT

    assert [m.to for m in mailoutbox] == [[digest.user.email]]


@pytest.mark.django_db
def test_a_batch_is_read_together_and_reports_what_became_of_each(
    smtp_server, outbox, django_assert_num_queries
):
    digests = [pending_digest(papers=3) for _ in range(5)]
    smtp_server.refuse[digests[1].user.email] = "452 4.2.2 Mailbox full"
    Digest.objects.filter(pk=digests[2].pk).update(status=Digest.Status.SENT)

    # Per batch: claim (a transaction: two queries and the savepoint's two in a test, and
    # the reading of the claimed), read the e-mails (two), record the sent (a transaction:
    # two and the savepoint's two); per group of DIGEST_SMTP_CONNECTIONS: mark sending
    # (one); per refusal: release (one).
    with django_assert_num_queries(5 + 2 + 4 + 1 + 1):
        outcome = sending.send_batch([d.pk for d in digests], via=outbox)

    assert outcome.counts == {"not ours": 1, "sent": 3, "retry": 1}
    assert outcome.retry == [digests[1].pk]
    assert len(smtp_server.wait_for(3)) == 3
