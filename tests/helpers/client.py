"""Quart's test client plus what a page gives a browser: the CSRF token for its forms."""
from __future__ import annotations

import re

from tests.helpers import PASSWORD

TOKEN_RE = re.compile(r'"X-CSRF-Token": "([^"]+)"')
TOKENS = re.compile(r'("X-CSRF-Token": "|name="csrf_token" value=")[^"]*"')


def without_tokens(html: str) -> str:
    """A page with its CSRF tokens blanked: each response masks the token anew (against BREACH),
    so two renders of one page differ there and only there."""
    return TOKENS.sub(r'\1"', html)


class Client:
    def __init__(self, app):
        self.app = app
        self.raw = app.test_client()
        self._token: str | None = None

    async def token(self) -> str:
        page = await self.raw.get("/")
        match = TOKEN_RE.search(await page.get_data(as_text=True))
        assert match, "every page carries the CSRF token"
        self._token = match.group(1)
        return self._token

    async def get(self, path: str, **kwargs):
        return await self.raw.get(path, **kwargs)

    async def post(
        self, path: str, data: dict | None = None, *, csrf: bool = True, htmx: bool = False, headers=None, **kwargs
    ):
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", await self.token())
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
        return await self.raw.post(path, form=form, headers=headers, **kwargs)

    async def login(self, username: str, password: str = PASSWORD):
        """Log in through the form; the one primitive behind the sign_in fixture."""
        response = await self.post("/login", {"username": username, "password": password})
        assert response.status_code == 303, await response.get_data(as_text=True)
        return response

    def cookie(self, name: str = "huddle_auth") -> str | None:
        for cookie in self.raw.cookie_jar:
            if cookie.name == name:
                return cookie.value
        return None

    def set_cookie(self, value: str, name: str = "huddle_auth") -> None:
        self.raw.set_cookie("localhost", name, value)
