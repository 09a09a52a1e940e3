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

That commit waits for the disk, which takes longer than making and writing a message,
so digests go out in groups of up to DIGEST_SMTP_CONNECTIONS, each on a connection of
its own (a worker keeps that many open):
every message of the group is written but for its last line, one commit records them
all as `sending`, then their last lines go out one after another. (The instant above
becomes those few writes.) Each command goes to every connection of the group before
an answer is read, and the next group's messages are made before this group's final
answers are read: the server works meanwhile, instead of the two taking turns. The
digests the server took are recorded as sent once per batch, in a commit that does not
wait for the disk: should the worker stop before it, or a database crash lose it, they
are left `sending`, which recovery records as sent, as they are.

A server's refusal is read from its reply code: 4xx is transient (retried with backoff
until DIGEST_MAX_ATTEMPTS), 5xx for the recipient is a bounce, and DIGEST_BOUNCE_LIMIT
bounces in a row pause the reader's digests until they save their settings again.
"""

import dataclasses
import datetime as dt
import smtplib
import socket
import time
from email.utils import make_msgid
from smtplib import quoteaddr

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Preferences
from digest.building import preview_for
from digest.emails import DigestMail, as_bytes, digest_message
from digest.models import Digest, DigestItem

# An idle connection is checked with NOOP before reuse: servers close quiet ones.
IDLE_CHECK_SECONDS = 20


class TransientError(Exception):
    """Worth trying again later: the server was busy, or the connection failed."""


class Outbox:
    """SMTP connections, numbered, each reused for many messages and renewed after
    DIGEST_MESSAGES_PER_CONNECTION (servers cap messages per connection)."""

    def __init__(self):
        self.open: dict[int, _Connection] = {}

    def connection(self, number: int = 0):
        """The open SMTP connection `number`, or None when mail goes to a non-SMTP
        backend (the console in development)."""
        return self.open.setdefault(number, _Connection()).connection()

    def delivered(self, number: int) -> None:
        self.open[number].sent += 1

    def drop(self, number: int) -> None:
        """Close the socket without QUIT: mid-DATA, the server discards the unfinished
        message (a QUIT there would be read as part of it)."""
        self.open[number].drop()

    def close(self):
        for each in self.open.values():
            each.close()


class _Connection:
    """One SMTP connection of an Outbox."""

    def __init__(self):
        self.backend = None
        self.sent = 0
        self.last_used = 0.0

    def connection(self):
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
        if self.backend is not None:
            self.backend.connection.close()
            self.backend = None


# Each worker process keeps its connections between tasks.
outbox = Outbox()


def send_digest(digest_id: int, *, via: Outbox | None = None) -> str | None:
    """Send one pending digest; its status afterwards, or None when it was not ours to
    send (gone, sent already, or leased by another worker). Raises TransientError
    when trying again later may succeed."""
    claimed = _claim([digest_id])
    if not claimed:
        return None
    outgoing = {digest_id: _Outgoing(digest_message(claimed[0]))}
    group = _hand_over(claimed, outgoing, via=via or outbox)
    [(status, error)] = _settle(group).values()
    _record_sent(group.delivered)
    if status == _RETRY:
        raise TransientError(error)
    return status


@dataclasses.dataclass
class Outcome:
    counts: dict[str, int]
    retry: list[int]

    def add(self, results: dict[int, tuple[str | None, str]]) -> None:
        for pk, (status, _) in results.items():
            status = status or "not ours"
            if status == _RETRY:
                self.retry.append(pk)
            self.counts[status] = self.counts.get(status, 0) + 1


def send_batch(digest_ids: list[int], *, via: Outbox | None = None) -> Outcome:
    """Send the digests of a batch, their e-mails read together, a group of
    DIGEST_SMTP_CONNECTIONS at a time; how many ended in each status, and the ids worth trying again
    (transient errors)."""
    via = via or outbox
    claimed = _claim(digest_ids)
    mail = DigestMail(claimed)
    group_size = settings.DIGEST_SMTP_CONNECTIONS
    outcome = Outcome(counts={"not ours": len(set(digest_ids)) - len(claimed)}, retry=[])
    delivered: list[Digest] = []
    unsettled: _Group | None = None
    try:
        for start in range(0, len(claimed), group_size):
            digests = claimed[start : start + group_size]
            # Made while the server still reads the group before: the two take turns
            # otherwise, each waiting while the other works.
            outgoing = {digest.pk: _Outgoing(mail.message(digest)) for digest in digests}
            if unsettled:
                group, unsettled = unsettled, None
                outcome.add(_settle(group))
                delivered += group.delivered
            unsettled = _hand_over(digests, outgoing, via=via)
    finally:
        # Whatever happened, the last group's answers are read: left on the
        # connections, they would be taken for the answers to the next commands.
        if unsettled:
            outcome.add(_settle(unsettled))
            delivered += unsettled.delivered
        # Once for the batch: should the worker stop before, they are `sending`, which
        # recovery records as sent.
        _record_sent(delivered)
    return outcome


_RETRY = "retry"


@dataclasses.dataclass
class _Group:
    """Digests handed over together, the server's answers still to read."""

    digests: list[Digest]
    settled: dict[int, tuple[str, str]]  # those given up on before delivery
    delivery: "_Delivery"
    # Those the server took, once settled: to be recorded as sent (_record_sent).
    delivered: list[Digest] = dataclasses.field(default_factory=list)


def _hand_over(digests: list[Digest], outgoing: dict, *, via: Outbox) -> _Group:
    """Start delivering claimed digests (at most DIGEST_SMTP_CONNECTIONS, their _Outgoing messages
    by id), up to their final lines' going out."""
    settled, due = {}, {}
    for digest in digests:
        if digest.attempts > settings.DIGEST_MAX_ATTEMPTS:
            error = f"Gave up after {digest.attempts - 1} tries."
            _finish(digest, Digest.Status.FAILED, error=error)
            settled[digest.pk] = (Digest.Status.FAILED, error)
        else:
            due[digest.pk] = digest
    delivery = _start(
        via,
        {pk: outgoing[pk] for pk in due},
        point_of_no_return=lambda pks: _mark_sending([due[pk] for pk in pks]),
    )
    return _Group(digests, settled, delivery)


def _settle(group: _Group) -> dict[int, tuple[str | None, str]]:
    """Read the server's answers and record what became of each digest, but for those
    the server took (group.delivered, for the caller to record as sent); by digest id,
    the status it ended in ("retry" after a transient error, None when it was not
    ours after all) and the error."""
    results: dict[int, tuple[str | None, str]] = dict(group.settled)
    by_id = {digest.pk: digest for digest in group.digests}
    for pk, failure in _answers(group.delivery).items():
        digest = by_id[pk]
        if failure is None:
            group.delivered.append(digest)
            results[pk] = (Digest.Status.SENT, "")
        elif isinstance(failure, _Refused) and failure.code >= 500:
            _bounce(digest, failure)
            results[pk] = (Digest.Status.FAILED, str(failure))
        elif isinstance(failure, _Refused):
            _release(digest, str(failure))
            results[pk] = (_RETRY, str(failure))
        elif isinstance(failure, _Interrupted):
            # The message may be the server's: recorded as sent, never sent again.
            error = f"Delivery not confirmed: {failure}"
            _finish(digest, Digest.Status.SENT, error=error)
            results[pk] = (Digest.Status.SENT, error)
        elif isinstance(failure, _LeaseLost):
            results[pk] = (None, "")
        else:
            error = f"Connection failed: {failure}"
            _release(digest, error)
            results[pk] = (_RETRY, error)
    return {digest.pk: results[digest.pk] for digest in group.digests}


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


def _mark_sending(digests: list[Digest]) -> set[int]:
    """Record the digests as `sending`, committed; the ids of those still ours.

    Only while the lease is still ours: a worker that stalled past it must not send a
    digest that another worker may have taken meanwhile. One statement, committed by
    itself: all are marked or, should it fail, none; and which are ours comes back
    with it, in one round trip (the ORM's update() returns only a count)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Digest._meta.db_table} SET status = %s"
            " WHERE status = %s AND (id, leased_until) IN"
            " (SELECT * FROM unnest(%s::bigint[], %s::timestamptz[]))"
            " RETURNING id",
            [
                Digest.Status.SENDING,
                Digest.Status.PENDING,
                [digest.pk for digest in digests],
                [digest.leased_until for digest in digests],
            ],
        )
        return {pk for (pk,) in cursor.fetchall()}


def _record_sent(digests: list[Digest]) -> None:
    if not digests:
        return
    with transaction.atomic():
        # Not waiting for the disk is safe here, and only here (see the module's
        # docstring): losing this leaves the digests `sending`, settled as sent.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        Digest.objects.filter(pk__in=[digest.pk for digest in digests]).update(
            status=Digest.Status.SENT, sent_at=timezone.now(), leased_until=None, error=""
        )
        # A delivery ends a run of bounces. (A missing Preferences row raises an
        # AttributeError, which getattr turns into None.)
        bounced = [
            digest.user_id
            for digest in digests
            if getattr(digest.user, "preferences", None) and digest.user.preferences.bounces
        ]
        if bounced:
            Preferences.objects.filter(user_id__in=bounced).update(bounces=0)


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


@dataclasses.dataclass
class _Delivery:
    """Messages handed over, some of them with the server's answer still to read."""

    via: Outbox
    done: dict  # by key: None once the server took the message, else what stopped it
    awaiting: dict  # by key: the _Transfer whose final line went out


def _start(via: Outbox, messages: dict, *, point_of_no_return) -> _Delivery:
    """Write `messages` (_Outgoing, by key), each over a connection of its own, but for
    their final lines; those go out once `point_of_no_return(keys)` has recorded the
    ones written whole and returned those still ours to send. What became of each is
    for _answers to tell."""
    delivery = _Delivery(via, done={}, awaiting={})
    transfers: dict[object, _Transfer] = {}
    try:
        for number, (key, outgoing) in enumerate(messages.items()):
            try:
                smtp = via.connection(number)
                if smtp is None:
                    # Another backend: nothing to hold back, and no connection to spare.
                    delivery.done[key] = _send_elsewhere(key, outgoing.message, point_of_no_return)
                    continue
                smtp.ehlo_or_helo_if_needed()
                transfers[key] = _Transfer(number, smtp, outgoing)
            except (smtplib.SMTPException, OSError) as error:
                via.drop(number)
                delivery.done[key] = error
        _write(via, transfers, delivery.done)
        ours = point_of_no_return(list(transfers)) if transfers else set()
    except BaseException:
        # Left open mid-DATA, a connection would take the next message into this one
        # (or, mid-command, the next answers for those of its commands).
        for transfer in transfers.values():
            via.drop(transfer.number)
        raise
    for key, transfer in transfers.items():
        if key not in ours:
            via.drop(transfer.number)
            delivery.done[key] = _LeaseLost()
            continue
        try:
            transfer.smtp.send(b".\r\n")
        except (smtplib.SMTPException, OSError) as error:
            via.drop(transfer.number)
            delivery.done[key] = _Interrupted(str(error))
        else:
            delivery.awaiting[key] = transfer
    return delivery


def _write(via: Outbox, transfers: dict, done: dict) -> None:
    """Send the transfers' commands, then their messages but for the final lines; a
    transfer refused, or whose connection failed, leaves `transfers` for `done`.

    Each command goes to every connection before an answer is read, and every message
    is written before any is ended: the server answers or reads one while the next
    comes, instead of the two taking turns."""

    def failed(key, error):
        via.drop(transfers.pop(key).number)
        done[key] = error

    while commanding := [key for key, transfer in transfers.items() if transfer.commands]:
        for key in commanding:
            try:
                transfers[key].smtp.putcmd(*transfers[key].commands[0][:2])
            except (smtplib.SMTPException, OSError) as error:
                failed(key, error)
        for key in [key for key in commanding if key in transfers]:
            transfer = transfers[key]
            try:
                code, reply = transfer.smtp.getreply()
            except (smtplib.SMTPException, OSError) as error:
                failed(key, error)
                continue
            _, _, codes, recipient = transfer.commands.pop(0)
            if code not in codes:
                del transfers[key]
                done[key] = _Refused(code, reply.decode(errors="replace"), recipient)
                _reset(via, transfer)
    for key in list(transfers):
        try:
            transfers[key].smtp.send(transfers[key].body)
        except (smtplib.SMTPException, OSError) as error:
            failed(key, error)


def _answers(delivery: _Delivery) -> dict:
    """By key, what became of each message of `delivery`: None once the server took
    it, else what stopped it (_Refused, _Interrupted, _LeaseLost, or the error of a
    failed connection)."""
    results = dict(delivery.done)
    for key, transfer in delivery.awaiting.items():
        try:
            code, reply = transfer.smtp.getreply()
        except (smtplib.SMTPException, OSError) as error:
            delivery.via.drop(transfer.number)
            results[key] = _Interrupted(str(error))
            continue
        delivery.via.delivered(transfer.number)
        results[key] = None
        if code != 250:
            results[key] = _Refused(code, reply.decode(errors="replace"), recipient=True)
            _reset(delivery.via, transfer)
    return results


class _Outgoing:
    """An e-mail as it goes over SMTP: its commands (each with the answers that let it
    go on, and whether a refusal is the recipient's) and its text, dot-stuffed (RFC
    5321 4.5.2)."""

    def __init__(self, message):
        encoding = message.encoding or settings.DEFAULT_CHARSET
        self.message = message
        self.commands = (
            ("mail", f"FROM:{quoteaddr(_envelope(message.from_email, encoding))}", (250,), False),
            *(
                ("rcpt", f"TO:{quoteaddr(_envelope(address, encoding))}", (250, 251), True)
                for address in message.recipients()
            ),
            ("data", "", (354,), False),
        )
        body = as_bytes(message).replace(b"\n.", b"\n..")
        if body.startswith(b"."):
            body = b"." + body
        self.body = body if body.endswith(b"\r\n") else body + b"\r\n"


class _Transfer:
    """An _Outgoing e-mail on its way over connection `number`."""

    def __init__(self, number: int, smtp, outgoing: _Outgoing):
        self.number, self.smtp, self.body = number, smtp, outgoing.body
        self.commands = list(outgoing.commands)  # those still to send


def _send_elsewhere(key, message, point_of_no_return):
    if key not in point_of_no_return([key]):
        return _LeaseLost()
    message.send()
    return None


def _envelope(address: str, encoding: str) -> str:
    # smtplib takes an ASCII address out of "Name <address>" itself; Django's
    # sanitize_address, needed for the others, parses at length (0.2 ms an address).
    return address if address.isascii() else sanitize_address(address, encoding)


def _reset(via: Outbox, transfer: _Transfer) -> None:
    try:
        transfer.smtp.rset()
    except (smtplib.SMTPException, OSError):
        via.drop(transfer.number)
