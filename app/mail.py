"""Outgoing mail: SMTP when HUDDLE_SMTP_URL is set, otherwise an outbox folder of .eml files.
Bodies are plain-text templates (templates/mail/), rendered by body().

Sending happens in the background so a request's answer (and its timing) never depends on
whether a message was sent, or on the mail server being up."""
from __future__ import annotations

import asyncio
import logging
import secrets
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib
from quart import current_app

from app import clock

log = logging.getLogger("huddle.mail")
RETRY_DELAYS = (1, 5, 30)


async def body(template: str, **values) -> str:
    """A mail's text from templates/mail/<template>: plain text, nothing escaped, one final newline."""
    text = await current_app.jinja_env.get_template(f"mail/{template}").render_async(**values)
    return text.rstrip("\n") + "\n"


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """One message with the headers RFC 5322 requires (Date, From) and the Message-ID it asks
    for: mail servers mark a message without them as spam. Retries send this same message, so
    its Date is when it was written and its Message-ID stays one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message.set_content(body)
    return message


def _domain_of(sender: str) -> str:
    """The sender address's domain, for Message-IDs (filters like them to match From)."""
    domain = parseaddr(sender)[1].rpartition("@")[2].strip()
    return domain if domain and all(c.isalnum() or c in ".-" for c in domain) else "huddle.local"


class Mailer:
    def __init__(self, smtp_url: str, outbox: Path, sender: str, retry_delays=RETRY_DELAYS) -> None:
        self.smtp_url = smtp_url
        self.outbox = outbox
        self.sender = sender
        self.retry_delays = retry_delays
        self._tasks: set[asyncio.Task] = set()

    def run_later(self, work) -> None:
        """Run mail work in the background; errors are logged, never raised to the request."""
        task = asyncio.create_task(self._guard(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work) -> None:
        try:
            await work
        except Exception:  # noqa: BLE001
            log.exception("background mail work failed")

    async def deliver(self, to: str, subject: str, body: str) -> None:
        """Send now, retrying; a final failure is logged (the user was told the same either way)."""
        await self._deliver(compose(self.sender, to, subject, body))

    async def drain(self) -> None:
        """Wait for queued messages (tests, and a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _deliver(self, message: EmailMessage) -> None:
        for attempt, delay in enumerate((0, *self.retry_delays)):
            if delay:
                await asyncio.sleep(delay)
            try:
                await self._send(message)
                return
            except Exception as error:  # noqa: BLE001 - any failure is retried, then reported
                log.warning("sending mail to %r failed (attempt %d): %s", message["To"], attempt + 1, error)
        log.error("gave up sending mail to %r: %r", message["To"], message["Subject"])

    async def _send(self, message: EmailMessage) -> None:
        if not self.smtp_url:
            self._write_outbox(message)
            return
        url = urlsplit(self.smtp_url)
        await aiosmtplib.send(
            message,
            hostname=url.hostname or "localhost",
            port=url.port or (465 if url.scheme == "smtps" else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=url.scheme == "smtps",
            start_tls=True if "starttls=1" in url.query else None,
            timeout=10,
        )
        log.info("sent mail to %r: %r", message["To"], message["Subject"])

    def _write_outbox(self, message: EmailMessage) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{clock.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        (self.outbox / name).write_bytes(bytes(message))
        log.info("no SMTP server configured: wrote mail to %r into %s", message["To"], self.outbox / name)
