"""The messenger API's shapes, as its own OpenAPI document (/api/messenger/openapi.json) describes
them. Names are that messenger's (PascalCase); every answer is `{"Message", "Data"}`, an error too
(`Data` null). Only documentation: the views read and check their bodies themselves, as they
always have (a number may come as a string of digits; unknown fields are ignored)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.web.urls import MAX_ID, MAX_SEQ

# --- requests ---------------------------------------------------------------------------------

class NewUser(BaseModel):
    Username: str = Field(min_length=1, max_length=200)
    Password: str = Field(min_length=1, max_length=2048)
    Email: str | None = Field(default=None, max_length=320,
                              description="Optional (that messenger has none): a placeholder until it is set.")
    Invitation: str | None = Field(default=None, max_length=200,
                                   description="An invitation link's token (after /join/), where joining needs one.")


class Credentials(BaseModel):
    Username: str = Field(min_length=1, max_length=200)
    Password: str = Field(min_length=1, max_length=2048)


class NewConversation(BaseModel):
    Recipient: str = Field(min_length=1, max_length=200, description="The other person's username.")


class NewMessage(BaseModel):
    ConversationId: int = Field(ge=1, le=MAX_ID)
    Message: str = Field(default="", max_length=8192, description="Required unless Attachments are sent.")
    Attachments: list[int] = Field(default_factory=list, max_length=10,
                                   description="Ids of your uploads (POST /api/v1/uploads) to send with it.")
    ReplyTo: int | None = Field(default=None, ge=1, le=MAX_SEQ,
                                description="The id of the message of this conversation it answers.")


class MessageEdit(BaseModel):
    MessageId: int = Field(ge=1, le=MAX_ID)
    Message: str = Field(min_length=1, max_length=8192)


# --- answers ---------------------------------------------------------------------------------

class UserInfo(BaseModel):
    Username: str
    LoggedOn: bool
    LastOnline: datetime | None
    Created: datetime


class ConversationInfo(BaseModel):
    ConversationId: int
    Users: list[str] = Field(description="Usernames, the caller's included.")
    Unread: int


class MessageRef(BaseModel):
    MessageId: int


class ReactionInfo(BaseModel):
    Emoji: str
    Count: int
    Users: list[str] = Field(description="The usernames of who reacted, earliest first.")


class MessageInfo(BaseModel):
    MessageId: int
    ConversationId: int
    User: str = Field(description="The author's username.")
    Message: str | None
    Created: datetime
    Edited: datetime | None
    Reactions: list[ReactionInfo] = Field(default_factory=list, description="Grouped by emoji, first used first.")


class TokenReply(BaseModel):
    Message: str
    Data: str = Field(description="The token (a JWT): send it as `Authorization: Bearer <token>`.")


class UserReply(BaseModel):
    Message: str
    Data: UserInfo


class ConversationReply(BaseModel):
    Message: str
    Data: ConversationInfo


class ConversationsReply(BaseModel):
    Message: str
    Data: list[ConversationInfo]


class MessageRefReply(BaseModel):
    Message: str
    Data: MessageRef


class MessageReply(BaseModel):
    Message: str
    Data: MessageInfo


class MessagesReply(BaseModel):
    Message: str
    Data: list[MessageInfo] = Field(description="Oldest first (the newest 100).")


class DoneReply(BaseModel):
    Message: str
    Data: None


class Error(BaseModel):
    """Every error of the messenger API: what went wrong in `Message`, `Data` null."""
    model_config = ConfigDict(title="Error")

    Message: str
    Data: None


# --- the document ------------------------------------------------------------------------------
# The adapter's views stay as that messenger's document has them (they read their own bodies);
# this table is their OpenAPI description, applied to them at start-up by `document`:
# view -> (operationId, request body, answers by status, error statuses).
OPERATIONS: dict[str, tuple[str, type[BaseModel] | None, dict[int, type[BaseModel]], tuple[int, ...]]] = {
    "create_user": ("createUser", NewUser, {201: TokenReply}, (400, 403, 413, 415, 422, 429)),
    "login": ("login", Credentials, {200: TokenReply}, (400, 413, 415, 422, 429)),
    "logout": ("logout", None, {200: DoneReply}, (401,)),
    "get_user": ("getUser", None, {200: UserReply}, (401, 404)),
    "start_conversation": ("startConversation", NewConversation, {200: ConversationReply, 201: ConversationReply},
                           (400, 401, 413, 415, 422)),
    "conversations": ("listConversations", None, {200: ConversationsReply}, (401,)),
    "send": ("sendMessage", NewMessage, {201: MessageRefReply}, (400, 401, 404, 413, 415, 422, 429)),
    "edit": ("editMessage", MessageEdit, {200: MessageRefReply}, (400, 401, 403, 404, 413, 415, 422)),
    "delete": ("deleteMessage", None, {200: DoneReply}, (401, 403, 404)),
    "messages": ("listMessages", None, {200: MessagesReply}, (401, 404)),
    "react": ("addReaction", None, {200: MessageReply}, (401, 404, 422, 429)),
    "unreact": ("removeReaction", None, {200: MessageReply}, (401, 404, 422, 429)),
}
PUBLIC = {"create_user", "login"}  # no token needed


def document(view_functions: dict, blueprint: str = "messenger") -> None:
    """Attach the table's description to the adapter's views (quart-schema's attributes)."""
    from quart_schema import document_request, document_response, operation_id

    for name, (operation, request, answers, failures) in OPERATIONS.items():
        view = view_functions[f"{blueprint}.{name}"]
        operation_id(operation)(view)
        if request is not None:
            document_request(request)(view)
        for status, model in {**answers, **dict.fromkeys(failures, Error)}.items():
            document_response(model, status)(view)
        view.public = name in PUBLIC
