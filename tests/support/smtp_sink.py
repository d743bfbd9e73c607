"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for the tests."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email.message import Message as EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """aiosmtpd's Controller cannot take port 0: pick a free port first."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Collects messages; `refuse` makes it answer every RCPT with that SMTP reply instead.

    `hold_after = n` keeps the (n+1)th and later messages waiting before their reply, unaccepted,
    until `release()`; then each waiting one is turned away (421) and not kept. A test can so
    stop a sender mid-batch at a known point, whatever the machine's speed."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refuse: str | None = None
        self.hold_after: int | None = None
        self.held = 0
        self._gate = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold_after is not None and len(self.messages) >= self.hold_after:
            if not self._gate.is_set():
                self.held += 1
                await asyncio.get_running_loop().run_in_executor(None, self._gate.wait)
                return "421 Service not available, closing transmission channel"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def release(self) -> None:
        """Accept again; the messages held until now are turned away."""
        self.hold_after = None
        self._gate.set()


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
        self.sink.release()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.sink.messages
