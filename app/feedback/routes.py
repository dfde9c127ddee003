"""Feedback: users write to the people who run the site; admins read and manage all of it."""
from __future__ import annotations

from quart import Blueprint, Response, abort, flash, request
from quart_auth import logout_user
from werkzeug.exceptions import Forbidden

from app.accounts import auth, service
from app.domain import DomainError
from app.web.forms import Form, domain_error_page
from app.web.htmx import is_htmx, redirect_to, render
from app.models import Feedback, User

bp = Blueprint("feedback", __name__)
bp.register_error_handler(DomainError, domain_error_page)


async def get_user(username: str) -> User:
    """The user the URL names, if the viewer may manage their things (them, or an admin)."""
    person = await service.get_user(username)
    me = auth.current()
    if person.id != me.id and not me.is_admin:
        raise Forbidden("Only this user and administrators can do that.")
    return person


async def get_feedback(feedback_id: int) -> Feedback:
    """The feedback, if the viewer is its author or an admin (404 if missing, 403 if not theirs)."""
    item = await Feedback.get_or_none(id=feedback_id).select_related("author")
    if item is None:
        abort(404, description="That feedback does not exist (perhaps it was deleted).")
    me = auth.current()
    if item.author_id != me.id and not me.is_admin:
        raise Forbidden("Only its author and administrators can change this feedback.")
    return item


async def check_feedback(data) -> Form:
    title, content = data.get("title", "").strip(), data.get("content", "").strip()
    form = Form(values={"title": title, "content": content})
    if not title:
        form.error("title", "Enter a title.")
    elif len(title) > Feedback.TITLE_MAX:
        form.error("title", f"Keep the title to {Feedback.TITLE_MAX} characters (this one has {len(title)}).")
    if not content:
        form.error("content", "Write what you want to tell us.")
    elif len(content) > Feedback.CONTENT_MAX:
        form.error("content", f"Keep it under {Feedback.CONTENT_MAX:,} characters.")
    return form


@bp.route("/users/<username>/feedback/add", methods=["GET", "POST"])
@auth.login_required
async def add(username: str) -> Response:
    """Write feedback: in place on the profile with htmx, as its own page without."""
    person = await get_user(username)
    if request.args.get("cancel") and is_htmx():
        return await render("feedback/_new_slot.html")
    form, status = Form(), 200
    if request.method == "POST":
        form = await check_feedback(await request.form)
        if form.ok:
            item = await Feedback.create(title=form.values["title"], content=form.values["content"], author=person)
            item.author = person
            if is_htmx():
                return await render("feedback/_created.html", item=item)
            await flash("Thank you: your feedback was added.")
            return redirect_to(f"/users/{person.username}")
        status = 422
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
        form = await check_feedback(await request.form)
        if form.ok:
            item.title, item.content = form.values["title"], form.values["content"]
            await item.save()
            if is_htmx():
                return await render("feedback/_item.html", item=item)
            await flash("Feedback updated.")
            return redirect_to(f"/users/{item.author.username}")
        status = 422
    return await render(
        "feedback/form.html", "feedback/_form.html", status=status, form=form, person=item.author, item=item
    )


@bp.post("/feedback/<int:feedback_id>/delete")
@auth.login_required
async def delete(feedback_id: int) -> Response:
    """Delete feedback; with htmx the item simply disappears."""
    item = await get_feedback(feedback_id)
    await item.delete()
    if is_htmx():
        return Response("", status=200)
    await flash("Feedback deleted.")
    return redirect_to(f"/users/{item.author.username}")


@bp.post("/users/<username>/delete")
@auth.login_required
async def delete_account(username: str) -> Response:
    """Delete an account with its feedback: the owner's own, or anyone's by an admin (not their own)."""
    person = await service.get_user(username)
    me = auth.current()
    await service.delete_account(me, person)
    if person.id == me.id:
        logout_user()
        await flash("Your account and your feedback have been deleted.")
        return redirect_to("/")
    await flash(f"Deleted {person.username} and their feedback.")
    return redirect_to("/admin/users")
