"""What a page's socket follows beside what its user hears by membership (app/realtime/connection.py's
part for it): a topic the user may follow without being a member (a thread's page; a thread's panel
beside a conversation, whoever may read it, following it or not), with its own place in the cursor,
one per slot; and the conversation shown beside the page's own, looked at too while the tab is
visible (app/realtime/viewing.py), so nobody is notified of a thread they have open beside its room."""
from __future__ import annotations

from app.runtime import runtime


class Beside:
    """Mixed into Connection, whose subscription, cursor, dialect and session it uses."""

    async def watch(self, slot: str, topic: str | None, after: int = 0) -> int | None:
        """Hear and follow a topic the user may follow without hearing it by membership (a thread's
        page, a thread's panel beside a conversation: whoever may read it), from `after`. One topic
        per slot: a new one replaces the one before, None stops it. None if they may not follow it."""
        old = self.watching.pop(slot, None)
        if old is not None and old != topic and old not in self.watching.values():
            self.cursor.unfollow(old)
            if old in self.added:  # unless the user hears it by now anyway (replied: a follower)
                self.added.discard(old)
                if old not in await self.dialect.rooms.topics(self.session.user_id):
                    await self.subscription.remove(old)
        if topic is None or not await self.dialect.rooms.may_follow(self.session.user_id, topic):
            return None
        if topic not in self.subscription.topics:
            await self.subscription.add(topic)
            self.added.add(topic)
        self.watching[slot] = topic
        return await self.cursor.follow(topic, after)

    async def recheck_watched(self) -> None:
        """After a membership change: what the user may no longer follow is dropped."""
        for slot, watched in list(self.watching.items()):
            if not await self.dialect.rooms.may_follow(self.session.user_id, watched):
                await self.watch(slot, None)
        await self._show_beside()

    async def view_beside(self, conversation_id: int | None) -> None:
        """A second conversation shown beside the page's own (a thread's panel): looked at too, so
        not notified of, while the tab is visible and the socket follows it. None: no longer shown."""
        self.beside = conversation_id
        await self._show_beside()

    async def _show_beside(self) -> None:
        registry = runtime().viewing
        if self.beside_key is None:
            if self.beside is None:
                return
            self.beside_key = registry.key()
        if (self.visible and self.beside is not None
                and self.dialect.rooms.topic(self.beside) in self.subscription.topics):
            await registry.show(self.beside_key, self.session.user_id, self.beside)
        else:
            await registry.hide(self.beside_key)
