"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for the tests."""

from __future__ import annotations

import email
import socket
from email.message import Message as EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """aiosmtpd's Controller cannot take port 0: pick a free port first."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Collects messages; `refuse` makes it answer every RCPT with that SMTP reply instead."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refuse: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.sink = Sink()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.sink.messages
