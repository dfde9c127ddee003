"""People's pictures: choosing one (with the square to keep), removing it, and serving it to anyone
signed in. The rules live in app/files/avatars.py; the upload streams in through
app/files/doors.py like every file (its form's token checked there, as it streams)."""
from __future__ import annotations

from quart import Blueprint, Response, abort, flash, redirect, request, url_for

from app.accounts import auth
from app.domain import DomainError, Invalid, RateLimited, TooLarge
from app.files import avatars
from app.files.doors import read_form
from app.models import names
from app.runtime import runtime
from app.storage import serve
from app.web.forms import Form, domain_error_page
from app.web.htmx import render
from app.web.streaming import streams_body

bp = Blueprint("avatars", __name__)
bp.register_error_handler(DomainError, domain_error_page)
# Content-addressed: a picture's URL names its bytes, which never change, so a browser keeps it.
FOREVER = "private, max-age=31536000, immutable"


@bp.app_template_filter("initials")
def initials(name: str) -> str:
    return avatars.initials(name or "")


@bp.app_template_filter("face_hue")
def face_hue(user_id: int | None) -> int:
    return avatars.hue(user_id)


async def _page(form: Form, status: int = 200) -> Response:
    me = auth.current()
    label = (await names.labels_of([me]))[me.id]
    return await render("files/avatar.html", status=status, form=form, label=label)


@bp.get("/account/picture")
@auth.login_required
async def edit() -> Response:
    """My picture: choose one (and the square of it to show), or remove it."""
    return await _page(Form())


@bp.post("/account/picture")
@auth.login_required
@streams_body
async def upload() -> Response:
    """A new picture, streamed in (never held whole in memory) within the upload size limit."""
    form = Form()
    try:
        with await read_form(max_files=1) as received:
            if not received.files:
                raise Invalid({avatars.FIELD: "Choose a picture first."})
            crop = avatars.crop_from({name: received.get(name) for name in avatars.Crop._fields})
            await avatars.set_picture(auth.current(), received.files[0].path, crop)
    except TooLarge as refused:
        form.error(avatars.FIELD, refused.message)
        return await _page(form, 413)
    except Invalid as refused:
        form.error(avatars.FIELD, next(iter(refused.errors.values())))
        return await _page(form, 422)
    except RateLimited as refused:
        form.error(avatars.FIELD, refused.message)
        response = await _page(form, 429)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    await flash("Your new picture is saved.")
    return redirect(url_for("accounts.profile", username=auth.current().username), code=303)


@bp.post("/account/picture/remove")
@auth.login_required
async def remove() -> Response:
    """Back to my initials."""
    await avatars.remove_picture(auth.current())
    await flash("Your picture is removed: your initials are shown instead.")
    return redirect(url_for("accounts.profile", username=auth.current().username), code=303)


@bp.get("/people/<int:user_id>/avatar/<key>.webp")
@auth.login_required
async def show(user_id: int, key: str) -> Response:
    """A person's picture, to anyone signed in: only their current one (an old or guessed key is a
    404), at ?size=256 (the default) or 64."""
    size = request.args.get("size", str(avatars.LARGE))
    stored = await avatars.served_key(user_id, key, int(size) if size in ("64", "256") else 0)
    storage = runtime().storage
    length = await storage.size(stored)
    if length is None:
        abort(404, description="There is no such picture.")
    response = await serve.respond(storage, stored, name="picture.webp", content_type="image/webp", size=length,
                                   inline=True, etag=stored)
    if response.status_code in (200, 304):
        response.headers["Cache-Control"] = FOREVER
    return response
