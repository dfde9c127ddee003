"""REST under /api/v1 for files: an upload, streamed in like the composer's (app/files/forms.py),
on the API's one blueprint. A message takes the upload's id in `attachments` (sendMessage)."""
from __future__ import annotations

from quart_schema import DataSource, document_request, operation_id, validate_response

from app.api import auth, schemas, schemas_chat
from app.api.rest_base import bp, documented, signed_in
from app.api.schemas import Envelope
from app.domain import Invalid
from app.files import service as files
from app.files.doors import file_response, read_form
from app.web.streaming import streams_body


@bp.post("/uploads")
@operation_id("uploadFile")
@signed_in
@streams_body
@document_request(schemas.UploadForm, source=DataSource.FORM_MULTIPART)
@validate_response(Envelope[schemas_chat.Attachment], 201)
@documented(413, 422, 429)
async def upload():
    """Upload one file (multipart/form-data, the file in a part named `file`), to send with a
    message: its `id` goes in sendMessage's `attachments`. Yours alone until sent; never sent
    within a day, it is removed.

    Streamed: past HUDDLE_UPLOAD_MAX_BYTES it is refused at once (413), and nothing is kept. Its
    type is read from its bytes; an image's width and height from its header (more than 100
    megapixels: 422), its metadata (GPS too) stripped; each upload counts against the posting
    limit (429) and your quota of stored files (413)."""
    with await read_form(max_files=1) as received:
        if not received.files:
            raise Invalid({"file": files.NONE_TO_SEND})
        attachment = await files.upload(auth.current(), received.files[0])
    return {"data": files.attachment_data(attachment)}, 201


@bp.get("/files/<token>")
@operation_id("getFile")
@signed_in
@documented(404)
async def file(token: str):
    """A file of a message you may read now (an attachment's `url`), or your own upload not sent
    yet; 404 for anything else. Images of safe types come inline, everything else as a download
    (`Content-Disposition: attachment`, the name RFC 5987-encoded); always `nosniff` and a
    sandbox CSP. `If-None-Match` and one `Range` are honoured."""
    return await file_response(auth.current(), token, "original")


@bp.get("/files/<token>/preview")
@operation_id("getFilePreview")
@signed_in
@documented(404)
async def file_preview(token: str):
    """An attachment's thumbnail (its `thumbnail_url`: a webp of at most 840 x 560, no metadata);
    404 until it is made."""
    return await file_response(auth.current(), token, "preview")
