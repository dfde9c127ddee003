"""Every door into Huddle, driven the same way: a page form without htmx, an htmx request, REST
(/api/v1), the JSON websocket (/api/v1/ws), the messenger API (/api/messenger) and the command
line. Each door offers the acts it has (post, read, edit, …) and says what came of one as an
Outcome: its kind and the words the door showed, so a test can ask whether every door says the
same thing about the same rule (tests/test_doors.py)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from urllib.parse import quote

from app.config import ROOT
from tests.helpers import ARGON2_MEMORY_KIB, PASSWORD
from tests.helpers.api import Api, act, api_login, json_socket
from tests.helpers.client import Client
from tests.helpers.html import text_of
from tests.helpers.uploads import CONTENT_TYPE, body, part

OK, LIMITED, HIDDEN, REFUSED = "ok", "limited", "hidden", "refused"
ERROR = "error"  # the JSON websocket answers a refusal without a status: its words tell which


@dataclass(frozen=True)
class Outcome:
    kind: str
    text: str = ""

    def agrees_with(self, expected: Outcome) -> bool:
        """The same kind (a websocket's bare error stands for any refusal), and the expected words."""
        same_kind = self.kind == expected.kind or (self.kind == ERROR and expected.kind in (HIDDEN, REFUSED))
        return same_kind and expected.text in self.text


def by_status(status: int, text: str) -> Outcome:
    if status == 401:  # nobody signed in
        return Outcome(REFUSED, text)
    if status == 429:
        return Outcome(LIMITED, text)
    if status == 413:  # an upload past the limit, or over the quota
        return Outcome(REFUSED, text)
    if status == 404:
        return Outcome(HIDDEN, text)
    if status in (403, 422):
        return Outcome(REFUSED, text)
    assert status < 400, f"an unexpected answer: {status} {text[:300]}"
    return Outcome(OK, text)


class PageDoor:
    """A browser's forms: without htmx (a whole page comes back), or with htmx (a fragment)."""

    def __init__(self, app, htmx: bool) -> None:
        self.client, self.htmx = Client(app), htmx

    async def sign_in(self, username: str) -> None:
        await self.client.login(username)

    async def _answer(self, response) -> Outcome:
        return by_status(response.status_code, text_of(await response.get_data(as_text=True)))

    async def _post(self, path: str, data: dict | None = None) -> Outcome:
        return await self._answer(await self.client.post(path, data or {}, htmx=self.htmx))

    async def post(self, conversation_id: int, text: str) -> Outcome:
        return await self._post(f"/chat/{conversation_id}/messages", {"body": text})

    async def reply(self, conversation_id: int, text: str, reply_to) -> Outcome:
        return await self._post(f"/chat/{conversation_id}/messages", {"body": text, "reply_to": str(reply_to)})

    async def first_message(self, username: str, text: str) -> Outcome:
        return await self._post("/chat/new", {"usernames": username, "body": text})

    async def upload(self, name: str, data: bytes) -> Outcome:
        """The composer's script uploading a file (its answer is JSON, for either kind of page)."""
        headers = {"Content-Type": CONTENT_TYPE, "X-CSRF-Token": await self.client.token()}
        response = await self.client.raw.post("/uploads", data=body(part("file", data, name)), headers=headers)
        return by_status(response.status_code, await response.get_data(as_text=True))

    async def post_files(self, conversation_id: int, text: str, ids: list[int]) -> Outcome:
        form = [("body", text), ("csrf_token", await self.client.token()), *(("attachments", str(i)) for i in ids)]
        response = await self.client.raw.post(f"/chat/{conversation_id}/messages", form=form,
                                              headers={"HX-Request": "true"} if self.htmx else {})
        return await self._answer(response)

    async def fetch_file(self, attachment) -> Outcome:
        response = await self.client.get(f"/files/{attachment.token}/{attachment.name}")
        return by_status(response.status_code, "" if response.status_code == 200 else await response.get_data(True))

    async def read(self, conversation_id: int) -> Outcome:
        if self.htmx:  # what scrolling up asks for
            path = f"/chat/{conversation_id}/messages?before=1000"
            return await self._answer(await self.client.get(path, headers={"HX-Request": "true"}))
        return await self._answer(await self.client.get(f"/chat/{conversation_id}"))

    async def edit(self, message_id: int, text: str) -> Outcome:
        return await self._post(f"/chat/messages/{message_id}", {"body": text})

    async def delete(self, message_id: int) -> Outcome:
        return await self._post(f"/chat/messages/{message_id}/delete")

    async def react(self, message_id: int, emoji: str) -> Outcome:
        return await self._post(f"/chat/messages/{message_id}/reactions", {"emoji": emoji})

    async def open_thread(self, message_id: int) -> Outcome:
        """"Reply in thread": the thread's page, or with htmx its panel."""
        headers = {"HX-Request": "true"} if self.htmx else {}
        return await self._answer(await self.client.get(f"/chat/messages/{message_id}/thread", headers=headers))

    async def unpreview(self, message_id: int) -> Outcome:
        return await self._post(f"/chat/messages/{message_id}/preview/remove")

    async def leave(self, conversation_id: int) -> Outcome:
        return await self._post(f"/chat/{conversation_id}/leave")

    async def remove(self, conversation_id: int, user) -> Outcome:
        return await self._post(f"/chat/{conversation_id}/members/{user.id}/delete")

    async def demote(self, user) -> Outcome:
        return await self._post(f"/admin/users/{user.id}", {"username": user.username, "email": user.email})

    async def delete_account(self, user) -> Outcome:
        return await self._post(f"/users/{user.username}/delete")

    async def delete_user(self, user) -> Outcome:
        return await self._post(f"/admin/users/{user.id}/delete")

    async def search(self, q: str, conversation_id: int | None = None, before: str | None = None) -> Outcome:
        """The search page, or with htmx the header field's as-you-type panel; in a conversation,
        what its header's Search asks (`in`)."""
        args = {"q": q, "in": conversation_id, "before": before, "panel": "1" if self.htmx else None}
        query = {name: value for name, value in args.items() if value is not None}
        return await self._answer(await self.client.get("/search", query_string=query,
                                                        headers={"HX-Request": "true"} if self.htmx else {}))

    async def mentions(self) -> Outcome:
        """/mentions, or with htmx the next page's fragment (what "Older mentions" asks)."""
        headers = {"HX-Request": "true"} if self.htmx else {}
        return await self._answer(await self.client.get("/mentions", headers=headers))

    async def register(self, username: str) -> Outcome:
        return await self._post("/register", {"username": username, "email": f"{username}@example.com",
                                              "password": PASSWORD, "confirm_password": PASSWORD})

    async def add_user(self, username: str) -> Outcome:
        return await self._post("/admin/users", {"username": username, "email": f"{username}@example.com",
                                                 "password": PASSWORD, "confirm_password": PASSWORD})


class RestDoor:
    """A program with a token, over /api/v1."""

    def __init__(self, app) -> None:
        self.app, self.api = app, None

    async def sign_in(self, username: str) -> None:
        self.api = await api_login(self.app, username)

    @staticmethod
    def _answer(status: int, body: dict) -> Outcome:
        if "error" in body:  # its words, then the fields it names (a value refused)
            return by_status(status, " ".join([body["error"]["message"], *(body["error"].get("fields") or {})]))
        return by_status(status, json.dumps(body))

    async def post(self, conversation_id: int, text: str) -> Outcome:
        status, body, _ = await self.api.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": text})
        return self._answer(status, body)

    async def reply(self, conversation_id: int, text: str, reply_to) -> Outcome:
        status, body, _ = await self.api.post(f"/api/v1/conversations/{conversation_id}/messages",
                                              {"text": text, "reply_to": reply_to})
        return self._answer(status, body)

    async def upload(self, name: str, data: bytes) -> Outcome:
        headers = self.api.headers({"Content-Type": CONTENT_TYPE})
        response = await self.api.raw.post("/api/v1/uploads", data=body(part("file", data, name)), headers=headers)
        return self._answer(response.status_code, await response.get_json())

    async def post_files(self, conversation_id: int, text: str, ids: list[int]) -> Outcome:
        status, answer, _ = await self.api.post(f"/api/v1/conversations/{conversation_id}/messages",
                                                {"text": text, "attachments": ids})
        return self._answer(status, answer)

    async def fetch_file(self, attachment) -> Outcome:
        api = self.api or Api(self.app)  # nobody signed in: no token
        response = await api.raw.get(f"/api/v1/files/{attachment.token}", headers=api.headers())
        if response.status_code == 200:
            return Outcome(OK)
        return self._answer(response.status_code, await response.get_json())

    async def read(self, conversation_id: int) -> Outcome:
        status, body, _ = await self.api.get(f"/api/v1/conversations/{conversation_id}/messages")
        return self._answer(status, body)

    async def edit(self, message_id: int, text: str) -> Outcome:
        status, body, _ = await self.api.patch(f"/api/v1/messages/{message_id}", {"text": text})
        return self._answer(status, body)

    async def delete(self, message_id: int) -> Outcome:
        status, body, _ = await self.api.delete(f"/api/v1/messages/{message_id}")
        return self._answer(status, body)

    async def react(self, message_id: int, emoji: str) -> Outcome:
        status, body, _ = await self.api.put(f"/api/v1/messages/{message_id}/reactions/{quote(emoji, safe='')}")
        return self._answer(status, body)

    async def open_thread(self, message_id: int) -> Outcome:
        status, body, _ = await self.api.post(f"/api/v1/messages/{message_id}/thread")
        return self._answer(status, body)

    async def unpreview(self, message_id: int) -> Outcome:
        status, body, _ = await self.api.delete(f"/api/v1/messages/{message_id}/preview")
        return self._answer(status, body)

    async def search(self, q: str, conversation_id: int | None = None, before: str | None = None) -> Outcome:
        args = {"q": q, "conversation_id": conversation_id, "before": before}
        return await self.search_with({name: value for name, value in args.items() if value is not None})

    async def search_with(self, args: dict) -> Outcome:
        """GET /api/v1/search with these query arguments as given (a limit, an order: programs choose them)."""
        status, body, _ = await (self.api or Api(self.app)).get("/api/v1/search", query_string=args)
        return self._answer(status, body)

    async def mentions(self) -> Outcome:
        status, body, _ = await (self.api or Api(self.app)).get("/api/v1/mentions")
        return self._answer(status, body)

    async def register(self, username: str) -> Outcome:
        account = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        status, body, _ = await Api(self.app).post("/api/v1/users", account)
        return self._answer(status, body)


class SocketDoor:
    """A program on the JSON websocket: one socket, logged in, open for the whole test."""

    def __init__(self, app) -> None:
        self.app, self.socket = app, None
        self.exits = contextlib.AsyncExitStack()

    async def _open(self) -> None:
        if self.socket is None:
            self.socket = await self.exits.enter_async_context(json_socket(self.app))

    async def sign_in(self, username: str) -> None:
        await self._open()
        answer = await act(self.socket, "login", {"username": username, "password": PASSWORD})
        assert "data" in answer, answer

    async def close(self) -> None:
        await self.exits.aclose()

    async def _act(self, action: str, data: dict) -> Outcome:
        answer = await act(self.socket, action, data)
        if "data" in answer:
            return Outcome(OK, json.dumps(answer["data"]))
        words = " ".join([answer["error"], *answer.get("fields", {})])  # and the fields it names
        return Outcome(LIMITED if "retry_after" in answer else ERROR, words)

    async def post(self, conversation_id: int, text: str) -> Outcome:
        return await self._act("send", {"conversation_id": conversation_id, "text": text})

    async def reply(self, conversation_id: int, text: str, reply_to) -> Outcome:
        return await self._act("send", {"conversation_id": conversation_id, "text": text, "reply_to": reply_to})

    async def post_files(self, conversation_id: int, text: str, ids: list[int]) -> Outcome:
        return await self._act("send", {"conversation_id": conversation_id, "text": text, "attachments": ids})

    async def read(self, conversation_id: int) -> Outcome:
        return await self._act("history", {"conversation_id": conversation_id})

    async def edit(self, message_id: int, text: str) -> Outcome:
        return await self._act("edit", {"message_id": message_id, "text": text})

    async def delete(self, message_id: int) -> Outcome:
        return await self._act("delete", {"message_id": message_id})

    async def react(self, message_id: int, emoji: str) -> Outcome:
        return await self._act("react", {"message_id": message_id, "emoji": emoji})

    async def open_thread(self, message_id: int) -> Outcome:
        return await self._act("open_thread", {"message_id": message_id})

    async def unpreview(self, message_id: int) -> Outcome:
        return await self._act("unpreview", {"message_id": message_id})

    async def search(self, q: str, conversation_id: int | None = None, before: str | None = None) -> Outcome:
        args = {"q": q, "conversation_id": conversation_id, "before": before}
        return await self.search_with({name: value for name, value in args.items() if value is not None})

    async def search_with(self, args: dict) -> Outcome:
        await self._open()  # nobody signed in: asked on a socket that never logged in
        return await self._act("search", args)

    async def mentions(self) -> Outcome:
        await self._open()  # nobody signed in: asked on a socket that never logged in
        return await self._act("mentions", {})

    async def register(self, username: str) -> Outcome:
        await self._open()
        return await self._act("new", {"username": username, "email": f"{username}@example.com", "password": PASSWORD})


class MessengerDoor:
    """A client written for the Go messenger, over /api/messenger."""

    def __init__(self, app) -> None:
        self.api = Api(app)

    async def sign_in(self, username: str) -> None:
        login = {"Username": username, "Password": PASSWORD}
        status, answer, _ = await self.api.post("/api/messenger/user/login", login)
        assert status == 200, answer
        self.api.token = answer["Data"]

    async def _call(self, method: str, path: str, body=None) -> Outcome:
        status, answer, _ = await self.api.call(method, "/api/messenger" + path, body)
        return by_status(status, answer["Message"])

    async def post(self, conversation_id: int, text: str) -> Outcome:
        return await self._call("POST", "/message", {"ConversationId": conversation_id, "Message": text})

    async def reply(self, conversation_id: int, text: str, reply_to) -> Outcome:
        return await self._call("POST", "/message", {"ConversationId": conversation_id, "Message": text,
                                                     "ReplyTo": reply_to})

    async def post_files(self, conversation_id: int, text: str, ids: list[int]) -> Outcome:
        return await self._call("POST", "/message", {"ConversationId": conversation_id, "Message": text,
                                                     "Attachments": ids})

    async def read(self, conversation_id: int) -> Outcome:
        return await self._call("GET", f"/message/{conversation_id}")

    async def edit(self, message_id: int, text: str) -> Outcome:
        return await self._call("PUT", "/message", {"MessageId": message_id, "Message": text})

    async def delete(self, message_id: int) -> Outcome:
        return await self._call("DELETE", f"/message/{message_id}")

    async def register(self, username: str) -> Outcome:
        return await self._call("POST", "/user", {"Username": username, "Password": PASSWORD})


class CommandLineDoor:
    """The operator's `python -m app …`, against the test's own database. It needs no login: the
    command line acts with the operator's powers, and the rules still hold."""

    def __init__(self, settings) -> None:
        self.env = dict(os.environ, HUDDLE_DATA_DIR=str(settings.data_dir), HUDDLE_DATABASE_URL=settings.database_url,
                        HUDDLE_ARGON2_MEMORY_KIB=str(ARGON2_MEMORY_KIB))

    async def sign_in(self, username: str) -> None:
        """Nobody signs in on the command line."""

    async def _run(self, *args: str, stdin: str = "") -> Outcome:
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "app", *args], cwd=ROOT, env=self.env,
                                       input=stdin, capture_output=True, text=True, timeout=60)
        return Outcome(OK if done.returncode == 0 else REFUSED, done.stdout + done.stderr)

    async def demote(self, user) -> Outcome:
        return await self._run("grant-admin", "--revoke", user.username)

    async def add_user(self, username: str) -> Outcome:
        return await self._run("create-user", username, f"{username}@example.com", "--password-stdin",
                               stdin=PASSWORD + "\n")


DOORS = ("page", "htmx", "rest", "socket", "messenger", "command line")


def make_door(name: str, app, settings):
    return {
        "page": lambda: PageDoor(app, htmx=False), "htmx": lambda: PageDoor(app, htmx=True),
        "rest": lambda: RestDoor(app), "socket": lambda: SocketDoor(app), "messenger": lambda: MessengerDoor(app),
        "command line": lambda: CommandLineDoor(settings),
    }[name]()
