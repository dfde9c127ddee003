"""Who can join: HUDDLE_REGISTRATION (invite by default, open, closed), invitation links made and
revoked by administrators, the first account, and every door (the page and the JSON APIs)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import clock, create_app
from app.models import AuditEvent, Conversation, Invitation, InvitationUse, User
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.api import Api
from tests.helpers.client import Client
from tests.helpers.html import text_of


@pytest.fixture
async def app(settings):
    """The default: joining by invitation."""
    app = create_app(settings.replace(registration="invite"))
    async with app.test_app():
        yield app


def form(name: str, **extra) -> dict:
    return {"username": name, "email": f"{name}@example.com", "password": PASSWORD, "confirm_password": PASSWORD,
            **extra}


async def make_link(admin_client: Client, **values) -> str:
    response = await admin_client.post("/admin/invitations", {"kind": "multi", "days": "7", **values})
    assert response.status_code == 303, await response.get_data(as_text=True)
    page = await (await admin_client.get("/admin/invitations")).get_data(as_text=True)
    return re.search(r'id="new-link"[^>]*value="([^"]+)"', page).group(1)


def form_errors(page: str) -> set[str]:
    found = set(re.findall(r'id="(\w+)-error"', page))
    return found | ({"kind"} if "Choose who the link is for" in page else set())


def token_of(link: str) -> str:
    return link.rsplit("/join/", 1)[1]


async def test_the_first_account_registers_freely_is_told_it_will_be_the_administrator_and_lands_on_invitations(app):
    client = Client(app)
    page = await (await client.get("/register")).get_data(as_text=True)
    assert "you'll be the administrator" in text_of(page)
    response = await client.post("/register", form("maya"))
    assert response.status_code == 303 and response.headers["Location"] == "/admin/invitations?welcome=1"
    landing = text_of(await (await client.get("/admin/invitations?welcome=1")).get_data(as_text=True))
    assert "You are this Huddle's administrator" in landing and "invite your team" in landing
    assert "you are its administrator" not in landing  # said once, by the page, not again by a flash


@pytest.mark.parametrize("path", ["/register", "/register?invitation=not-a-real-token"])
async def test_without_a_valid_invitation_registration_is_a_clear_page_and_makes_nothing(app, admin, path):
    client = Client(app)
    response = await client.get(path)
    assert response.status_code == 403
    page = text_of(await response.get_data(as_text=True))
    assert "Joining is by invitation" in page and "Log in" in page
    posted = await client.post(path, form("theo"))
    assert posted.status_code == 403
    assert not await User.exists(username="theo")


async def test_an_invitation_link_lets_people_join_and_says_who_joined(app, admin, sign_in):
    admin_client = await sign_in("admin")
    link = await make_link(admin_client)
    assert link.startswith("http://localhost/join/")
    guest = Client(app)
    landing = await guest.get(f"/join/{token_of(link)}")
    assert landing.status_code == 303 and landing.headers["Location"].startswith("/register?invitation=")
    page = text_of(await (await guest.get(landing.headers["Location"])).get_data(as_text=True))
    assert "admin invited you to join" in page
    response = await guest.post("/register", form("theo", invitation=token_of(link)))
    assert response.status_code == 303 and response.headers["Location"] == "/chat"  # the chat, not the team page
    general = await Conversation.get(kind="room", name="general")
    opened = await guest.get("/chat")
    assert opened.headers["Location"] == f"/chat/{general.id}"  # #general, as the admin's welcome promised
    chat = text_of(await (await guest.get(opened.headers["Location"])).get_data(as_text=True))
    assert "Welcome to Huddle, theo!" in chat
    another = Client(app)
    await another.post("/register", form("zoe", invitation=token_of(link)))
    listing = await (await admin_client.get("/admin/invitations")).get_data(as_text=True)
    assert '<a href="/users/theo">theo</a>, <a href="/users/zoe">zoe</a>' in listing
    entry = await AuditEvent.get(action="user.registered", target_name="theo")
    assert entry.params == {"invited_by": "admin"}


async def test_a_single_use_link_works_once(app, admin, sign_in):
    link = await make_link(await sign_in("admin"), kind="single")
    assert (await Client(app).post("/register", form("theo", invitation=token_of(link)))).status_code == 303
    second = await Client(app).post("/register", form("zoe", invitation=token_of(link)))
    assert second.status_code == 403 and "used up, revoked or has expired" in await second.get_data(as_text=True)
    assert not await User.exists(username="zoe")


async def test_a_revoked_or_expired_link_does_not_work(app, admin, sign_in):
    admin_client = await sign_in("admin")
    revoked, expired = await make_link(admin_client), await make_link(admin_client)
    row = await Invitation.all().order_by("id").first()
    assert (await admin_client.post(f"/admin/invitations/{row.id}/revoke")).status_code == 303
    late = await Invitation.all().order_by("-id").first()
    late.expires_at = clock.now() - timedelta(seconds=1)
    await late.save()
    for link in (revoked, expired):
        assert (await Client(app).get(f"/register?invitation={token_of(link)}")).status_code == 403
    assert await AuditEvent.exists(action="invitation.revoked")


async def test_a_bad_registration_through_a_link_keeps_the_link_and_uses_nothing(app, admin, sign_in):
    link = await make_link(await sign_in("admin"), kind="single")
    guest = Client(app)
    bad = await guest.post("/register", {**form("theo", invitation=token_of(link)), "confirm_password": "nope"})
    assert bad.status_code == 422
    assert f'name="invitation" value="{token_of(link)}"' in await bad.get_data(as_text=True)
    assert (await Invitation.get()).uses == 0
    assert (await guest.post("/register", form("theo", invitation=token_of(link)))).status_code == 303


async def test_an_emailed_invitation_goes_through_the_mailer(app, admin, sign_in):
    admin_client = await sign_in("admin")
    response = await admin_client.post("/admin/invitations",
                                       {"kind": "single", "days": "3", "email": "Theo@Example.com"})
    assert response.status_code == 303
    await Runtime.of(app).mailer.drain()
    sent = sorted((app.config["HUDDLE"].data_dir / "outbox").glob("*.eml"))
    assert sent, "the invitation was written to the outbox (no SMTP server configured here)"
    mail = sent[-1].read_text()
    assert "To: theo@example.com" in mail and "/join/" in mail and "admin invites you" in mail


async def test_an_emailed_invitation_fills_in_its_address_and_registers_that_one(app, admin, sign_in):
    admin_client = await sign_in("admin")
    await admin_client.post("/admin/invitations", {"kind": "single", "days": "3", "email": "Theo@Example.com"})
    await Runtime.of(app).mailer.drain()
    mail = sorted((app.config["HUDDLE"].data_dir / "outbox").glob("*.eml"))[-1].read_text()
    token = re.search(r"/join/(\S+)", mail).group(1)
    guest = Client(app)
    page = await (await guest.get(f"/register?invitation={token}")).get_data(as_text=True)
    assert re.search(r'<input id="email" name="email" type="email" value="theo@example.com"[^>]* readonly', page)
    assert "Your invitation was mailed here" in text_of(page)
    # The address is the invitation's, whatever is sent (a page edited in the browser, an API).
    response = await guest.post("/register", form("theo", invitation=token, email="other@example.com"))
    assert response.status_code == 303
    assert (await User.get(username="theo")).email == "theo@example.com"
    assert not await User.exists(email="other@example.com")


async def test_a_link_not_mailed_to_anyone_leaves_the_address_to_type(app, admin, sign_in):
    link = await make_link(await sign_in("admin"), kind="single")
    page = await (await Client(app).get(f"/register?invitation={token_of(link)}")).get_data(as_text=True)
    assert re.search(r'<input id="email" name="email" type="email" value=""', page) and " readonly" not in page


async def test_admins_can_copy_a_link_again_while_it_works_and_the_database_alone_holds_none(app, admin, sign_in):
    admin_client = await sign_in("admin")
    link = await make_link(admin_client)
    later = await (await admin_client.get("/admin/invitations")).get_data(as_text=True)
    assert 'id="new-link"' not in later  # the banner once; the row's link always
    row = await Invitation.get()
    assert re.search(rf'id="invitation-{row.id}-link"[^>]*value="{re.escape(link)}"', later)
    assert f'data-copy="invitation-{row.id}-link"' in later
    assert token_of(link) not in repr(await Invitation.filter(id=row.id).values())  # only a hash and a key
    assert (await Client(app).post("/register", form("theo", invitation=token_of(link)))).status_code == 303
    await admin_client.post(f"/admin/invitations/{row.id}/revoke")
    revoked = await (await admin_client.get("/admin/invitations")).get_data(as_text=True)
    assert token_of(link) not in revoked and "no longer works" in revoked


async def test_a_link_from_before_links_were_kept_says_why_it_cannot_be_shown(app, admin, sign_in):
    admin_client = await sign_in("admin")
    link = await make_link(admin_client)
    await Invitation.all().update(link_key="")  # as every invitation made before the migration
    page = text_of(await (await admin_client.get("/admin/invitations")).get_data(as_text=True))
    assert token_of(link) not in page and "Can't be shown again" in page and "it still works" in page
    assert (await Client(app).post("/register", form("theo", invitation=token_of(link)))).status_code == 303


@pytest.mark.parametrize("values, field", [
    ({"kind": "bogus", "days": "7"}, "kind"), ({"kind": "multi", "days": "0"}, "days"),
    ({"kind": "multi", "days": "31"}, "days"), ({"kind": "multi", "days": "x"}, "days"),
    ({"kind": "single", "days": "7", "email": "not an address"}, "email"),
    ({"kind": "multi", "days": "7", "email": "team@example.com"}, "email"),
])
async def test_bad_invitation_values_say_which_and_make_nothing(app, admin, sign_in, values, field):
    response = await (await sign_in("admin")).post("/admin/invitations", values)
    assert response.status_code == 422
    assert form_errors(await response.get_data(as_text=True)) == {field}
    assert not await Invitation.exists()


@pytest.mark.parametrize("mode, status", [("open", 303), ("closed", 403)])
async def test_open_registration_needs_no_link_and_closed_takes_none(settings, mode, status):
    from tests.helpers.accounts import make_user

    app = create_app(settings.replace(registration=mode))
    async with app.test_app():
        await make_user("first", admin=True)
        response = await Client(app).post("/register", form(f"new{mode}"))
        assert response.status_code == status
        if mode == "closed":
            assert "Registration is closed" in text_of(await response.get_data(as_text=True))


async def test_every_api_door_asks_for_the_invitation_too(app, admin, sign_in):
    from tests.helpers.api import act, json_socket

    api = Api(app)
    status, body, _ = await api.post("/api/v1/users", {"username": "theo", "email": "theo@example.com",
                                                       "password": PASSWORD})
    assert status == 403 and "invitation" in body["error"]["message"]
    status, body, _ = await api.call("POST", "/api/messenger/user", {"Username": "kai", "Password": PASSWORD})
    assert status == 403 and body["Data"] is None
    async with json_socket(app) as socket:
        answer = await act(socket, "new", {"username": "zoe", "email": "zoe@example.com", "password": PASSWORD})
        assert "invitation" in answer["error"]
    link = await make_link(await sign_in("admin"))
    status, body, _ = await api.post("/api/v1/users", {"username": "theo", "email": "theo@example.com",
                                                       "password": PASSWORD, "invitation": token_of(link)})
    assert status == 201
    assert await InvitationUse.filter(username="theo").exists()


@pytest.mark.parametrize("value, mode", [(None, "invite"), ("", "invite"), (" Open ", "open"), ("CLOSED", "closed"),
                                         ("invite", "invite")])
def test_the_registration_setting_is_read_from_the_environment(monkeypatch, value, mode):
    from app.config import Settings

    if value is None:
        monkeypatch.delenv("HUDDLE_REGISTRATION", raising=False)
    else:
        monkeypatch.setenv("HUDDLE_REGISTRATION", value)
    assert Settings.from_env().registration == mode


@pytest.mark.parametrize("value", ["opne", "yes", "true", "invite,open", "0"])
def test_a_mistyped_registration_setting_stops_the_start_instead_of_guessing(monkeypatch, value):
    from app.config import Settings

    monkeypatch.setenv("HUDDLE_REGISTRATION", value)
    with pytest.raises(ValueError, match="HUDDLE_REGISTRATION.*invite, open or closed"):
        Settings.from_env()


async def test_an_invitation_mailed_through_a_real_smtp_server_lets_its_reader_join(settings):
    """The mailer that sends reset links sends invitations too: through a real SMTP server here,
    and the link in the message is the one that works."""
    from tests.helpers.accounts import make_user
    from tests.helpers.smtp import smtp_server

    with smtp_server() as inbox:
        app = create_app(settings.replace(registration="invite", smtp_url=f"smtp://127.0.0.1:{inbox.port}"))
        async with app.test_app():
            await make_user("admin", admin=True)
            admin_client = Client(app)
            await admin_client.login("admin")
            response = await admin_client.post("/admin/invitations",
                                               {"kind": "single", "days": "1", "email": "uma@example.com"})
            assert response.status_code == 303
            await Runtime.of(app).mailer.drain()
            assert len(inbox.messages) == 1
            message = inbox.messages[0]
            assert message["To"] == "uma@example.com" and "admin invites you" in message["Subject"]
            body = message.get_payload(decode=True).decode() if not message.is_multipart() else \
                message.get_payload(0).get_payload(decode=True).decode()
            assert "within 1 day:" in body  # one day, not "1 day(s)"
            link = re.search(r"http://localhost(/join/\S+)", body).group(1)
            assert not (app.config["HUDDLE"].data_dir / "outbox").exists() or not list(
                (app.config["HUDDLE"].data_dir / "outbox").glob("*.eml"))
            uma = Client(app)
            landing = await uma.get(link)
            assert landing.status_code == 303
            page = await (await uma.get(landing.headers["Location"])).get_data(as_text=True)
            token = re.search(r'name="invitation" value="([^"]+)"', page).group(1)  # the form carries it
            joined = await uma.post("/register", form("uma", invitation=token))
            assert joined.status_code == 303 and await User.exists(username="uma")
            assert await InvitationUse.filter(username="uma").exists()
