"""Files' doors for pages: the composer's uploads (one file a request, answered in JSON for
static/js/attach.js), taking one back before it is sent, and serving a file, its thumbnail and its
large version to whoever may read it now. The rules live in app/files/service.py; each answer for
a file is made by app/storage/serve.py (nosniff, a sandbox CSP, inline only for safe images)."""
from __future__ import annotations

from quart import Blueprint, Response, jsonify

from app.accounts import auth
from app.domain import DomainError, Invalid, RateLimited, TooLarge
from app.files import service
from app.files.doors import file_response, read_form
from app.web.forms import domain_error_page
from app.web.streaming import streams_body
from app.web.urls import path_for

bp = Blueprint("files", __name__)
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Files are for signed-in people (401 / login page otherwise); each file asks more."""


def refusal(refused: DomainError, status: int) -> Response:
    """A refused upload as the composer's script shows it on the file's chip."""
    response = jsonify({"error": {"message": refused.message, "fields": getattr(refused, "errors", {})}})
    response.status_code = status
    if isinstance(refused, RateLimited):
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


def upload_data(attachment) -> dict:
    """The upload's answer: what the composer's chip needs, and where to take it back."""
    return service.attachment_data(attachment) | {
        "token": attachment.token, "url": path_for("files.original", token=attachment.token, name=attachment.name),
        "remove_url": path_for("files.remove", attachment_id=attachment.id),
    }


@bp.post("/uploads")
@streams_body
async def upload() -> Response:
    """One file, streamed to disk as it arrives (413 the moment it passes the limit), stored and
    kept for its owner until a message takes it: 201 with its id, or the refusal in JSON."""
    try:
        with await read_form(max_files=1) as received:
            if not received.files:
                raise Invalid({"file": service.NONE_TO_SEND})
            attachment = await service.upload(auth.current(), received.files[0])
    except TooLarge as refused:
        return refusal(refused, 413)
    except RateLimited as refused:
        return refusal(refused, 429)
    except Invalid as refused:
        return refusal(refused, 422)
    response = jsonify(upload_data(attachment))
    response.status_code = 201
    return response


@bp.post("/uploads/<int:attachment_id>/remove")
async def remove(attachment_id: int) -> Response:
    """Take back a file not sent yet (its owner only: 404 for anyone else, and once it is sent)."""
    await service.remove_unsent(auth.current(), attachment_id)
    return Response("", status=204)


@bp.get("/files/<token>/<path:name>")
async def original(token: str, name: str) -> Response:
    """The file as it was sent (its metadata stripped), to whoever may read its message now."""
    return await file_response(auth.current(), token, "original")


@bp.get("/files/preview/<token>.webp")
async def preview(token: str) -> Response:
    """Its thumbnail (a webp, no metadata), once the preview worker has made it."""
    return await file_response(auth.current(), token, "preview")


@bp.get("/files/large/<token>.webp")
async def large(token: str) -> Response:
    """The displayable version of an image browsers cannot show (HEIC): a webp."""
    return await file_response(auth.current(), token, "large")
