"""The front page: a welcome for visitors, the team for members."""
from __future__ import annotations

from quart import Blueprint, Response, current_app

from app.accounts import auth
from app.models import User
from app.web.htmx import render

bp = Blueprint("home", __name__)


@bp.get("/")
async def index() -> Response:
    """Visitors see what Huddle is; members see who is in the team and who is around."""
    if auth.current() is None:
        return await render("home/welcome.html")
    people = await User.all()
    online_ids = await current_app.extensions["presence"].online(person.id for person in people)
    return await render("home/index.html", people=people, online_ids=online_ids)
