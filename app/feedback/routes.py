"""Feedback: users write to the people who run the site; admins read and manage all of it."""
from __future__ import annotations

from quart import Blueprint, Response, abort, flash, request, url_for
from werkzeug.exceptions import Forbidden

from app.accounts import auth, service
from app.domain import DomainError, Invalid
from app.feedback import service as feedback
from app.models import Feedback
from app.web.forms import Form, domain_error_page
from app.web.htmx import is_htmx, redirect_to, render, toast

bp = Blueprint("feedback", __name__)
bp.register_error_handler(DomainError, domain_error_page)


async def get_feedback(feedback_id: int) -> Feedback:
    """The feedback, if the viewer may manage it (404 if missing, 403 if not theirs)."""
    item = await Feedback.get_or_none(id=feedback_id).select_related("author")
    if item is None:
        abort(404, description="That feedback does not exist (perhaps it was deleted).")
    if not feedback.may_manage(auth.current(), item):
        raise Forbidden("Only its author and administrators can change this feedback.")
    return item


def values(data) -> dict[str, str]:
    return {"title": data.get("title", "").strip(), "content": data.get("content", "").strip()}


ADDED, UPDATED, DELETED = "Thank you: your feedback was added.", "Feedback updated.", "Feedback deleted."


@bp.route("/users/<username>/feedback/add", methods=["GET", "POST"])
@auth.login_required
async def add(username: str) -> Response:
    """Write feedback: in place on the profile with htmx, as its own page without. Only on one's
    own profile: feedback always shows its real writer."""
    person = await service.get_user(username)
    if not feedback.may_add(auth.current(), person):
        raise Forbidden(feedback.NOT_IN_THEIR_NAME)
    if request.args.get("cancel") and is_htmx():
        return await render("feedback/_new_slot.html")
    form, status = Form(), 200
    if request.method == "POST":
        data = await request.form
        try:
            item = await feedback.add(auth.current(), person, data.get("title", ""), data.get("content", ""))
        except Invalid as refused:
            form, status = Form(values=values(data), errors=refused.errors), 422
        else:
            if is_htmx():
                return toast(await render("feedback/_created.html", item=item), ADDED)
            await flash(ADDED)
            return redirect_to(url_for("accounts.profile", username=person.username))
    return await render("feedback/form.html", "feedback/_form.html", status=status, form=form, person=person, item=None)


@bp.route("/feedback/<int:feedback_id>/update", methods=["GET", "POST"])
@auth.login_required
async def update(feedback_id: int) -> Response:
    """Edit feedback in place; Cancel (htmx, ?cancel=1) brings back the item as it was."""
    item = await get_feedback(feedback_id)
    if request.args.get("cancel") and is_htmx():
        return await render("feedback/_item.html", item=item)
    form, status = Form(values={"title": item.title, "content": item.content}), 200
    if request.method == "POST":
        data = await request.form
        try:
            await feedback.update(auth.current(), item, data.get("title", ""), data.get("content", ""))
        except Invalid as refused:
            form, status = Form(values=values(data), errors=refused.errors), 422
        else:
            if is_htmx():
                return toast(await render("feedback/_item.html", item=item), UPDATED)
            await flash(UPDATED)
            return redirect_to(url_for("accounts.profile", username=item.author.username))
    return await render(
        "feedback/form.html", "feedback/_form.html", status=status, form=form, person=item.author, item=item
    )


@bp.post("/feedback/<int:feedback_id>/delete")
@auth.login_required
async def delete(feedback_id: int) -> Response:
    """Delete feedback; with htmx the item simply disappears."""
    item = await get_feedback(feedback_id)
    await feedback.delete(auth.current(), item)
    if is_htmx():
        return toast(Response("", status=200), DELETED)  # the item swaps out
    await flash(DELETED)
    return redirect_to(url_for("accounts.profile", username=item.author.username))
