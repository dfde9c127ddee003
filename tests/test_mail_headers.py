"""Every mail Huddle sends carries the headers RFC 5322 requires (Date, From) and a Message-ID:
mail servers mark a message without a Date as spam. Checked as a real SMTP server receives them."""
from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest

from app import clock, create_app
from app.runtime import Runtime
from tests.helpers.accounts import make_user
from tests.helpers.client import Client
from tests.helpers.smtp import smtp_server


async def send_invitation(app) -> None:
    admin = Client(app)
    await admin.login("admin")
    response = await admin.post("/admin/invitations", {"kind": "single", "days": "2", "email": "uma@example.com"})
    assert response.status_code == 303


async def send_password_reset(app) -> None:
    response = await Client(app).post("/password/forgot", {"email": "admin@example.com"})
    assert response.status_code == 200


@pytest.mark.parametrize("send", [send_invitation, send_password_reset], ids=["invitation", "password reset"])
async def test_every_mail_has_a_date_and_a_message_id(settings, send):
    with smtp_server() as inbox:
        app = create_app(settings.replace(registration="invite", smtp_url=f"smtp://127.0.0.1:{inbox.port}",
                                          mail_from="Huddle <huddle@chat.example.org>"))
        async with app.test_app():
            await make_user("admin", admin=True)
            before = clock.now()
            await send(app)
            await send(app)
            await Runtime.of(app).mailer.drain()
    assert len(inbox.messages) == 2
    ids = set()
    for message in inbox.messages:
        assert len(message.get_all("Date", [])) == 1, "exactly one Date header (RFC 5322 3.6)"
        sent = parsedate_to_datetime(message["Date"])
        assert sent.tzinfo is not None and before - timedelta(seconds=5) <= sent <= clock.now() + timedelta(seconds=5)
        assert len(message.get_all("Message-ID", [])) == 1
        assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@chat.example.org>")
        assert message["From"] == "Huddle <huddle@chat.example.org>"
        ids.add(message["Message-ID"])
    assert len(ids) == 2, "each message its own Message-ID"
