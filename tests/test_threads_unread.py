"""After reading everything, nothing is unread (the bug of Mattermost's #22060, where threads kept
false unreads): random posts in rooms and threads by several people, mentions, deletions, reads
part of the way, "mark unread from here", follows and unfollows; then each person reads every
conversation they are in and every thread they follow, and every count is 0: unread messages per
conversation and thread, unread mentions, and the Threads entry's counts (hypothesis)."""
from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app import create_app
from app.chat import mentions, threads
from app.chat import service as chat
from app.domain import DomainError
from app.models import Conversation, Message
from tests.helpers.accounts import make_user
from tests.helpers.chat import lift_posting_limit

NAMES = ("ada", "bob", "cy", "dee")
STEPS = st.lists(st.tuples(
    st.sampled_from(("post", "reply", "reply", "read", "unread_from", "delete", "follow", "unfollow")),
    st.integers(0, len(NAMES) - 1),  # who
    st.integers(0, 50),              # which conversation, message or thread (modulo what there is)
    st.integers(0, len(NAMES)),      # whom it mentions (len: nobody)
    st.floats(0, 1),                 # how far a read goes
), min_size=1, max_size=30)


class World:
    def __init__(self, people, rooms):
        self.people, self.rooms = people, rooms
        self.said: list[int] = []    # messages in rooms (threads answer them)
        self.replies: list[int] = []

    async def step(self, kind: str, who: int, which: int, mention: int, how_far: float) -> None:
        person = self.people[who]
        text = f"hello @{NAMES[mention]}" if mention < len(NAMES) else "hello"
        if kind == "post":
            room = await Conversation.get(id=self.rooms[which % len(self.rooms)].id)
            self.said.append((await chat.post(person, room, text)).id)
        elif kind == "reply" and self.said:
            thread = await threads.open_thread(person, self.said[which % len(self.said)])
            self.replies.append((await chat.post(person, thread, text)).id)
        elif kind == "read":
            places = [c for c, _ in await chat.my_conversations(person)] + [
                i.thread for i in await threads.followed(person, limit=1000)]
            if places:
                place = await Conversation.get(id=places[which % len(places)].id)
                await chat.mark_read(person, place, int(place.last_seq * how_far))
        elif kind == "unread_from" and (self.said or self.replies):
            every = self.said + self.replies
            await chat.mark_unread_from(person, await Message.get(id=every[which % len(every)]))
        elif kind == "delete" and (self.said or self.replies):
            every = self.said + self.replies
            message = await Message.get(id=every[which % len(every)])
            if message.deleted_at is None and message.author_id is not None:
                await chat.delete(next(p for p in self.people if p.id == message.author_id), message)
        elif kind in ("follow", "unfollow") and self.said:
            thread = await threads.open_thread(person, self.said[which % len(self.said)])
            await threads.follow(person, thread.id, kind == "follow")

    async def read_everything(self, person) -> None:
        for conversation, _ in await chat.my_conversations(person):
            await chat.mark_read(person, await Conversation.get(id=conversation.id))
        for item in await threads.followed(person, limit=1000):
            await chat.mark_read(person, await Conversation.get(id=item.thread.id))

    async def counts(self, person) -> tuple[dict, dict, tuple[int, int]]:
        unread = {cid: n for cid, n in (await chat.unread_counts_by_id(person.id)).items() if n}
        mentioned = {cid: n for cid, n in (await mentions.unread_counts(person.id)).items() if n}
        return unread, mentioned, await threads.followed_counts(person)


def test_after_reading_everything_nothing_is_unread(settings):
    loop = asyncio.new_event_loop()
    app = create_app(settings)
    started = app.test_app()
    loop.run_until_complete(started.__aenter__())
    lift_posting_limit(app)
    try:
        async def prepare() -> World:
            people = [await make_user(name) for name in NAMES]
            for person in people:
                await chat.welcome(person)
            async with app.app_context():
                general = await chat.general()
                closed = await chat.create_room(people[0], "inner", is_open=False, member_names=list(NAMES[1:3]))
                open_room = await chat.create_room(people[3], "lobby", is_open=True)
            return World(people, [general, closed, open_room])

        world = loop.run_until_complete(prepare())

        @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(steps=STEPS)
        def check(steps) -> None:
            async def run() -> None:
                async with app.app_context():
                    for step in steps:
                        try:
                            await world.step(*step)
                        except DomainError:
                            pass  # not theirs to do (a closed room, a thread in a thread): the rules say no
                    for person in world.people:
                        await world.read_everything(person)
                    for person in world.people:
                        assert await world.counts(person) == ({}, {}, (0, 0)), person.username
            loop.run_until_complete(run())

        check()
    finally:
        loop.run_until_complete(started.__aexit__(None, None, None))
        loop.close()
