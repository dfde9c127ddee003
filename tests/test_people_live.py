"""Lists of people follow the team live: joining, being removed, a new name or a change of
administrator sends every open page one small "people" event (rendered once, for everyone), on
which the team page and the chat sidebar fetch their list again. Other edits send none."""
from __future__ import annotations

import contextlib

from app.models import User
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.client import Client
from tests.helpers.live import live, receive_until


@contextlib.asynccontextmanager
async def listening(app):
    """What every page hears: the topic each page's socket subscribes to for presence."""
    async with Runtime.of(app).broker.subscribe(["presence"]) as subscription:
        yield subscription


def kinds(subscription) -> list[str]:
    """The events already delivered (the in-process broker delivers during publish)."""
    found = []
    while not subscription.queue.empty():
        found.append(subscription.queue.get_nowait().kind)
    return found


def edit(person: User, **change) -> dict:
    return {"username": person.username, "email": person.email, "password": "", "confirm_password": "",
            **({"is_admin": "on"} if person.is_admin else {}), **change}


async def test_a_registration_reaches_open_pages_as_one_people_event(app, client, alice, sign_in):
    alices = await sign_in("alice")
    async with live(alices) as socket:
        response = await client.post("/register", {"username": "newcomer", "email": "new@example.com",
                                                   "password": PASSWORD, "confirm_password": PASSWORD})
        assert response.status_code == 303
        frame = await receive_until(socket, 'id="live-people"')
        assert 'data-changed="1"' in frame


async def test_the_team_page_and_sidebar_carry_the_targets_the_event_refreshes(app, alice, sign_in, general):
    alices = await sign_in("alice")
    team = await (await alices.get("/")).get_data(as_text=True)
    assert 'id="team"' in team and '<div id="live-people"></div>' in team
    chat = await (await alices.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert 'id="sidebar"' in chat and '<div id="live-people"></div>' in chat
    # What the refresh fetches shows the new member.
    await Client(app).post("/register", {"username": "zed", "email": "zed@example.com",
                                         "password": PASSWORD, "confirm_password": PASSWORD})
    assert "/users/zed" in await (await alices.get("/")).get_data(as_text=True)
    assert "/users/zed" in await (await alices.get("/chat/sidebar", headers={"HX-Request": "true"})).get_data(
        as_text=True)


async def test_admin_add_rename_flag_and_delete_each_send_one_people_event(app, admin, alice, sign_in):
    as_admin = await sign_in("admin")
    async with listening(app) as pages:
        response = await as_admin.post("/admin/users", {"username": "frank", "email": "frank@example.com",
                                                        "password": PASSWORD, "confirm_password": PASSWORD})
        assert response.status_code == 303
        assert kinds(pages) == ["people"]
        frank = await User.get(username="frank")

        await as_admin.post(f"/admin/users/{frank.id}", edit(frank, email="frank@elsewhere.example"))
        assert kinds(pages) == []  # an email is on no list of people

        await as_admin.post(f"/admin/users/{frank.id}", edit(frank, email="frank@elsewhere.example",
                                                             username="francis"))
        assert kinds(pages) == ["user.changed", "people"]  # his name, wherever it is shown; the lists
        francis = await User.get(id=frank.id)
        assert francis.username == "francis"

        await as_admin.post(f"/admin/users/{frank.id}", edit(francis, is_admin="on"))
        assert kinds(pages) == ["people"]

        response = await as_admin.post(f"/admin/users/{frank.id}/delete")
        assert response.status_code == 303 and not await User.exists(id=frank.id)
        assert kinds(pages) == ["people"]


async def test_deleting_your_own_account_takes_you_off_everyone_s_lists(app, alice, sign_in):
    alices = await sign_in("alice")
    async with listening(app) as pages:
        response = await alices.post("/users/alice/delete")
        assert response.status_code == 303 and not await User.exists(username="alice")
        assert "people" in kinds(pages)


async def test_refused_changes_send_nothing(app, admin, alice, sign_in):
    as_admin = await sign_in("admin")
    alices = await sign_in("alice")
    async with listening(app) as pages:
        taken = await as_admin.post("/admin/users", {"username": "alice", "email": "a2@example.com",
                                                     "password": PASSWORD, "confirm_password": PASSWORD})
        assert taken.status_code == 422
        assert (await alices.post(f"/admin/users/{admin.id}/delete")).status_code == 403
        assert (await as_admin.post(f"/admin/users/{admin.id}", edit(admin, is_admin=""))).status_code == 422
        assert kinds(pages) == []
