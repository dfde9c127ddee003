"""Feedback: every route × anonymous / other user / owner / admin, in place and as plain forms."""
from __future__ import annotations

import pytest

from app.models import AuditEvent, Feedback, User, UserSession
from tests.helpers.html import text_of, toast
from tests.helpers.live import live, receive_until

HTMX = {"HX-Request": "true"}


@pytest.fixture
async def note(alice) -> Feedback:
    return await Feedback.create(title="Dark mode", content="Please keep it.", author=alice)


@pytest.fixture
def browser_of(make_client, sign_in):
    """A browser for a role in the tables below: logged in as that user, or for "anonymous" not at all."""
    async def browser_of(role: str):
        return make_client() if role == "anonymous" else await sign_in(role)
    return browser_of


# --- who may do what -----------------------------------------------------------------------------

ROLES = {"anonymous": 401, "bob": 403, "alice": 200, "admin": 200}


# Adding is for the owner only: feedback always shows its real writer, so an administrator cannot
# add it in someone else's name (they edit and delete any, and that is audited).
ADD_ROLES = {"anonymous": 401, "bob": 403, "alice": 200, "admin": 403}


@pytest.mark.parametrize("role, status", ADD_ROLES.items())
async def test_add_form_is_for_the_owner_only(browser_of, alice, bob, role, status):
    client = await browser_of(role)
    response = await client.get("/users/alice/feedback/add")
    assert response.status_code == status
    if role == "admin":
        assert "nobody adds it in someone else" in await response.get_data(as_text=True)


@pytest.mark.parametrize("role, status", {"anonymous": 401, "bob": 403, "alice": 303, "admin": 403}.items())
async def test_adding_feedback_by_role(browser_of, alice, bob, role, status):
    client = await browser_of(role)
    response = await client.post("/users/alice/feedback/add", {"title": "Hi", "content": "There"})
    assert response.status_code == status
    added = await Feedback.filter(title="Hi").first()
    assert (added is not None) == (status == 303)
    if added:
        assert added.author_id == alice.id
        assert response.headers["Location"] == "/users/alice"


async def test_an_admin_is_not_offered_to_add_feedback_on_someone_elses_profile(sign_in, alice):
    admin = await sign_in("admin")
    assert "Add feedback" not in await (await admin.get("/users/alice")).get_data(as_text=True)
    owner = await sign_in("alice")
    assert "Add feedback" in await (await owner.get("/users/alice")).get_data(as_text=True)


async def test_an_admins_edit_says_who_edited_and_is_audited_the_owners_is_not(sign_in, note):
    from app.models import AuditEvent

    owner = await sign_in("alice")
    await owner.post(f"/feedback/{note.id}/update", {"title": "Mine, again", "content": "Still mine"})
    assert not await AuditEvent.filter(action="feedback.edited").exists()
    admin = await sign_in("admin")
    response = await admin.post(f"/feedback/{note.id}/update", {"title": "Tidied", "content": "Tidied up"},
                                htmx=True)
    assert "edited by admin (admin)" in text_of(await response.get_data(as_text=True))
    page = await (await owner.get("/users/alice")).get_data(as_text=True)
    assert "edited by admin (admin)" in text_of(page)
    entry = await AuditEvent.get(action="feedback.edited")
    assert (entry.actor_name, entry.target_name, entry.params) == ("admin", "alice", {"title": "Tidied"})
    audit = await (await admin.get("/admin/audit")).get_data(as_text=True)
    assert "edited feedback by" in text_of(audit)


async def test_an_admins_delete_of_someone_elses_feedback_is_audited(sign_in, note):
    from app.models import AuditEvent

    admin = await sign_in("admin")
    assert (await admin.post(f"/feedback/{note.id}/delete")).status_code == 303
    entry = await AuditEvent.get(action="feedback.deleted")
    assert (entry.actor_name, entry.target_name, entry.params) == ("admin", "alice", {"title": note.title})


@pytest.mark.parametrize("role, status", ROLES.items())
async def test_edit_form_by_role(browser_of, bob, note, role, status):
    client = await browser_of(role)
    assert (await client.get(f"/feedback/{note.id}/update")).status_code == status


@pytest.mark.parametrize("role, status", {"anonymous": 401, "bob": 403, "alice": 303, "admin": 303}.items())
async def test_updating_feedback_by_role_and_the_row_is_unchanged_when_refused(browser_of, bob, note, role, status):
    client = await browser_of(role)
    response = await client.post(f"/feedback/{note.id}/update", {"title": "Changed", "content": "Changed too"})
    assert response.status_code == status
    after = await Feedback.get(id=note.id)
    assert (after.title == "Changed") == (status == 303)


@pytest.mark.parametrize("role, status", {"anonymous": 401, "bob": 403, "alice": 303, "admin": 303}.items())
async def test_deleting_feedback_by_role(browser_of, bob, note, role, status):
    client = await browser_of(role)
    response = await client.post(f"/feedback/{note.id}/delete")
    assert response.status_code == status
    assert (await Feedback.exists(id=note.id)) == (status != 303)


@pytest.mark.parametrize("path", ["/feedback/9999/update", "/users/nobody/feedback/add"])
async def test_missing_feedback_or_user_is_404(sign_in, alice, path):
    client = await sign_in("alice")
    assert (await client.get(path)).status_code == 404
    assert (await client.post(path, {"title": "x", "content": "y"})).status_code == 404
    assert (await client.post("/feedback/9999/delete")).status_code == 404


async def test_htmx_anonymous_requests_are_sent_to_the_login_page(client, note):
    response = await client.post(f"/feedback/{note.id}/delete", htmx=True, headers={"HX-Current-URL": "http://localhost/users/alice"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login?next=/users/alice")
    assert await Feedback.exists(id=note.id)


# --- the profile -----------------------------------------------------------------------------------

async def test_profile_shows_feedback_to_its_author_and_admins_only(sign_in, bob, note):
    for name, sees in (("alice", True), ("admin", True), ("bob", False)):
        client = await sign_in(name)
        html = await (await client.get("/users/alice")).get_data(as_text=True)
        assert ("Dark mode" in html) == sees, name
        assert ("Add feedback" in html) == (name == "alice"), name  # only its owner adds


async def test_profile_offers_account_deletion_to_the_owner_but_not_to_an_admin_owner(sign_in, alice):
    alices = await sign_in("alice")
    assert "Delete my account" in await (await alices.get("/users/alice")).get_data(as_text=True)
    admins = await sign_in("admin")
    assert "Delete my account" not in await (await admins.get("/users/admin")).get_data(as_text=True)
    assert "Delete alice" in await (await admins.get("/users/alice")).get_data(as_text=True)


# --- in place with htmx ---------------------------------------------------------------------------

async def test_adding_in_place_returns_the_item_and_a_fresh_slot(sign_in, alice):
    client = await sign_in("alice")
    form = await (await client.get("/users/alice/feedback/add", headers={"HX-Request": "true"})).get_data(as_text=True)
    assert 'id="feedback-new"' in form and "<html" not in form
    data = {"title": "Typing hints", "content": "Love them"}
    response = await client.post("/users/alice/feedback/add", data, htmx=True)
    html = await response.get_data(as_text=True)
    item = await Feedback.get(title="Typing hints")
    assert response.status_code == 200 and f'id="feedback-{item.id}"' in html
    assert '<div id="feedback-new" hidden></div>' in html
    assert toast(response) == "Thank you: your feedback was added."
    cancel = await (await client.get("/users/alice/feedback/add?cancel=1", headers=HTMX)).get_data(as_text=True)
    assert cancel.strip().endswith('<div id="feedback-new" hidden></div>')


async def test_editing_in_place_swaps_the_item(sign_in, note):
    client = await sign_in("alice")
    form = await (await client.get(f"/feedback/{note.id}/update", headers=HTMX)).get_data(as_text=True)
    assert f'id="feedback-{note.id}"' in form and 'value="Dark mode"' in form and "Please keep it.</textarea>" in form
    data = {"title": "Dark mode!", "content": "Really."}
    response = await client.post(f"/feedback/{note.id}/update", data, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and "<article" in html and "Dark mode!" in html and "<textarea" not in html
    assert (await Feedback.get(id=note.id)).content == "Really."
    assert toast(response) == "Feedback updated."
    cancel = await (await client.get(f"/feedback/{note.id}/update?cancel=1", headers=HTMX)).get_data(as_text=True)
    assert "<article" in cancel and "Dark mode!" in cancel


async def test_deleting_in_place_returns_nothing(sign_in, note):
    client = await sign_in("alice")
    response = await client.post(f"/feedback/{note.id}/delete", htmx=True)
    assert response.status_code == 200 and await response.get_data(as_text=True) == ""
    assert not await Feedback.exists(id=note.id)
    assert toast(response) == "Feedback deleted."


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"title": "", "content": "x"}, "title", "Enter a title."),
        ({"title": "t" * 101, "content": "x"}, "title", "100 characters"),
        ({"title": "Fine", "content": "   "}, "content", "Write what you want"),
    ],
)
async def test_form_errors_are_shown_beside_the_fields_with_input_kept(sign_in, note, data, field, message):
    client = await sign_in("alice")
    for htmx in (True, False):
        response = await client.post(f"/feedback/{note.id}/update", data, htmx=htmx)
        html = await response.get_data(as_text=True)
        assert response.status_code == 422
        assert f'id="feedback-{note.id}-{field}-error"' in html and message in html
        if data["title"]:
            assert f'value="{data["title"]}"' in html
    assert (await Feedback.get(id=note.id)).title == "Dark mode"
    response = await client.post("/users/alice/feedback/add", data, htmx=True)
    assert response.status_code == 422 and f'id="feedback-new-{field}-error"' in await response.get_data(as_text=True)
    assert await Feedback.all().count() == 1


async def test_hostile_markup_in_feedback_is_escaped(sign_in, alice):
    client = await sign_in("alice")
    hostile = {"title": "<script>alert(1)</script>", "content": "<img src=x onerror=alert(2)>"}
    await client.post("/users/alice/feedback/add", hostile)
    for path in ("/users/alice",):
        html = await (await client.get(path)).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
        assert "<img src=x" not in html
    admin = await sign_in("admin")
    html = await (await admin.get("/admin/feedback")).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;img src=x" in html


# --- deleting accounts ------------------------------------------------------------------------------

async def test_deleting_my_account_takes_my_feedback_and_sessions_and_logs_me_out(sign_in, alice, note):
    client = await sign_in("alice")
    phone = await sign_in("alice")
    async with live(phone) as page:
        response = await client.post("/users/alice/delete")
        assert response.status_code == 303 and response.headers["Location"] == "/"
        assert "reason=deleted" in await receive_until(page, 'id="live-control"')
    assert not await User.exists(id=alice.id)
    assert await Feedback.filter(author_id=alice.id).count() == 0
    assert await UserSession.filter(user_id=alice.id).count() == 0
    front = await (await client.get("/")).get_data(as_text=True)
    assert "Create an account" in front and "Your account and your feedback have been deleted." in front
    event = await AuditEvent.get(action="user.deleted", target_name="alice")
    assert event.params["feedback"] == 1


async def test_an_admin_deletes_any_user_but_not_themselves(sign_in, admin, alice, bob):
    client = await sign_in("admin")
    assert (await client.post("/users/admin/delete")).status_code == 403
    assert await User.exists(id=admin.id)
    response = await client.post("/users/bob/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    assert not await User.exists(id=bob.id)


async def test_a_user_cannot_delete_someone_else(sign_in, alice, bob):
    client = await sign_in("bob")
    assert (await client.post("/users/alice/delete")).status_code == 403
    assert await User.exists(id=alice.id)


# --- the admin list ---------------------------------------------------------------------------------

async def test_admins_see_all_feedback_newest_first_paginated_and_filterable(sign_in, alice, bob):
    for n in range(25):
        await Feedback.create(title=f"alice {n}", content="x", author=alice)
    await Feedback.create(title="bob 0", content="x", author=bob)
    client = await sign_in("admin")
    first = await (await client.get("/admin/feedback")).get_data(as_text=True)
    assert first.index("bob 0") < first.index("alice 24") < first.index("alice 23")
    assert "alice 5<" not in first and "Older feedback" in first
    before = first.split("before=")[1].split('"')[0]
    second = await (await client.get(f"/admin/feedback?before={before}")).get_data(as_text=True)
    assert "alice 5<" in second and "bob 0" not in second
    only_bob = await (await client.get("/admin/feedback?user=bob")).get_data(as_text=True)
    assert "bob 0" in only_bob and "alice 1" not in only_bob
    assert (await client.get("/admin/feedback?user=nobody")).status_code == 404
