"""The JSON API's shapes: what requests carry and what answers hold, as the OpenAPI document
(/api/v1/openapi.json) describes them. Every success is `{"data": ...}`, every error
`{"error": {"code", "message", "fields"?}}`.

Request models only bound sizes and types; the rules (what a valid username or message is) stay
in the services, whose refusals come back as 422 with a message per field. A message as answers
show it, and the pages of them, are in app/api/schemas_chat.py."""
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


class UploadForm(BaseModel):
    file: File = Field(description="The file, as one multipart/form-data part named `file`: streamed, "
                                   "at most HUDDLE_UPLOAD_MAX_BYTES (25 MiB by default).")


class ReadState(BaseModel):
    conversation_id: int
    read_seq: int
    unread: int


class NotificationLevel(BaseModel):
    level: Literal["all", "mentions", "nothing"] = Field(description="What you are notified of in this conversation.")
    default: bool = Field(description="Whether that is the default here (you have not chosen, or chose null).")


class Done(BaseModel):
    success: bool
