"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for the tests."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from email.message import Message as EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """aiosmtpd's Controller cannot take port 0: pick a free port first."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Collects messages; `refuse` makes it answer every RCPT with that SMTP reply instead, and
    `refuse_to` the RCPT of the addresses it names.

    `pause(at, after=n)` stops the conversation at one point once n messages have been kept, so a
    test can kill a sender there, whatever the machine's speed: at "RCPT" (before DATA), "DATA"
    (the message received, the server's reply not yet given), "MAIL" (the next message begun,
    so the server has replied to the one before) or "QUIT". The conversation waits until
    `release()`; a message waiting at DATA is then turned away (421) and not kept, as a server
    does that never got to answer."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.arrivals: list[float] = []  # time.monotonic() of each kept message
        self.refuse: str | None = None
        self.refuse_to: dict[str, str] = {}  # address -> the reply its RCPT gets
        self.pause_at: str | None = None
        self.pause_after = 0
        self.paused = threading.Event()
        self._gate = threading.Event()

    def pause(self, at: str, *, after: int) -> None:
        self.pause_at, self.pause_after = at, after
        self.paused.clear()
        self._gate.clear()

    async def _hold(self, command: str) -> bool:
        """Wait here if this is the pause point; True if the conversation waited."""
        if self.pause_at != command or len(self.messages) < self.pause_after:
            return False
        if self._gate.is_set():
            return False
        self.paused.set()
        await asyncio.get_running_loop().run_in_executor(None, self._gate.wait)
        return True

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if await self._hold("MAIL"):
            return "421 Service not available, closing transmission channel"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if await self._hold("RCPT"):
            return "421 Service not available, closing transmission channel"
        if self.refuse or address in self.refuse_to:
            return self.refuse or self.refuse_to[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if await self._hold("DATA"):
            return "421 Service not available, closing transmission channel"
        self.messages.append(email.message_from_bytes(envelope.content))
        self.arrivals.append(time.monotonic())
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        await self._hold("QUIT")
        return "221 Bye"

    def release(self) -> None:
        """Go on; a message waiting at DATA is turned away."""
        self.pause_at = None
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
