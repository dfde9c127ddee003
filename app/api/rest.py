"""REST under /api/v1: JSON in, `{"data": ...}` out, bearer tokens, the same rules as the pages.

Each view reads its input, calls app/api/operations.py (itself a thin step over the services)
and wraps the answer. Errors are JSON too (app/api/errors.py). Here: accounts, and push nested;
conversations, messages, mentions and search in app/api/rest_chat.py; the blueprint they share
and its helpers in app/api/rest_base.py."""
from __future__ import annotations

from quart_schema import operation_id, validate_request, validate_response

from app.accounts import service as accounts
from app.api import auth, operations, schemas, tokens
from app.api.push import bp as push_bp
from app.api.rest_base import bp, documented, public, signed_in, user_agent
from app.api.schemas import Envelope

# --- accounts -----------------------------------------------------------------------------------

@bp.post("/users")
@operation_id("register")
@validate_request(schemas.NewUser)
@validate_response(Envelope[schemas.NewAccount], 201)
@documented(400, 403, 413, 415, 422, 429)
@public
async def create_user(data: schemas.NewUser):
    """Register: a new account, logged in (its token).

    The same rules as the registration page: who may join (HUDDLE_REGISTRATION: with an
    `invitation` token by default, 403 without one), a free username and address, a good
    password, and at most HUDDLE_REGISTRATIONS_PER_ADDRESS_PER_HOUR sign-up attempts (made or
    refused) from one network. That an email address is already registered is said only when
    the rest of the request is valid."""
    user, token = await operations.register(data.username, data.email, data.password, invitation=data.invitation,
                                            user_agent=user_agent(), display_name=data.display_name)
    return {"data": {"user": await operations.me(user), **token}}, 201


@bp.post("/login")
@operation_id("login")
@validate_request(schemas.Credentials)
@validate_response(Envelope[schemas.Token])
@documented(400, 413, 415, 422, 429)
@public
async def login(data: schemas.Credentials):
    """Log in: a new token, named "API token" on /account/sessions (where it can be revoked).

    Failed attempts are limited per account and address, as on the login page (429 + Retry-After)."""
    _, token = await operations.login(data.username, data.password, user_agent=user_agent())
    return {"data": token}


@bp.post("/logout")
@operation_id("logout")
@signed_in
@validate_response(Envelope[schemas.Done])
@documented()
async def logout():
    """Revoke the token this request used; its open sockets are told and closed."""
    await accounts.end_session(auth.current_session(), "revoked")
    return {"data": {"success": True}}


@bp.get("/me")
@operation_id("getMe")
@signed_in
@validate_response(Envelope[schemas.Me])
@documented()
async def me():
    """Who this token belongs to (with the email address, which only its owner sees)."""
    return {"data": await operations.me(auth.current())}


@bp.patch("/me")
@operation_id("changeMe")
@signed_in
@validate_request(schemas.MeChanges)
@validate_response(Envelope[schemas.Me])
@documented(400, 413, 415, 422)
async def change_me(data: schemas.MeChanges):
    """Set your display name (what people see; "" shows your username): the rules of the account
    page, and every open page and program hears it (`user.changed`)."""
    return {"data": await operations.set_display_name(auth.current(), data.display_name)}


@bp.get("/users/<username>")
@operation_id("getUser")
@signed_in
@validate_response(Envelope[schemas.PublicUser])
@documented(404)
async def user(username: str):
    """A member's public profile: username, online, last online, created (never the email)."""
    return {"data": await operations.details(username=username)}


# --- push: /api/v1/push/... (app/api/push.py), nested so it shares the tokens, errors and document

bp.register_blueprint(push_bp)

__all__ = ["bp", "tokens"]
