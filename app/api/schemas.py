"""The JSON API's shapes: what requests carry and what answers hold, as the OpenAPI document
(/api/v1/openapi.json) describes them. Every success is `{"data": ...}`, every error
`{"error": {"code", "message", "fields"?}}`.

Request models only bound sizes and types; the rules (what a valid username or message is) stay
in the services, whose refusals come back as 422 with a message per field."""
from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field
from quart_schema.pydantic import File

from app.api.errors import CODES
from app.web.urls import MAX_ID, MAX_SEQ

T = TypeVar("T")
Id = Field(ge=1, le=MAX_ID)
Cursor = Field(default=None, ge=0, le=MAX_SEQ)


class Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=8192)


# --- requests ---------------------------------------------------------------------------------

class NewUser(Request):
    username: str = Field(max_length=200)
    email: str = Field(max_length=320)
    password: str = Field(max_length=2048)
    invitation: str | None = Field(default=None, max_length=200,
                                   description="An invitation link's token (after /join/).")
    display_name: str = Field(default="", max_length=200,
                              description="Optional: what people see (\"Ada Lovelace\"); empty shows the username.")


class MeChanges(Request):
    display_name: str = Field(max_length=200, description="What people see; \"\" shows the username.")


class Credentials(Request):
    username: str = Field(max_length=200)
    password: str = Field(max_length=2048)


class NewConversation(Request):
    """Either `usernames` (a direct conversation with them; the same people get the same one)
    or `room` (a room by name: joined if it is open, created if there is none)."""
    usernames: list[str] | None = Field(default=None, max_length=20)
    room: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(default=None, max_length=400)


class RoomChanges(Request):
    """What to change in a room (its creator's or an administrator's); what is left out stays.
    Closing keeps its members; opening lists it for every member, and its members stay."""
    name: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(default=None, max_length=400)
    is_open: bool | None = Field(default=None, description="Open to every member (true) or closed (false).")
    archived: bool | None = Field(default=None, description="Archived rooms are read-only.")
    everyone_allowed: bool | None = Field(default=None, description="Whether @everyone may be written there "
                                                                    "(#general's too).")


CONFIRM_EVERYONE = Field(default=False, description="@everyone in a room of more than 30 members is refused "
                                                     "(422, field `confirm_everyone`) unless this is true.")


class NewMessage(Request):
    text: str = Field(default="", max_length=8192, description="May be empty when attachments go with it, not both.")
    attachments: list[int] = Field(default_factory=list, max_length=10,
                                   description="Ids of your uploads (uploadFile) not sent yet, in the order shown.")
    client_id: str | None = Field(default=None, max_length=64,
                                  description="Your id for this message: sending it again returns the first.")
    confirm_everyone: bool = CONFIRM_EVERYONE
    reply_to: int | None = Field(default=None, ge=1, le=MAX_SEQ,
                                 description="The id of the message of this conversation it answers (not deleted): "
                                             "its author is mentioned.")


class MessageText(Request):
    text: str = Field(max_length=8192)
    confirm_everyone: bool = CONFIRM_EVERYONE


class ReadUpTo(Request):
    seq: int | None = Field(default=None, ge=0, le=MAX_SEQ, description="Read up to this event number (default: all).")


class LevelChoice(Request):
    level: Literal["all", "mentions", "nothing"] | None = Field(
        description="all: every message; mentions: messages that mention you (or @everyone); nothing: none. "
                    "null: back to the default (rooms: mentions, direct conversations: all).")


class MessagesQuery(BaseModel):
    before: int | None = Field(default=None, ge=0, le=MAX_SEQ, description="Messages numbered below this seq.")
    after: int | None = Field(default=None, ge=0, le=MAX_SEQ, description="Messages numbered above this seq.")
    limit: int = Field(default=50, ge=1, le=100)


class MentionsQuery(BaseModel):
    before: int | None = Field(default=None, ge=1, le=MAX_ID, description="The `older` of the page before.")
    limit: int = Field(default=50, ge=1, le=100)


class ThreadsQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=100)


class SearchQuery(BaseModel):
    q: str = Field(default="", max_length=2000,
                   description='What to find, as on the search page: words, "exact phrase", -word, from:name, '
                               "in:#room, in:@name, before:2026-12-01, after:2026-11-01, has:link.")
    limit: int = Field(default=20, ge=1, le=100)
    before: str | None = Field(default=None, max_length=200, description="The `older` of the page before.")
    order: Literal["newest", "relevant"] = Field(default="newest", description="newest (first) or relevant.")
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Only in this conversation.")


# --- answers ---------------------------------------------------------------------------------

class Envelope(BaseModel, Generic[T]):
    data: T

    @classmethod
    def model_parametrized_name(cls, params: tuple[type, ...]) -> str:
        """`MessageEnvelope`, `ConversationListEnvelope`: one shared name per payload in the document."""
        (payload,) = params
        if get_origin(payload) is list:
            return f"{get_args(payload)[0].__name__}ListEnvelope"
        return f"{payload.__name__}Envelope"


class ErrorDetail(BaseModel):
    code: str = Field(description="What went wrong, for programs: " + ", ".join(sorted(set(CODES.values()))) + ".")
    message: str = Field(description="What went wrong, for people.")
    fields: dict[str, str] | None = Field(default=None, description="Per field, what is wrong with it (422).")


class ErrorBody(BaseModel):
    """Every error of the API (components/schemas/Error)."""
    model_config = ConfigDict(title="Error")

    error: ErrorDetail


class PublicUser(BaseModel):
    id: int
    username: str
    display_name: str = Field(description="What people see (\"\": the username is shown).")
    online: bool
    last_online: datetime | None
    created: datetime


class Me(PublicUser):
    email: str
    is_admin: bool


class Token(BaseModel):
    token: str
    expires: datetime


class NewAccount(BaseModel):
    user: Me
    token: str
    expires: datetime


class Conversation(BaseModel):
    id: int
    kind: Literal["room", "direct", "thread"] = Field(description="A thread: the replies to one message "
                                                                  "(parent_message_id), read and written by the "
                                                                  "rule of its conversation (parent_id).")
    name: str
    topic: str
    is_open: bool
    archived: bool = Field(description="An archived room is read-only.")
    everyone_allowed: bool = Field(description="Whether @everyone may be written there (a room's switch).")
    members: list[str] | None = Field(description="Usernames, for direct conversations.")
    last_seq: int
    read_seq: int = Field(description="Your read position (a thread: 0 unless you follow it).")
    unread: int
    parent_message_id: int | None = Field(default=None, description="A thread's message (null: not a thread).")
    parent_id: int | None = Field(default=None, description="A thread's conversation: the message's.")


class ThreadSummary(BaseModel):
    conversation_id: int = Field(description="The thread (a conversation: read and post with its messages).")
    replies: int
    last_reply_at: datetime | None
    repliers: list[str] = Field(description="The latest distinct repliers' usernames (up to 3), latest first.")


class Attachment(BaseModel):
    id: int
    name: str = Field(description="The file's name as it was uploaded (never a path on the server).")
    type: str = Field(description="The media type, read from the bytes (never the name or the sender's claim).")
    size: int = Field(description="Bytes (an image's metadata, GPS included, is stripped at upload).")
    width: int | None = Field(description="An image's width as shown (null: not an image).")
    height: int | None
    url: str = Field(description="The file (a path on this site): served only to who may read its message now.")
    thumbnail_url: str | None = Field(description="Its preview (a webp), null until it is made.")


class UploadForm(BaseModel):
    file: File = Field(description="The file, as one multipart/form-data part named `file`: streamed, "
                                   "at most HUDDLE_UPLOAD_MAX_BYTES (25 MiB by default).")


class Reaction(BaseModel):
    emoji: str = Field(description="One emoji, of Huddle's table (README: Reactions).")
    count: int
    users: list[int] = Field(description="Who reacted with it (user ids), first first.")
    usernames: list[str] = Field(description="Their usernames, in the same order.")


class ReplyQuote(BaseModel):
    id: int = Field(description="The message answered (its permalink: the conversation around it).")
    seq: int
    author: str = Field(description="Its author's username as it is now (for a removed account, the name it had).")
    excerpt: str | None = Field(description="Its first words as plain text, on one line (~100 characters, \"…\" "
                                            "when cut) as it is now; null once deleted.")
    deleted: bool


class LinkPreview(BaseModel):
    url: str = Field(description="The message's first link, as it goes.")
    title: str | None = Field(description="What the page calls itself (plain text).")
    description: str | None = Field(description="Its summary (plain text).")
    site: str | None = Field(description="The site's name, else its host.")
    image: str | None = Field(description="Huddle's own copy of its image (its thumbnail once made): a path of this "
                                          "API, read with your token; never the third party's. null: no image.")


class Message(BaseModel):
    id: int
    conversation_id: int
    seq: int
    version: int
    author: str = Field(description="The author's username as it is now (for a removed account, the name it had).")
    author_display_name: str = Field(description="The author's display name now (\"\": none, or a removed account).")
    author_id: int | None
    text: str | None = Field(description="As written, a small Markdown (README: Formatting); null once deleted.")
    html: str | None = Field(description="The text as Huddle shows it: sanitised HTML (p, strong, em, s, code, pre, "
                             "blockquote, lists, tables, links with rel and target, mentions as "
                             "<span class=\"mention\" data-user-id>); null once deleted.")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    mentions: list[int] = Field(description="The ids of the people it mentions (by @username, or @everyone).")
    attachments: list[Attachment] = Field(default_factory=list, description="Its files, in order.")
    reactions: list[Reaction] = Field(default_factory=list,
                                      description="Its reactions, grouped by emoji, in the order each was first given.")
    reply_to: ReplyQuote | None = Field(default=None, description="The message it answers, as that is now (an edit or "
                                                                  "deletion of it comes as this message's "
                                                                  "message.edited); null: not a reply.")
    preview: LinkPreview | None = Field(default=None, description="The preview of its first link, once fetched by "
                                                                  "Huddle after it was sent (it arrives as a "
                                                                  "message.edited); null: none, not yet, or removed.")
    thread: ThreadSummary | None = Field(default=None, description="Its thread's summary, once it has a reply "
                                                                   "(each reply or deletion there comes as this "
                                                                   "message's message.edited); null: no reply.")


class Thread(BaseModel):
    conversation: Conversation = Field(description="The thread; read_seq and unread are yours as a follower.")
    message: Message = Field(description="The message it answers.")
    unread: int = Field(description="Replies after your read position there (not yours).")
    mentions: int = Field(description="Unread replies that mention you.")


class MessagePage(BaseModel):
    messages: list[Message] = Field(description="Newest first.")
    older: int | None = Field(description="Pass as `before` for the page before this one (null: no more).")
    newer: int | None = Field(description="Pass as `after` for what comes after this page.")


class SearchHit(Message):
    snippet: str = Field(description="HTML: the text (escaped) around the match, matched words in <mark>.")


class SearchPage(BaseModel):
    messages: list[SearchHit] = Field(description="Newest first, or most relevant first.")
    older: str | None = Field(description="Pass as `before` for the next page (null: no more).")


class MentionHit(Message):
    unread: bool = Field(description="Not read yet: after your read position in its conversation.")
    everyone: bool = Field(description="You were mentioned by @everyone, not by name.")


class MentionPage(BaseModel):
    messages: list[MentionHit] = Field(description="Newest mention first; each with its conversation_id.")
    older: int | None = Field(description="Pass as `before` for the next page (null: no more).")


class ReadState(BaseModel):
    conversation_id: int
    read_seq: int
    unread: int


class NotificationLevel(BaseModel):
    level: Literal["all", "mentions", "nothing"] = Field(description="What you are notified of in this conversation.")
    default: bool = Field(description="Whether that is the default here (you have not chosen, or chose null).")


class Done(BaseModel):
    success: bool
