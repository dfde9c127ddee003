"""The front page: a welcome for visitors, the team for members."""
from __future__ import annotations

from quart import Blueprint, Response, request

from app.accounts import auth
from app.models import User
from app.models.paging import page_by_name
from app.realtime import events
from app.web.htmx import render

bp = Blueprint("home", __name__)
PEOPLE_PAGE = 100


@bp.get("/")
async def index() -> Response:
    """Visitors see what Huddle is; members see who is in the team and who is around."""
    if auth.current() is None:
        return await render("home/welcome.html")
    people, next_after = await page_by_name(
        User.all(), after=request.args.get("after", "")[:60] or None, size=PEOPLE_PAGE
    )
    online_ids = await events.online_ids(person.id for person in people)
    return await render(
        "home/index.html", people=people, online_ids=online_ids, next_after=next_after, total=await User.all().count()
    )
