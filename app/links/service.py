"""Link previews' rules beside the job that makes them (app/links/worker.py): who may remove a
message's preview (its sender only), who may see its image (whoever may read the message, served
by Huddle), and the site's switch (administrators). A post or an edit writes the pending row in
its own transaction (app/chat/link_previews.py); links sit above chat, as notify does.

Whatever changes what a message shows gives the message its conversation's next number in the
same transaction (app/chat/previews.py next_version) and is published after commit as
`message.edited`, so pages and programs catching up get it exactly."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from app.chat import events, previews
from app.chat.access import visible
from app.chat.link_previews import SETTING, Change, enabled, settle
from app.chat.messages import get_message
from app.domain import Invalid, NotAllowed, NotFound
from app.models import AuditEvent, Conversation, Message, User
from app.models.files import Blob
from app.models.links import READY, REMOVED, LinkPreview, SiteSetting

NOT_THE_SENDER = "Only its sender can remove a link preview."
GONE = "That message does not exist, or was deleted."
NO_IMAGE = "That message's preview has no image."

__all__ = ["enabled", "image", "remove", "set_enabled"]


async def set_enabled(actor: User, on: bool) -> bool:
    """An administrator turns previews on or off (off: no new ones; those shown stay). Audited."""
    if not actor.is_admin:
        raise NotAllowed("Only administrators can do that.")
    value = "on" if on else "off"
    async with in_transaction() as conn:
        row = await SiteSetting.filter(key=SETTING).select_for_update().using_db(conn).first()
        if row is None:
            await SiteSetting.create(key=SETTING, value=value, using_db=conn)
        elif row.value != value:
            await SiteSetting.filter(key=SETTING).using_db(conn).update(value=value)
        if row is None or row.value != value:
            await AuditEvent.record(actor, f"link_previews.{value}", None)
    return on


async def remove(actor: User, message_id: int) -> Message:
    """Its sender takes the preview away (state "removed": never fetched again for the message), at
    the message's next number. A member who is not its sender: NotAllowed; anyone else: NotFound
    (administrators too: a preview is its sender's, like the text they wrote). A pending one is
    removed before it is fetched (numbered too: a worker may be finishing it). Nothing to remove
    (no link, or removed already): nothing changes, nothing is numbered."""
    message = await get_message(actor, message_id)  # in one of the actor's conversations, not deleted
    if message.author_id != actor.id:
        raise NotAllowed(NOT_THE_SENDER)
    _check_open(message.conversation)
    if not await LinkPreview.filter(message_id=message.id).exclude(state=REMOVED).exists():
        return message
    async with in_transaction() as conn:
        _check_open(await Conversation.get(id=message.conversation_id).using_db(conn))  # archived meanwhile?
        # Whatever its state now (the worker may have made it ready meanwhile): removed, numbered.
        row = await LinkPreview.filter(message_id=message.id).select_for_update().using_db(conn).first()
        if row is None or row.state == REMOVED:
            return message
        await LinkPreview.filter(id=row.id).using_db(conn).update(
            state=REMOVED, title=None, description=None, site=None, image_id=None, claimed_until=None, due_at=None)
        seq = await previews.next_version(conn, message)
    await settle(Change(released=[row.image_id] if row.image_id else []))
    if seq is not None:
        message.version_seq = seq
        await events.message_changed(message, "message.edited")
    return message


def _check_open(conversation: Conversation) -> None:
    """An archived room is read-only: its previews stay as they are (a thread's room: its own)."""
    if conversation.archived_at is not None:
        where = f"#{conversation.name}" if conversation.name else "This thread's room"
        raise Invalid({"preview": f"{where} is archived: it is read-only."})


async def image(actor: User, message_id: int) -> Blob:
    """The image of the message's ready preview, for whoever may read the message now."""
    message = await Message.get_or_none(id=message_id, deleted_at__isnull=True)
    if message is None:
        raise NotFound(GONE)
    await visible(actor, message.conversation_id)  # THE reading rule (a thread's is its parent's): 404
    row = await LinkPreview.get_or_none(message_id=message.id, state=READY).select_related("image")
    if row is None or row.image is None:
        raise NotFound(NO_IMAGE)
    return row.image
