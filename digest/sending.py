"""Sending digests: each one delivered once, over connections reused across messages.

A digest goes pending → sending → sent, or → failed. A worker first takes a pending
digest's lease (a conditional UPDATE), so two workers, or a task delivered twice, never
both send it. The rest turns on the moment SMTP makes a message the server's: the line
"." that ends DATA. The whole message is written except that line; then the digest is
recorded as `sending` (committed); then the line goes out and the answer is read.

- A worker that dies before that commit leaves the server an unfinished message, which
  it drops with the connection; the digest is still pending, its lease runs out and the
  dispatcher queues it again (`recover_stalled`). The reader gets it once.
- A worker that dies after the commit leaves a `sending` digest, which
  `recover_stalled` records as sent, unconfirmed, and never sends again. Usually the
  server had it; it did not only if the worker died in the microseconds between the
  commit and writing one line to a socket that is already open.

So a reader can lose a digest only in that CPU-only instant and is never sent one twice.
Sending the line first and committing after would turn the choice around: a database
round trip during which a crash means a second copy. (Exactly once is impossible over
SMTP, RFC 1047; this places the unavoidable gap where it is narrowest.)

A server's refusal is read from its reply code: 4xx is transient (retried with backoff
until DIGEST_MAX_ATTEMPTS), 5xx for the recipient is a bounce, and DIGEST_BOUNCE_LIMIT
bounces in a row pause the reader's digests until they save their settings again.
"""

import dataclasses
import datetime as dt
import re
import smtplib
import socket
import time
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Preferences
from digest.building import preview_for
from digest.emails import digest_message, digest_messages
from digest.models import Digest, DigestItem

# An idle connection is checked with NOOP before reuse: servers close quiet ones.
IDLE_CHECK_SECONDS = 20


class TransientError(Exception):
    """Worth trying again later: the server was busy, or the connection failed."""


class Outbox:
    """One SMTP connection, reused for many messages and renewed after
    DIGEST_MESSAGES_PER_CONNECTION (servers cap messages per connection)."""

    def __init__(self):
        self.backend = None
        self.sent = 0
        self.last_used = 0.0

    def connection(self):
        """The open SMTP connection, or None when mail goes to a non-SMTP backend
        (the console in development)."""
        if self.backend is not None and not self._usable():
            self.close()
        if self.backend is None:
            backend = get_connection()
            if not isinstance(backend, SMTPBackend):
                return None
            backend.open()
            # The message and the line that ends it are two writes; without this, the
            # second waits for the server's delayed ACK of the first (~40 ms a message).
            backend.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.backend, self.sent = backend, 0
        self.last_used = time.monotonic()
        return self.backend.connection

    def _usable(self) -> bool:
        if self.sent >= settings.DIGEST_MESSAGES_PER_CONNECTION:
            return False
        if time.monotonic() - self.last_used < IDLE_CHECK_SECONDS:
            return True
        try:
            return self.backend.connection.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    def close(self):
        if self.backend is not None:
            try:
                self.backend.close()
            finally:
                self.backend = None

    def drop(self):
        """Close the socket without QUIT: mid-DATA, the server discards the unfinished
        message (a QUIT there would be read as part of it)."""
        if self.backend is not None:
            self.backend.connection.close()
            self.backend = None


# Each worker process keeps one connection between tasks.
outbox = Outbox()


def send_digest(digest_id: int, *, via: Outbox | None = None) -> str | None:
    """Send one pending digest; its status afterwards, or None when it was not ours to
    send (gone, sent already, or leased by another worker). Raises TransientError
    when trying again later may succeed."""
    claimed = _claim([digest_id])
    if not claimed:
        return None
    return _send(claimed[0], digest_message(claimed[0]), via=via or outbox)


@dataclasses.dataclass
class Outcome:
    counts: dict[str, int]
    retry: list[int]


def send_batch(digest_ids: list[int], *, via: Outbox | None = None) -> Outcome:
    """Send the digests of a batch over one connection, their e-mails read together;
    how many ended in each status, and the ids worth trying again (transient errors)."""
    claimed = _claim(digest_ids)
    messages = digest_messages(claimed)
    outcome = Outcome(counts={"not ours": len(set(digest_ids)) - len(claimed)}, retry=[])
    for digest in claimed:
        try:
            status = _send(digest, messages[digest.pk], via=via or outbox) or "not ours"
        except TransientError:
            outcome.retry.append(digest.pk)
            status = "retry"
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
    return outcome


def _send(digest: Digest, message, *, via: Outbox) -> str | None:
    if digest.attempts > settings.DIGEST_MAX_ATTEMPTS:
        _finish(digest, Digest.Status.FAILED, error=f"Gave up after {digest.attempts - 1} tries.")
        return Digest.Status.FAILED
    try:
        _deliver(via, message, point_of_no_return=lambda: _mark_sending(digest))
    except _Refused as refusal:
        if refusal.code >= 500:
            _bounce(digest, refusal)
            return Digest.Status.FAILED
        _release(digest, str(refusal))
        raise TransientError(str(refusal)) from refusal
    except _Interrupted as interrupted:
        # The message may be the server's: recorded as sent, never sent again.
        _finish(digest, Digest.Status.SENT, error=f"Delivery not confirmed: {interrupted}")
        return Digest.Status.SENT
    except _LeaseLost:
        return None
    except (smtplib.SMTPException, OSError) as error:
        via.drop()
        _release(digest, f"Connection failed: {error}")
        raise TransientError(str(error)) from error
    _finish(digest, Digest.Status.SENT)
    # (A missing row raises an AttributeError, which getattr turns into None.)
    if getattr(digest.user, "preferences", None) and digest.user.preferences.bounces:
        Preferences.objects.filter(user_id=digest.user_id).update(bounces=0)
    return Digest.Status.SENT


def recover_stalled(*, now: dt.datetime | None = None) -> list[int]:
    """Settle digests whose worker stopped: `sending` ones are recorded as sent
    (unconfirmed); pending ones whose lease ran out, or whose task never started, are
    returned to be queued again."""
    now = now or timezone.now()
    Digest.objects.filter(status=Digest.Status.SENDING, leased_until__lt=now).update(
        status=Digest.Status.SENT,
        sent_at=now,
        leased_until=None,
        error="Delivery not confirmed: the worker stopped while handing it over.",
    )
    lease = dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS)
    return list(
        Digest.objects.filter(status=Digest.Status.PENDING)
        .filter(Q(leased_until__lt=now) | Q(leased_until__isnull=True, created_at__lt=now - lease))
        .values_list("pk", flat=True)
    )


def send_test_digest(*, user) -> int:
    """Mail the reader what their next digest would hold now, recording nothing (the
    admin's "send a test digest to me"); how many papers it held."""
    preview = preview_for(user)
    if not preview:
        raise ValueError("Nothing to send: no new paper would go into your digest now.")
    now = timezone.now()
    digest = Digest(user=user, period="test", scheduled_for=now, since=now)
    items = [
        DigestItem(
            digest=digest,
            paper=item.paper,
            position=position,
            score=item.score,
            section=item.section,
            reason=item.reason,
        )
        for position, item in enumerate(preview, start=1)
    ]
    message = digest_message(digest, items=items)
    message.subject = f"[test] {message.subject}"
    message.extra_headers["Message-ID"] = make_msgid(domain=settings.MESSAGE_ID_DOMAIN)
    message.send()
    return len(items)


def _claim(digest_ids: list[int]) -> list[Digest]:
    """Lease the digests of `digest_ids` that are pending and not leased by a worker
    that is still within its lease; the claimed ones, with their readers."""
    now = timezone.now()
    with transaction.atomic():
        mine = list(
            Digest.objects.filter(pk__in=digest_ids, status=Digest.Status.PENDING)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Digest.objects.filter(pk__in=mine).update(
            leased_until=now + dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    return list(Digest.objects.filter(pk__in=mine).select_related("user__preferences"))


def _mark_sending(digest: Digest) -> None:
    # Only while the lease is still ours: a worker that stalled past it must not send a
    # digest that another worker may have taken meanwhile.
    if not Digest.objects.filter(
        pk=digest.pk, status=Digest.Status.PENDING, leased_until=digest.leased_until
    ).update(status=Digest.Status.SENDING):
        raise _LeaseLost


def _finish(digest: Digest, status: str, *, error: str = "") -> None:
    sent_at = timezone.now() if status == Digest.Status.SENT else None
    Digest.objects.filter(pk=digest.pk).update(
        status=status, sent_at=sent_at, leased_until=None, error=error
    )


def _release(digest: Digest, error: str) -> None:
    # Back to pending (a refused message was not delivered) for the retry to claim.
    Digest.objects.filter(pk=digest.pk).update(
        status=Digest.Status.PENDING, leased_until=None, error=error
    )


def _bounce(digest: Digest, refusal: "_Refused") -> None:
    _finish(digest, Digest.Status.FAILED, error=str(refusal))
    if not refusal.recipient:
        return  # our sender address was refused: not the reader's fault
    Preferences.objects.filter(user_id=digest.user_id).update(bounces=F("bounces") + 1)
    Preferences.objects.filter(
        user_id=digest.user_id, bounces__gte=settings.DIGEST_BOUNCE_LIMIT
    ).update(
        next_digest_at=None,
        paused_reason=(
            f"Paused after {settings.DIGEST_BOUNCE_LIMIT} digests in a row were refused by "
            f"your mail server (last: {refusal}). Save your digest settings to resume."
        )[:300],
    )


# Delivery over smtplib, with the final line of DATA held back until the caller has
# recorded that the message is on its way (smtplib's sendmail() cannot pause there).


@dataclasses.dataclass
class _Refused(Exception):
    code: int
    reply: str
    recipient: bool = False

    def __str__(self):
        return f"{self.code} {self.reply}"


class _Interrupted(Exception):
    """The connection failed after the message's final line was sent."""


class _LeaseLost(Exception):
    pass


_LINE_START_DOT = re.compile(rb"(?m)^\.")


def _deliver(via: Outbox, message, *, point_of_no_return) -> None:
    smtp = via.connection()
    if smtp is None:
        point_of_no_return()
        message.send()
        return
    encoding = message.encoding or settings.DEFAULT_CHARSET
    sender = sanitize_address(message.from_email, encoding)
    recipients = [sanitize_address(address, encoding) for address in message.recipients()]
    body = _LINE_START_DOT.sub(b"..", message.message().as_bytes(linesep="\r\n"))
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.ehlo_or_helo_if_needed()
    _expect(smtp, smtp.mail(sender), 250)
    for recipient in recipients:
        _expect(smtp, smtp.rcpt(recipient), 250, 251, recipient=True)
    _expect(smtp, smtp.docmd("DATA"), 354)
    smtp.send(body)
    try:
        point_of_no_return()
    except _LeaseLost:
        via.drop()
        raise
    try:
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
    except (smtplib.SMTPException, OSError) as error:
        via.drop()
        raise _Interrupted(str(error)) from error
    via.sent += 1
    if code != 250:
        smtp.rset()
        raise _Refused(code, reply.decode(errors="replace"), recipient=True)


def _expect(smtp, answer: tuple[int, bytes], *codes: int, recipient: bool = False) -> None:
    code, reply = answer
    if code not in codes:
        smtp.rset()
        raise _Refused(code, reply.decode(errors="replace"), recipient=recipient)
