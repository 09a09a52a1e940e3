"""A real SMTP server for tests that send mail: aiosmtpd on a free local port."""

import asyncio
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """Every message the server accepted, parsed, in arrival order."""

    def __init__(self):
        self.messages = []
        self.connections = set()  # the client (host, port) of each connection a message came on
        # Tests set these to make the server refuse, or keep a client waiting.
        self.refuse = {}  # recipient address -> the reply to RCPT, e.g. "550 5.1.1 unknown"
        self.hold = None  # (n, seconds): the n-th message's "250 OK" comes that much later
        self.holding = threading.Event()  # set when the wait starts
        self.released = threading.Event()  # and this when it ends
        self._arrived = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self.connections.add(session.peer)
            count = len(self.messages)
            self._arrived.notify_all()
        if self.hold and self.hold[0] == count:
            self.holding.set()
            await asyncio.sleep(self.hold[1])
            self.released.set()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10):
        """Block until `count` messages have arrived; the messages so far either way."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """Start a local SMTP server and point Django's mail at it; yields its Mailbox."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield mailbox
    finally:
        controller.stop()
