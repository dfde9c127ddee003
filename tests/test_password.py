"""Password reset by email (a real SMTP server, aiosmtpd) and password change."""
from __future__ import annotations

import email
import logging
import re
from datetime import timedelta

import pytest

from app import clock
from app.accounts.rules import CURRENT_PASSWORD_CLEARED, CURRENT_PASSWORD_MISSING, PASSWORDS_CLEARED
from app.models import AuditEvent, PasswordResetToken, UserSession, hash_token, hashing
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.client import without_tokens
from tests.helpers.html import text_of
from tests.helpers.live import live, receive_until
from tests.helpers.smtp import free_port, smtp_server

NEW = "a brand new password"
LINK = re.compile(r"http://localhost/password/reset/(\S+)")


@pytest.fixture
def inbox():
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def settings(settings, inbox):
    settings.smtp_url = f"smtp://127.0.0.1:{inbox.port}"
    return settings


@pytest.fixture
def mailbox(inbox):
    return inbox.messages


async def request_reset(app, client, address: str):
    response = await client.post("/password/forgot", {"email": address})
    await Runtime.of(app).mailer.drain()
    return response


def link_in(message) -> str:
    return LINK.search(message.get_payload(decode=True).decode()).group(1)


# --- asking ----------------------------------------------------------------------------------------

async def test_the_login_page_links_to_forgot_password(client):
    assert 'href="/password/forgot"' in await (await client.get("/login")).get_data(as_text=True)


async def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_get_mail(app, client, alice, mailbox):
    known = await request_reset(app, client, "alice@example.com")
    unknown = await request_reset(app, client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    # The same page, to the byte but for its CSRF token (masked anew in every response).
    assert without_tokens(await known.get_data(as_text=True)) == without_tokens(await unknown.get_data(as_text=True))
    assert len(mailbox) == 1 and mailbox[0]["To"] == "alice@example.com"
    assert "Reset your Huddle password" == mailbox[0]["Subject"]


async def test_the_token_is_long_random_and_stored_only_as_a_hash(app, client, alice, mailbox):
    await request_reset(app, client, "ALICE@example.com")
    token = link_in(mailbox[0])
    assert len(token) >= 43  # 32 random bytes, url-safe: 256 bits
    row = await PasswordResetToken.get(user_id=alice.id)
    assert row.token_hash == hash_token(token) and token not in row.token_hash


async def test_a_bad_address_is_an_error_beside_the_field(client, mailbox):
    response = await client.post("/password/forgot", {"email": "not an address"}, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="email-error"' in html and 'value="not an address"' in html


async def test_requests_are_rate_limited_per_address_whether_or_not_it_exists(app, client, alice, make_client):
    limit = app.config["HUDDLE"].reset_requests_per_email
    for address in ("alice@example.com", "ghost@example.com"):
        for _ in range(limit):
            assert (await request_reset(app, client, address)).status_code == 200
        limited = await request_reset(app, make_client(), address)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert "Too many reset requests" in await limited.get_data(as_text=True)


async def test_requests_are_rate_limited_per_ip(app, client, alice):
    for n in range(app.config["HUDDLE"].reset_requests_per_ip):
        await client.post("/password/forgot", {"email": f"someone{n}@example.com"})
    assert (await client.post("/password/forgot", {"email": "alice@example.com"})).status_code == 429


# --- resetting -------------------------------------------------------------------------------------

async def test_the_emailed_link_resets_the_password_once_and_ends_every_session(
    app, client, make_client, sign_in, alice, mailbox
):
    laptop = await sign_in("alice")
    await request_reset(app, client, "alice@example.com")
    token = link_in(mailbox[0])
    page = await client.get(f"/password/reset/{token}")
    assert page.status_code == 200 and "New password" in await page.get_data(as_text=True)
    async with live(laptop) as open_page:
        response = await client.post(f"/password/reset/{token}", {"password": NEW, "confirm_password": NEW})
        assert response.status_code == 303 and response.headers["Location"] == "/login"
        assert "reason=password" in await receive_until(open_page, 'id="live-control"')
    assert await UserSession.filter(user_id=alice.id).count() == 0
    assert (await laptop.get("/account/sessions")).status_code == 401
    assert (await client.post("/login", {"username": "alice", "password": PASSWORD})).status_code == 422
    assert (await client.post("/login", {"username": "alice", "password": NEW})).status_code == 303
    # Single use.
    again = await make_client().get(f"/password/reset/{token}")
    assert again.status_code == 404 and "Send a new link" in await again.get_data(as_text=True)
    assert await AuditEvent.filter(action="password.reset", target_name="alice").exists()


async def test_reset_form_errors_keep_the_password_unchanged(app, client, alice, mailbox):
    await request_reset(app, client, "alice@example.com")
    token = link_in(mailbox[0])
    for data, field in (({"password": "short", "confirm_password": "short"}, "password"),
                        ({"password": NEW, "confirm_password": "other"}, "password")):
        response = await client.post(f"/password/reset/{token}", data, htmx=True)
        assert response.status_code == 422 and f'id="{field}-error"' in await response.get_data(as_text=True)
    assert await hashing.verify_password(PASSWORD, (await alice.__class__.get(id=alice.id)).password_hash)
    assert (await client.get(f"/password/reset/{token}")).status_code == 200  # still usable


async def test_an_expired_link_is_refused(app, client, alice, mailbox, monkeypatch):
    await request_reset(app, client, "alice@example.com")
    token = link_in(mailbox[0])
    later = clock.now() + timedelta(seconds=app.config["HUDDLE"].reset_token_seconds + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert (await client.get(f"/password/reset/{token}")).status_code == 404
    response = await client.post(f"/password/reset/{token}", {"password": NEW, "confirm_password": NEW})
    assert response.status_code == 404


async def test_a_newer_link_voids_the_older(app, client, alice, mailbox):
    await request_reset(app, client, "alice@example.com")
    await request_reset(app, client, "alice@example.com")
    older, newer = link_in(mailbox[0]), link_in(mailbox[1])
    assert (await client.get(f"/password/reset/{older}")).status_code == 404
    assert (await client.get(f"/password/reset/{newer}")).status_code == 200


async def test_a_password_change_voids_an_outstanding_link(app, client, sign_in, alice, mailbox):
    await request_reset(app, client, "alice@example.com")
    token = link_in(mailbox[0])
    me = await sign_in("alice")
    await me.post("/account/password", {"current_password": PASSWORD, "password": NEW, "confirm_password": NEW})
    assert (await client.get(f"/password/reset/{token}")).status_code == 404


async def test_a_down_mail_server_changes_nothing_the_user_sees_and_is_logged(app, client, alice, caplog, mailbox):
    Runtime.of(app).mailer.smtp_url = f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
    Runtime.of(app).mailer.retry_delays = (0, 0)
    with caplog.at_level(logging.WARNING, logger="huddle.mail"):
        down = await request_reset(app, client, "alice@example.com")
    up = await client.post("/password/forgot", {"email": "nobody@example.com"})
    assert down.status_code == up.status_code == 200
    assert without_tokens(await down.get_data(as_text=True)) == without_tokens(await up.get_data(as_text=True))
    assert "gave up sending mail to 'alice@example.com'" in caplog.text
    assert caplog.text.count("failed (attempt") == 3


async def test_without_smtp_mail_goes_to_the_outbox(app, client, alice, settings):
    Runtime.of(app).mailer.smtp_url = ""
    await request_reset(app, client, "alice@example.com")
    files = list((settings.data_dir / "outbox").glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes())
    token = link_in(message)
    assert (await client.get(f"/password/reset/{token}")).status_code == 200


# --- changing while logged in -------------------------------------------------------------------------

async def test_changing_my_password_keeps_this_session_and_ends_the_others(client, sign_in, alice):
    await client.login("alice")
    other = await sign_in("alice")
    change = {"current_password": PASSWORD, "password": NEW, "confirm_password": NEW}
    response = await client.post("/account/password", change)
    assert response.status_code == 303 and response.headers["Location"] == "/users/alice"
    assert (await client.get("/account/sessions")).status_code == 200
    assert (await other.get("/account/sessions")).status_code == 401
    assert await AuditEvent.filter(action="password.changed", target_name="alice").exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"current_password": "wrong", "password": NEW, "confirm_password": NEW}, "current_password"),
        ({"current_password": PASSWORD, "password": "short", "confirm_password": "short"}, "password"),
        ({"current_password": PASSWORD, "password": NEW, "confirm_password": "other"}, "password"),
    ],
)
async def test_password_change_errors_change_nothing(client, alice, data, field):
    await client.login("alice")
    response = await client.post("/account/password", data, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="{field}-error"' in html and NEW not in html
    assert await hashing.verify_password(PASSWORD, (await alice.__class__.get(id=alice.id)).password_hash)


# --- one message per field, on all three forms with a new password ------------------------------------

def field_html(html: str, name: str) -> str:
    """The markup of one field of a form: its label, input and the message under it."""
    match = re.search(rf'<div class="field">\s*<label for="{name}">.*?</div>', html, re.S)
    assert match, f"no field {name!r} on the page"
    return match.group(0)


@pytest.fixture(params=["register", "change", "reset"])
async def new_password_form(request, app, client, alice, mailbox):
    """Where each form posts, and what it needs besides the new password and its confirmation."""
    if request.param == "register":
        return "/register", {"username": "carol", "email": "carol@example.com"}
    if request.param == "change":
        await client.login("alice")
        return "/account/password", {"current_password": PASSWORD}
    await request_reset(app, client, "alice@example.com")
    return f"/password/reset/{link_in(mailbox[0])}", {}


@pytest.mark.parametrize("htmx", [False, True])
async def test_a_too_short_password_shows_one_message_not_the_hint_beside_the_error(client, new_password_form, htmx):
    path, others = new_password_form
    response = await client.post(path, {**others, "password": "short", "confirm_password": "short"}, htmx=htmx)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    password = field_html(html, "password")
    assert 'id="password-error"' in password and 'id="password-hint"' not in password
    assert re.fullmatch(r"(New p|P)assword Use at least 8 characters\.", text_of(password))  # label, one message
    assert html.lower().count("at least 8 characters") == 1  # the hint "At least 8 characters." is gone
    assert 'aria-invalid="true" aria-describedby="password-error"' in password  # the error alone describes it


async def test_the_hint_shows_while_there_is_no_error(client, new_password_form):
    path, _ = new_password_form
    html = await (await client.get(path)).get_data(as_text=True)
    password = field_html(html, "password")
    assert 'aria-describedby="password-hint"' in password and ">At least 8 characters.</p>" in password
    assert "aria-invalid" not in password and "field-error" not in password


async def test_a_mismatch_is_said_once_on_the_first_password_field(client, new_password_form):
    path, others = new_password_form
    response = await client.post(path, {**others, "password": NEW, "confirm_password": "another password"})
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.count(PASSWORDS_CLEARED) == 1 and "do not match" not in html
    password, confirm = field_html(html, "password"), field_html(html, "confirm_password")
    assert f'<p class="field-error" id="password-error">{PASSWORDS_CLEARED}</p>' in password
    assert 'aria-invalid="true" aria-describedby="password-error"' in password
    assert "field-error" not in confirm and "aria-invalid" not in confirm
    assert NEW not in html and 'value="' not in password + confirm  # passwords never come back
    if path == "/register":
        assert 'value="carol"' in html and 'value="carol@example.com"' in html  # the rest is kept


async def test_a_short_password_that_also_differs_is_told_only_as_too_short(client, new_password_form):
    path, others = new_password_form
    response = await client.post(path, {**others, "password": "short", "confirm_password": "shirt"})
    html = await response.get_data(as_text=True)
    assert 'id="password-error"' in html and "Use at least 8 characters." in html
    assert "match" not in text_of(html) and 'id="confirm_password-error"' not in html


@pytest.mark.parametrize(
    "current, message", [("wrong password", CURRENT_PASSWORD_CLEARED), ("", CURRENT_PASSWORD_MISSING)]
)
async def test_a_wrong_current_password_says_the_form_was_cleared(client, alice, current, message):
    await client.login("alice")
    data = {"current_password": current, "password": NEW, "confirm_password": NEW}
    response = await client.post("/account/password", data, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    current_field = field_html(html, "current_password")
    assert f'<p class="field-error" id="current_password-error">{message}</p>' in current_field
    assert html.count(message) == 1 and "That is not your current password." not in html
    assert 'id="password-error"' not in html and 'id="confirm_password-error"' not in html
