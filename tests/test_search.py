"""Search at the service (app/search/service.py): one corpus searched on SQLite and on PostgreSQL
must give the same hits for every matching rule; visibility by role; edits and deletions in the
very next query; filters; paging; snippets."""
from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app import create_app
from app.chat import service as chat
from app.domain import NotFound
from app.models import Conversation, MessageSearch, User
from app.search import plan as plans
from app.search import service, snippets, walk
from app.search.query import parse
from tests.helpers.accounts import make_user
from tests.helpers.chat import lift_posting_limit, welcomed
from tests.helpers.postgres import child_main, in_child, pg_site

# Each message by its label: (where, author, body). "leads" is closed (bob and carol); "dm" is
# alice and bob's direct conversation; "edited" is edited and "gone" deleted after posting.
CORPUS = [
    ("cafe", "general", "alice", "Let's deploy the café tonight"),
    ("sess", "general", "bob", "Set sess.opts before calling init"),
    ("url", "general", "alice", "Docs at https://example.com/foo-bar and more"),
    ("shirt", "general", "bob", "New t-shirt designs are in"),
    ("date", "general", "carol", "Release due 2026-12-01, not 2026-12-02"),
    ("ja", "general", "carol", "東京大学で会議があります"),
    ("ko", "general", "carol", "서울에서 만나요"),
    ("wide", "general", "carol", "ＦＵＬＬ ｗｉｄｔｈ text"),
    ("ops", "general", "bob", "The deployment failed AND OR NOT NEAR(x) ^ * \"quoted"),
    ("mail", "general", "alice", "e-mail me the naïve résumé"),
    ("secret", "leads", "bob", "secret deploy plan"),
    ("edited", "general", "bob", "old words banana"),
    ("gone", "general", "bob", "deleted durian"),
    ("dm", "dm", "bob", "direct hello between us"),
    ("html", "general", "carol", "<script>alert(1)</script> & co"),
    ("zh", "general", "carol", "我们明天讨论数据库迁移"),
]
EDITED_TO = "new words cherry"

# (who, query) → labels found, newest first. A last word with no space after it is a prefix.
EXPECTED = {
    ("alice", "cafe"): ["cafe"],
    ("alice", "CAFÉ "): ["cafe"],
    ("alice", "deploy"): ["ops", "cafe"],          # the word being typed: deploy, deployment
    ("alice", "deploy "): ["cafe"],                # a finished word
    ("alice", "dep"): ["ops", "cafe"],
    ("alice", "sess"): ["sess"],
    ("alice", "opts "): ["sess"],
    ("alice", "sess.opts"): ["sess"],
    ("alice", "sess.op"): ["sess"],
    ("alice", "opts.sess"): [],
    ("alice", "example "): ["url"],
    ("alice", "foo "): ["url"],
    ("alice", "foo-bar"): ["url"],
    ("alice", "example.com "): ["url"],
    ("alice", "https://example.com/foo-bar"): ["url"],
    ("alice", "t-shirt"): ["shirt"],
    ("alice", "shirt "): ["shirt"],
    ("alice", "tshirt "): ["shirt"],
    ("alice", "email "): ["mail"],
    ("alice", "e-mail"): ["mail"],
    ("alice", "naive resume"): ["mail"],
    ("alice", "2026-12-01"): ["date"],
    ("alice", "2026-12-02 "): ["date"],
    ("alice", "2026-12-03"): [],
    ("alice", "東京"): ["ja"],
    ("alice", "京大"): ["ja"],
    ("alice", "大学"): ["ja"],
    ("alice", "会議"): ["ja"],
    ("alice", "東京大学"): ["ja"],
    ("alice", "京都"): [],
    ("alice", "東大"): [],
    ("alice", "数据库"): ["zh"],
    ("alice", "迁移"): ["zh"],
    ("alice", "서울"): ["ko"],
    ("alice", "만나"): ["ko"],
    ("alice", "full width "): ["wide"],
    ("alice", "ｗｉｄｔｈ"): ["wide"],
    ("alice", "AND OR NOT"): ["ops"],
    ("alice", "NEAR("): ["ops"],
    ("alice", "* ^ ( ) \""): [],
    ("alice", '"the café"'): ["cafe"],
    ("alice", '"café the"'): [],
    ("alice", "-tonight deploy"): ["ops"],
    ('alice', '-"the café" deploy'): ["ops"],
    ('alice', 'deploy -"the café"'): [],         # deploy is finished here: not deployment
    ("alice", "-deploy"): [],
    ("alice", "from:bob the"): ["ops"],
    ("alice", "from:@carol"): ["zh", "html", "wide", "ko", "ja", "date"],
    ("alice", "from:nobody the"): [],
    ("alice", "in:#general hello"): [],
    ("alice", "in:@bob hello"): ["dm"],
    ("alice", "in:#leads secret"): [],
    ("alice", "has:link"): ["url"],
    ("alice", "has:link docs"): ["url"],
    ("alice", "after:2000-01-01 cafe"): ["cafe"],
    ("alice", "before:2000-01-01 cafe"): [],
    ("alice", "before:2026-13-45 cafe"): [],   # not a date: searched as words
    ("alice", "secret"): [],                   # a closed room she is not in
    ("bob", "secret"): ["secret"],
    ("bob", "in:#leads plan"): ["secret"],
    ("alice", "banana"): [],                   # edited away
    ("alice", "cherry"): ["edited"],
    ("alice", "durian"): [],                   # deleted
    ("alice", "direct hello"): ["dm"],
    ("carol", "direct hello"): [],
    ("admin", "secret"): [],                   # administrators read only what they may read
    ("admin", "direct hello"): [],
    ("alice", "script"): ["html"],
    ("alice", ""): [],
    ("alice", "   "): [],
}


async def build_corpus() -> dict[int, str]:
    """The people, rooms and messages above; message id → label."""
    admin = await make_user("admin", admin=True)
    people = {"admin": admin, **{name: await make_user(name) for name in ("alice", "bob", "carol")}}
    general = await welcomed(*people.values())
    leads = await chat.create_room(people["bob"], "leads", is_open=False, member_names=["carol"])
    dm = await chat.open_direct(people["alice"], ["bob"])
    where = {"general": general, "leads": leads, "dm": dm}
    labels = {}
    for label, room, author, body in CORPUS:
        message = await chat.post(people[author], where[room], body)
        labels[message.id] = label
        if label == "edited":
            await chat.edit(people[author], message, EDITED_TO)
        if label == "gone":
            await chat.delete(people[author], message)
    return labels


async def corpus_results() -> dict[str, list[str]]:
    labels = await build_corpus()
    found = {}
    for who, q in EXPECTED:
        actor = await User.by_username(who)
        results = await service.search(actor, q, limit=50)
        found[json.dumps([who, q])] = [labels[hit.message.id] for hit in results.hits]
    return found


def expected() -> dict[str, list[str]]:
    return {json.dumps([who, q]): labels for (who, q), labels in EXPECTED.items()}


async def test_the_corpus_on_sqlite(app):
    lift_posting_limit(app)
    async with app.app_context():
        assert await corpus_results() == expected()


def test_the_corpus_on_postgresql_gives_the_same_hits(pg_database, tmp_path):
    assert in_child("tests.test_search", pg_database, str(tmp_path)) == expected()


async def _on_postgresql(url: str, data_dir: str) -> dict:
    async with pg_site(url, data_dir) as app:
        lift_posting_limit(app)
        return await corpus_results()


# --- the rules, one by one ------------------------------------------------------------------------

async def found(actor, q, **kwargs) -> list[str]:
    return [hit.message.body for hit in (await service.search(actor, q, **kwargs)).hits]


async def test_an_edit_is_found_by_its_new_words_and_not_its_old_in_the_very_next_query(app, general, alice):
    async with app.app_context():
        message = await chat.post(alice, general, "meet at the harbour")
        assert await found(alice, "harbour ") == ["meet at the harbour"]
        await chat.edit(alice, message, "meet at the station")
        assert await found(alice, "harbour ") == []
        assert await found(alice, "station ") == ["meet at the station"]


async def test_a_deleted_message_is_gone_from_the_very_next_query(app, general, alice, admin):
    async with app.app_context():
        mine = await chat.post(alice, general, "remove this pineapple")
        other = await chat.post(alice, general, "and this pineapple too")
        assert len(await found(alice, "pineapple ")) == 2
        await chat.delete(alice, mine)
        assert await found(alice, "pineapple ") == ["and this pineapple too"]
        await chat.delete(admin, other)
        assert await found(alice, "pineapple ") == []
        assert not await MessageSearch.exists(message_id__in=[mine.id, other.id])


async def test_someone_removed_from_a_closed_room_stops_finding_it_at_once(app, general, admin, alice, bob):
    async with app.app_context():
        room = await chat.create_room(alice, "plans", is_open=False, member_names=["bob"])
        await chat.post(alice, room, "the quarterly roadmap")
        assert await found(bob, "roadmap ") == ["the quarterly roadmap"]
        await chat.remove_member(alice, room, bob)
        assert await found(bob, "roadmap ") == []
        assert await found(admin, "roadmap ") == []  # an administrator reads only what they may
        with pytest.raises(NotFound):
            await service.search(bob, "roadmap", conversation_id=room.id)


async def test_an_open_room_is_found_by_those_not_in_it_as_its_page_previews_it(app, general, alice, bob):
    async with app.app_context():
        room = await chat.create_room(alice, "lobby", is_open=True)
        await chat.post(alice, room, "open announcement")
        assert await chat.membership(bob, room.id) is None
        assert await found(bob, "announcement ") == ["open announcement"]
        assert room.id in await chat.readable_conversation_ids(bob)
        await chat.change_room(alice, room, is_open=False)
        assert await found(bob, "announcement ") == []
        assert room.id not in await chat.readable_conversation_ids(bob)


async def test_a_deleted_room_takes_its_messages_out_of_the_index(app, general, alice):
    async with app.app_context():
        room = await chat.create_room(alice, "temp", is_open=True)
        await chat.post(alice, room, "ephemeral words")
        await chat.delete_room(alice, room)
        assert await found(alice, "ephemeral ") == []
        assert not await MessageSearch.exists(conversation_id=room.id)


async def test_search_in_one_conversation(app, general, alice, bob):
    async with app.app_context():
        dm = await chat.open_direct(alice, ["bob"])
        await chat.post(alice, general, "lunch in the big room")
        await chat.post(alice, dm, "lunch just us")
        assert await found(alice, "lunch ", conversation_id=dm.id) == ["lunch just us"]
        assert await found(alice, "lunch ", conversation_id=general.id) == ["lunch in the big room"]
        assert len(await found(alice, "lunch ")) == 2
        with pytest.raises(NotFound):
            await service.search(alice, "lunch", conversation_id=999_999)


async def test_pages_of_results_follow_each_other_with_no_cap(app, general, alice):
    lift_posting_limit(app)
    async with app.app_context():
        for n in range(57):
            await chat.post(alice, general, f"report number {n}")
        seen, before = [], None
        while True:
            results = await service.search(alice, "report ", before=before, limit=10)
            seen += [hit.message.body for hit in results.hits]
            if results.older is None:
                break
            before = results.older
        assert seen == [f"report number {n}" for n in reversed(range(57))]
        # a page's size is 1..50, and a cursor that is not one of ours is ignored
        assert len((await service.search(alice, "report ", limit=500)).hits) == 50
        assert len((await service.search(alice, "report ", limit=0)).hits) == 1
        assert (await service.search(alice, "report ", before="n.abc")).hits[0].message.body == "report number 56"


async def test_by_relevance_the_best_match_comes_first_and_pages_cover_every_match(app, general, alice, monkeypatch):
    lift_posting_limit(app)
    monkeypatch.setattr(walk, "RANKED", 7)  # windows of 7: paging crosses from one to the next
    async with app.app_context():
        await chat.post(alice, general, "kiwi kiwi kiwi kiwi")
        for n in range(20):
            await chat.post(alice, general, f"a long message about many things and one kiwi, number {n}")
        seen, before = [], None
        while True:
            results = await service.search(alice, "kiwi ", order="relevant", before=before, limit=4)
            seen += [hit.message.body for hit in results.hits]
            if results.older is None:
                break
            before = results.older
        assert len(seen) == len(set(seen)) == 21
        # the best match is outside the newest window of 7, then inside the newest 2,000
        assert (await service.search(alice, "kiwi ", order="relevant")).hits[0].message.body != "kiwi kiwi kiwi kiwi"
        monkeypatch.setattr(walk, "RANKED", 2000)
        assert (await service.search(alice, "kiwi ", order="relevant")).hits[0].message.body == "kiwi kiwi kiwi kiwi"


async def test_a_snippet_escapes_html_and_marks_the_words_found(app, general, alice):
    async with app.app_context():
        await chat.post(alice, general, "<script>alert('x')</script> deploy <b>now</b>")
        [hit] = (await service.search(alice, "deploy ")).hits
        assert str(hit.snippet) == ("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <mark>deploy</mark> "
                                    "&lt;b&gt;now&lt;/b&gt;")
        assert hit.message.conversation.id == general.id and hit.message.author.id == alice.id


async def test_a_long_message_is_cut_around_its_first_match(app, general, alice):
    async with app.app_context():
        body = "filler " * 100 + "the needle is here " + "more " * 100
        await chat.post(alice, general, body)
        snippet = str((await service.search(alice, "needle ")).hits[0].snippet)
        assert snippet.startswith("…") and snippet.endswith("…")
        assert "<mark>needle</mark>" in snippet
        assert 150 < len(snippet) < 260


def test_snippets_mark_prefixes_phrases_and_cjk():
    marks = plans.plan(parse('"the café" 東京 dep')).marks
    assert str(snippets.snippet("Deploy THE CAFÉ in 東京都", marks)) == (
        "<mark>Deploy</mark> <mark>THE CAFÉ</mark> in <mark>東京</mark>都")


async def test_the_migration_indexed_what_was_there(app, general, alice):
    """Migration 11 indexes existing messages: tests/test_migrations.py checks it on both databases;
    here, a message whose row was lost is found again once indexed the way the migration does."""
    async with app.app_context():
        message = await chat.post(alice, general, "restored index entry")
        await MessageSearch.filter(message_id=message.id).delete()
        assert await found(alice, "restored ") == []
        from app.models import search

        await MessageSearch.create(message_id=message.id, conversation_id=general.id, terms=search.terms(message.body))
        assert await found(alice, "restored ") == ["restored index entry"]


# --- nothing typed ever raises --------------------------------------------------------------------

NASTY = ["AND", "OR", "NOT", "NEAR(", "*", "^", '"', "(", ")", "-", '-"', "from:", "in:", "in:#", "in:@",
         "before:", "after:2026-02-30", "has:", "has:link", "\x00", "\ud800", "\udfff", "😀", "東京", "q", "qzzzz",
         "%", "_", "'", "\\", "::", "a" * 300]


def test_any_query_gives_results_never_an_error(settings):
    """Arbitrary text, the engines' own syntax, filters gone wrong, NUL, lone surrogates, emoji:
    every query answers (hypothesis), in both orders, on a site with messages to find."""
    loop = asyncio.new_event_loop()
    app = create_app(settings)
    started = app.test_app()
    loop.run_until_complete(started.__aenter__())
    try:
        async def prepare():
            alice = await make_user("alice")
            await chat.welcome(alice)
            async with app.app_context():
                await chat.post(alice, await chat.general(), "a café in 東京 with sess.opts and AND OR NOT")
            return alice

        alice = loop.run_until_complete(prepare())

        @hypothesis_settings(max_examples=200, deadline=None)
        @given(q=st.one_of(st.text(max_size=80), st.lists(st.sampled_from(NASTY), max_size=8).map(" ".join),
                           st.text(alphabet=st.sampled_from(['"', "-", ":", "*", " ", "a", "é", "東", "\x00",
                                                             "\ud800", "(", "^"]), max_size=40)))
        def check(q: str) -> None:
            async def both_orders():
                for order in ("newest", "relevant"):
                    assert isinstance((await service.search(alice, q, order=order)).hits, list)
            loop.run_until_complete(both_orders())

        check()
        loop.run_until_complete(service.search(alice, "x" * 2000 + " 😀" * 500))
    finally:
        loop.run_until_complete(started.__aexit__(None, None, None))
        loop.close()


async def test_a_long_paste_and_control_characters_are_searched_as_words(app, general, alice):
    async with app.app_context():
        await chat.post(alice, general, "needle in a haystack")
        assert await found(alice, ("x " * 1000) + "needle") == []
        assert await found(alice, "needle\x00\x01\x1f haystack") == ["needle in a haystack"]
        assert await found(alice, "needle \ud800 haystack") == ["needle in a haystack"]
        assert await found(alice, "from:\x00bob needle") == []
        assert await found(alice, "in:#\ud800 needle") == []
        assert await found(alice, "in:#" + "r" * 41 + " needle") == []
        assert await found(alice, "in:#" + "ﬀ" * 30 + " needle") == []  # 30 typed, 60 once normalised


async def test_a_conversation_that_is_not_there_is_not_found(app, general, alice):
    async with app.app_context():
        assert await Conversation.filter(id=424242).count() == 0
        with pytest.raises(NotFound):
            await service.search(alice, "x", conversation_id=424242)


if __name__ == "__main__":
    child_main(_on_postgresql)


async def test_a_long_prefix_finds_every_word_it_starts_whichever_way_it_is_looked_up(app, general, alice,
                                                                                      monkeypatch):
    async with app.app_context():
        for body in ["deploy now", "deployment done", "deployed it", "a depot"]:
            await chat.post(alice, general, body)
        assert await found(alice, "deploy") == ["deployed it", "deployment done", "deploy now"]
        monkeypatch.setattr(walk, "COMPLETIONS", 2)  # more words than that: FTS5's own prefix query
        assert await found(alice, "deploy") == ["deployed it", "deployment done", "deploy now"]
        assert await found(alice, "deployz") == []
