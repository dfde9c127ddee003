"""Admin area: inline user management, its rules, forced logout and the audit log."""
from __future__ import annotations

import html
import re

import pytest

from app.admin import audit_log
from app.admin.audit_log import ACTIONS
from app.models import AuditEvent, Feedback, User, UserSession, hashing
from app.models.actor import SYSTEM
from app.web.htmx import dom_id
from tests.helpers import PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.html import text_of, toast
from tests.helpers.live import live, receive_until

NEW = {"username": "frank", "email": "frank@example.com", "password": PASSWORD, "confirm_password": PASSWORD}


@pytest.fixture
async def as_admin(sign_in, admin):
    return await sign_in("admin")


# --- the table -----------------------------------------------------------------------------------

async def test_the_users_table_shows_each_user_with_presence(as_admin, alice, bob):
    html = await (await as_admin.get("/admin/users")).get_data(as_text=True)
    for name in ("admin", "alice", "bob"):
        assert f">{name}</a>" in html
    assert f'id="user-{alice.id}-row"' in html and f'data-presence-user="{alice.id}">Offline<' in html
    assert 'data-scope="admin"' in html


async def test_the_admins_own_row_has_no_delete_button(as_admin, admin, alice):
    html = await (await as_admin.get("/admin/users")).get_data(as_text=True)
    assert f"/admin/users/{alice.id}/delete" in html
    assert f"/admin/users/{admin.id}/delete" not in html


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/admin/users/new"])
async def test_non_admins_get_403_and_anonymous_visitors_401(client, alice, path):
    assert (await client.get(path)).status_code == 401
    await client.login("alice")
    response = await client.get(path)
    assert response.status_code == 403 and "Only administrators" in await response.get_data(as_text=True)


@pytest.mark.parametrize(
    "method, path",
    [("POST", "/admin/users"), ("POST", "/admin/users/{bob}"), ("POST", "/admin/users/{bob}/delete")],
)
async def test_a_non_admin_posting_directly_changes_nothing(client, alice, bob, method, path):
    await client.login("alice")
    response = await client.post(path.format(bob=bob.id), {**NEW, "is_admin": "on", "username": "bobby"})
    assert response.status_code == 403
    assert await User.filter(username="bob").exists()
    assert not await User.filter(username__in=["frank", "bobby"]).exists()


# --- edit inline ---------------------------------------------------------------------------------

async def test_edit_swaps_the_row_for_a_form_and_cancel_restores_it(as_admin, alice):
    form = await as_admin.get(f"/admin/users/{alice.id}/edit", headers={"HX-Request": "true"})
    html = await form.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="user-{alice.id}-row" class="editing">') and html.count("<tr") == 1
    assert 'value="alice@example.com"' in html and ">Save</button>" in html
    row = await (await as_admin.get(f"/admin/users/{alice.id}", headers={"HX-Request": "true"})).get_data(as_text=True)
    assert f'id="user-{alice.id}-row"' in row and ">Edit</a>" in row


async def test_saving_a_row_updates_the_user_and_returns_the_row(as_admin, alice):
    response = await as_admin.post(
        f"/admin/users/{alice.id}",
        {"username": "alicia", "email": "alicia@example.com", "password": "", "confirm_password": ""},
        htmx=True,
    )
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and ">alicia</a>" in html and "<form" not in html
    assert toast(response) == "Saved alicia."
    alice = await User.get(id=alice.id)
    assert (alice.username, alice.username_key, alice.email) == ("alicia", "alicia", "alicia@example.com")
    assert await hashing.verify_password(PASSWORD, alice.password_hash)  # blank = unchanged


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"username": "a"}, "username", "Use 3 to 30 characters."),
        ({"username": "BOB"}, "username", "taken"),
        ({"email": "bob@example.com"}, "email", "already registered"),
        ({"email": "nope"}, "email", "valid email"),
        ({"password": "short", "confirm_password": "short"}, "password", "at least 8"),
        ({"password": PASSWORD, "confirm_password": "different"}, "password", "did not match, so both were cleared"),
    ],
)
async def test_edit_errors_show_inside_the_row_and_nothing_is_saved(as_admin, alice, bob, change, field, message):
    before = await User.get(id=alice.id)
    data = {
        "username": "alice2", "email": "alice2@example.com", "is_admin": "on", "password": "", "confirm_password": "",
        **change,
    }
    response = await as_admin.post(f"/admin/users/{alice.id}", data, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="user-{alice.id}-row-{field}-error"' in html and message in html
    assert 'value="alice2' in html or field != "email"  # typed values kept
    after = await User.get(id=alice.id)
    assert (after.username, after.email, after.is_admin, after.password_hash) == (
        before.username, before.email, before.is_admin, before.password_hash
    )


async def test_edit_errors_without_htmx_show_the_whole_page_with_the_row_in_form_mode(as_admin, alice):
    response = await as_admin.post(f"/admin/users/{alice.id}", {"username": "x", "email": "alice@example.com"})
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html and "Use 3 to 30 characters." in html


async def test_setting_a_password_ends_the_users_sessions(as_admin, sign_in, alice):
    alices = await sign_in("alice")
    async with live(alices) as page:
        response = await as_admin.post(
            f"/admin/users/{alice.id}",
            {"username": "alice", "email": "alice@example.com",
             "password": "brand new password", "confirm_password": "brand new password"},
            htmx=True,
        )
        assert response.status_code == 200
        assert "reason=password" in await receive_until(page, 'id="live-control"')
    assert (await alices.get("/account/sessions")).status_code == 401
    assert await hashing.verify_password("brand new password", (await User.get(id=alice.id)).password_hash)
    assert await AuditEvent.filter(action="password.set_by_admin", target_name="alice").exists()


async def test_granting_and_removing_admin(as_admin, sign_in, alice):
    data = {"username": "alice", "email": "alice@example.com", "is_admin": "on"}
    await as_admin.post(f"/admin/users/{alice.id}", data, htmx=True)
    assert (await User.get(id=alice.id)).is_admin
    alices = await sign_in("alice")
    assert (await alices.get("/admin/users")).status_code == 200
    async with live(alices) as page:
        await as_admin.post(f"/admin/users/{alice.id}", {**data, "is_admin": ""}, htmx=True)
        control = await receive_until(page, 'id="live-control"')
        assert 'data-action="reload"' in control and 'data-scope="admin"' in control
    assert not (await User.get(id=alice.id)).is_admin
    assert (await alices.get("/admin/users")).status_code == 403  # her admin pages lose access
    actions = await AuditEvent.filter(target_name="alice").values_list("action", flat=True)
    assert {"admin.granted", "admin.removed"} <= set(actions)


async def test_the_last_administrator_cannot_lose_admin(as_admin, admin):
    data = {"username": "admin", "email": "admin@example.com", "is_admin": ""}
    response = await as_admin.post(f"/admin/users/{admin.id}", data, htmx=True)
    assert response.status_code == 422 and "last administrator" in await response.get_data(as_text=True)
    assert (await User.get(id=admin.id)).is_admin


async def test_extra_fields_cannot_be_mass_assigned(as_admin, alice):
    await as_admin.post(
        f"/admin/users/{alice.id}",
        {"username": "alice", "email": "alice@example.com",
         "password_hash": "x", "id": "99", "created_at": "2000-01-01"},
        htmx=True,
    )
    alice2 = await User.get(id=alice.id)
    assert alice2.password_hash != "x" and alice2.created_at.year != 2000


# --- add -------------------------------------------------------------------------------------------

async def test_add_user_opens_a_form_row_and_saving_it_adds_a_row(as_admin):
    form = await (await as_admin.get("/admin/users/new", headers={"HX-Request": "true"})).get_data(as_text=True)
    assert 'id="user-new-row"' in form and 'hx-post="/admin/users"' in form
    response = await as_admin.post("/admin/users", {**NEW, "is_admin": "on"}, htmx=True)
    html = await response.get_data(as_text=True)
    frank = await User.get(username="frank")
    assert response.status_code == 200 and f'id="user-{frank.id}-row"' in html
    assert '<tr id="user-new-row" hidden></tr>' in html  # ready for the next "Add user"
    assert frank.is_admin and await hashing.verify_password(PASSWORD, frank.password_hash)
    assert toast(response) == "Added frank."
    assert await AuditEvent.filter(action="user.created", target_name="frank", actor_name="admin").exists()


@pytest.mark.parametrize(
    "change", [{"password": ""}, {"confirm_password": "other"}, {"username": ""}, {"email": "admin@example.com"}]
)
async def test_add_user_errors_show_in_the_new_row_and_nothing_is_saved(as_admin, change):
    response = await as_admin.post("/admin/users", {**NEW, **change}, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="user-new-row"' in html and 'class="field-error"' in html
    assert not await User.filter(email="frank@example.com").exists()


async def test_cancelling_add_user_puts_back_the_empty_slot(as_admin):
    response = await as_admin.get("/admin/users/new?cancel=1", headers={"HX-Request": "true"})
    html = await response.get_data(as_text=True)
    assert html.strip().endswith('<tr id="user-new-row" hidden></tr>')


async def test_add_user_without_htmx_redirects_to_the_table(as_admin):
    response = await as_admin.post("/admin/users", NEW)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    page = await (await as_admin.get("/admin/users/new")).get_data(as_text=True)
    assert 'id="user-new-row"' in page and "<html" in page


# --- delete ----------------------------------------------------------------------------------------

async def test_deleting_a_user_logs_out_every_open_page_of_theirs(as_admin, sign_in, alice):
    laptop, phone = await sign_in("alice"), await sign_in("alice")
    async with live(laptop) as one, live(laptop) as two, live(phone) as three:
        response = await as_admin.post(f"/admin/users/{alice.id}/delete", htmx=True)
        assert response.status_code == 200 and await response.get_data(as_text=True) == ""  # the row goes
        assert toast(response) == "Deleted alice. Their open pages have been logged out."
        for page in (one, two, three):
            assert "reason=deleted" in await receive_until(page, 'id="live-control"')
    assert not await User.exists(id=alice.id)
    assert await UserSession.filter(user_id=alice.id).count() == 0
    response = await laptop.get("/account/sessions")
    assert response.status_code == 401 and 'id="login-form"' in await response.get_data(as_text=True)
    login = await (await laptop.get("/login?reason=deleted")).get_data(as_text=True)
    assert "Your account was deleted." in login


async def test_deleting_a_user_keeps_their_name_in_the_audit_log(as_admin, alice):
    await as_admin.post(f"/admin/users/{alice.id}/delete")
    html = text_of(await (await as_admin.get("/admin/audit")).get_data(as_text=True))
    assert "admin deleted alice" in html


async def test_admins_cannot_delete_themselves_even_directly(as_admin, admin, sign_in):
    other_admin = await make_user("root", admin=True)
    response = await as_admin.post(f"/admin/users/{admin.id}/delete")
    assert response.status_code == 403
    assert (await as_admin.get(f"/admin/users/{admin.id}/delete")).status_code == 403
    assert await User.exists(id=admin.id)
    # Another admin may delete this one; the last admin standing then cannot be deleted by anyone.
    root = await sign_in("root")
    assert (await root.post(f"/admin/users/{admin.id}/delete")).status_code == 303
    assert await User.filter(is_admin=True).count() == 1 and await User.exists(id=other_admin.id)


async def test_deleting_a_missing_user_is_404(as_admin):
    assert (await as_admin.post("/admin/users/9999/delete")).status_code == 404
    assert (await as_admin.get("/admin/users/9999/edit")).status_code == 404
    assert (await as_admin.post("/admin/users/9999", NEW)).status_code == 404


async def test_the_delete_confirmation_page_works_without_htmx(as_admin, alice):
    page = await (await as_admin.get(f"/admin/users/{alice.id}/delete")).get_data(as_text=True)
    assert "Delete alice?" in page and f'action="/admin/users/{alice.id}/delete"' in page
    response = await as_admin.post(f"/admin/users/{alice.id}/delete")
    assert response.status_code == 303 and not await User.exists(id=alice.id)


# --- audit -----------------------------------------------------------------------------------------

async def test_the_audit_log_is_newest_first_and_paginated(as_admin, admin, alice):
    for n in range(60):
        await AuditEvent.record(admin, "feedback.edited", alice, title=f"change {n}")
    first = await (await as_admin.get("/admin/audit")).get_data(as_text=True)
    assert first.index("change 59") < first.index("change 58")
    assert "“change 9”" not in first and "Older entries" in first
    before = first.split("/admin/audit?before=")[1].split('"')[0]
    second = await (await as_admin.get(f"/admin/audit?before={before}")).get_data(as_text=True)
    assert "admin edited feedback by alice: “change 9”." in second and "change 59" not in second


# --- paging cursors --------------------------------------------------------------------------------

PAGED = ["/admin/audit", "/admin/feedback"]


@pytest.fixture
async def newest(admin, alice) -> str:
    """The newest entry on both paged lists: what their first page must show."""
    await AuditEvent.record(admin, "feedback.edited", alice, title="the newest entry")
    await Feedback.create(title="the newest entry", content="x", author=alice)
    return "the newest entry"


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("cursor", ["abc", "1e3", "", "1.5", "%00", "-1", "0", "99999999999999999999999"])
async def test_a_cursor_that_names_no_possible_id_is_ignored(as_admin, newest, path, cursor):
    response = await as_admin.get(f"{path}?before={cursor}")
    assert response.status_code == 200 and newest in await response.get_data(as_text=True)  # the first page


async def test_registration_and_session_revocation_are_audited(client, sign_in, admin):
    gina = {"username": "gina", "email": "gina@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    await client.post("/register", gina)
    await sign_in("gina")
    await client.post("/account/sessions/others/delete")
    actions = await AuditEvent.filter(target_name="gina").values_list("action", flat=True)
    assert {"user.registered", "sessions.revoked"} <= set(actions)


# --- the audit log reads as sentences ----------------------------------------------------------------

def audit_text(page: str) -> str:
    """The audit table's text as read on screen (entities such as &#39; decoded)."""
    return html.unescape(text_of(page.split("<table", 1)[1].split("</table>", 1)[0]))


async def test_each_audit_entry_reads_as_one_sentence(as_admin, sign_in, admin, alice, bob):
    bobs = await sign_in("bob")
    new = "a brand new password"
    change = {"current_password": PASSWORD, "password": new, "confirm_password": new}
    assert (await bobs.post("/account/password", change)).status_code == 303
    for title in ("One", "Two"):
        assert (await bobs.post("/users/bob/feedback/add", {"title": title, "content": "x"})).status_code == 303
    edit = {"username": "alice", "email": "alice2@example.com", "is_admin": ""}
    assert (await as_admin.post(f"/admin/users/{alice.id}", edit, htmx=True)).status_code == 200
    assert (await as_admin.post(f"/admin/users/{bob.id}/delete")).status_code == 303
    await AuditEvent.record(SYSTEM, "admin.granted", await User.get(id=alice.id))
    await as_admin.post("/admin/invitations", {"kind": "multi", "days": "1"})
    page = await (await as_admin.get("/admin/audit")).get_data(as_text=True)
    assert '<th scope="col">When</th><th scope="col">Entry</th></tr>' in page
    text = audit_text(page)
    for sentence in (
        "bob changed their own password.",
        "admin edited alice: email: alice@example.com → alice2@example.com.",
        "admin deleted bob's account: 1 session ended, 2 feedback items deleted.",
        "The command line made alice an administrator.",
        "admin created an invitation link for several people, valid 1 day.",
    ):
        assert sentence in text
    assert "(s)" not in text and "command line made alice an administrator: from" not in text
    for key in ACTIONS:  # "password.changed", "user.deleted", ...
        assert key not in text
    event = await AuditEvent.filter(action="user.edited").first()
    assert f'<tr id="{dom_id(event)}">' in page
    assert f'<time datetime="{event.created_at.isoformat()}">' in page


UNKNOWN = ["room.archived", "widget_frobbed"]


def test_every_action_the_code_records_has_its_own_sentence():
    from pathlib import Path

    recorded = set()
    for source in Path("app").rglob("*.py"):
        recorded |= set(re.findall(r'AuditEvent\.record\([^"]*?"([a-z_]+\.[a-z_]+)"', source.read_text(), re.S))
        recorded |= set(re.findall(r'reason="([a-z_]+\.[a-z_]+)"', source.read_text()))
    assert recorded and recorded <= set(ACTIONS), recorded - set(ACTIONS)


@pytest.mark.parametrize("actor", ["", "maya"])
@pytest.mark.parametrize("target", ["theo", "maya", ""])
@pytest.mark.parametrize("action", [*ACTIONS, *UNKNOWN])
async def test_every_action_reads_as_a_sentence_without_its_key(app, action, actor, target):
    words = audit_log.sentence(AuditEvent(action=action, actor_name=actor, target_name=target, params={}))
    assert action not in words and not re.search(r"\w[._]\w", words), words
    assert words.startswith("The command line " if not actor else "maya "), words
    assert words[0].isupper() or actor, words
    assert words.endswith(".") and not words.endswith(".."), words
    assert "(s)" not in words and "  " not in words, words


@pytest.mark.parametrize("params, detail, words", [
    ({"sessions": 2, "feedback": 1}, "", "maya deleted theo's account: 2 sessions ended, 1 feedback item deleted."),
    ({"sessions": 1}, "", "maya deleted theo's account: 1 session ended."),  # from before feedback was counted
    # Free text of an old entry that migration 6 could not read as parameters: shown as written.
    ({}, "ends with a period.", "maya deleted theo's account: ends with a period."),
])
async def test_an_entry_reads_from_its_parameters_and_old_text_as_it_was(app, params, detail, words):
    event = AuditEvent(action="user.deleted", actor_name="maya", target_name="theo", params=params, detail=detail)
    assert audit_log.sentence(event) == words


async def test_audit_sentences_survive_the_deletion_of_the_accounts_they_name(as_admin, sign_in, alice):
    root = await make_user("root", admin=True)
    roots = await sign_in("root")
    edit = {"username": "alice", "email": "a@example.com", "is_admin": ""}
    assert (await roots.post(f"/admin/users/{alice.id}", edit, htmx=True)).status_code == 200
    assert (await roots.post(f"/admin/users/{alice.id}/delete")).status_code == 303
    assert (await as_admin.post(f"/admin/users/{root.id}/delete")).status_code == 303
    assert not await User.filter(id__in=[alice.id, root.id]).exists()
    edited = await AuditEvent.get(action="user.edited")
    assert (edited.actor_id, edited.target_id) == (None, None)
    expected = [
        "root edited alice: email: alice@example.com → a@example.com.",
        "root deleted alice's account: 0 sessions ended, 0 feedback items deleted.",
        "admin deleted root's account: 1 session ended, 0 feedback items deleted.",
    ]
    assert audit_log.sentence(edited) == expected[0]
    text = audit_text(await (await as_admin.get("/admin/audit")).get_data(as_text=True))
    for sentence in expected:
        assert sentence in text


async def test_a_password_mismatch_in_a_row_is_said_once_on_the_first_password_field(as_admin, alice):
    from app.accounts.rules import PASSWORDS_CLEARED

    for url in ("/admin/users", f"/admin/users/{alice.id}"):
        values = {"username": "frank" if url == "/admin/users" else "alice", "email": "f@example.com",
                  "password": PASSWORD, "confirm_password": PASSWORD + "x"}
        html = await (await as_admin.post(url, values, htmx=True)).get_data(as_text=True)
        assert html.count('class="field-error"') == 1 and PASSWORDS_CLEARED in html
        assert '-password-error"' in html and "-confirm_password-error" not in html
        assert PASSWORD not in html  # never sent back
