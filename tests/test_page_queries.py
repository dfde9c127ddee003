"""The room page's queries, counted (tests/helpers/queries.py: every statement Tortoise's client
sends): a warm page — its sidebar cached (app/chat/sidebar_cache.py), its messages rendered — asks
the database five things, whichever way it opens: the session, the conversation with the reader's
membership and its member count (app/chat/access.py visible), the sidebar's key with the names'
epoch, the messages (both sides of the first unread in one query: app/chat/history.py
from_unread), and their authors' labels. One more is a regression; the page still shows what they
gave."""
from __future__ import annotations

import re

import pytest

from tests.helpers.chat import lift_posting_limit, posted
from tests.helpers.queries import counted

WARM_PAGE = 4


async def warm_queries(client, path: str) -> tuple[list[str], str]:
    assert (await client.get(path)).status_code == 200  # the sidebar cached, the messages rendered
    with counted() as sql:
        page = await client.get(path)
    assert page.status_code == 200
    return sql, await page.get_data(as_text=True)


@pytest.fixture
async def talk(app, general, alice, bob):
    lift_posting_limit(app)
    for number in range(60):
        await posted(app, (alice, bob)[number % 2], general, f"line {number}")
    return general


async def test_the_room_opened_at_the_first_unread(talk, sign_in):
    sql, html = await warm_queries(await sign_in("alice"), f"/chat/{talk.id}")
    assert len(sql) == WARM_PAGE, sql
    assert "data-new-line" in html
    assert re.search(r">3 members<", html)  # the member count came with the conversation
    # bob's last line is alice's only unread one: the five read ones above the line, then it.
    assert re.findall(r"line (\d+)<", html) == [str(n) for n in range(54, 60)]


async def test_the_room_read_to_the_end(app, talk, admin, sign_in):
    sql, html = await warm_queries(await sign_in("admin"), f"/chat/{talk.id}?latest=1")
    assert len(sql) == WARM_PAGE, sql
    assert re.search(r">3 members<", html) and "data-new-line" not in html
    assert re.findall(r"line (\d+)<", html) == [str(n) for n in range(10, 60)]  # the newest 50
