"""The JSON API's messages as answers show them (app/api/schemas.py has the requests, the envelope,
errors, people and conversations): a message with its files, reactions, quote, link preview and
thread summary, and the pages of messages that history, search, mentions and threads answer with.
Their names are the OpenAPI document's components (/api/v1/openapi.json)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas import Conversation


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
