"""A real SMTP server for tests: aiosmtpd on a free local port, keeping what it receives."""
from __future__ import annotations

import contextlib
import email

from aiosmtpd.controller import Controller

from tests.helpers.ports import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@contextlib.contextmanager
def smtp_server():
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
