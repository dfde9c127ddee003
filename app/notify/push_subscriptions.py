"""A browser's PushManager subscription, kept with the signed-in session that made it: a page's
cookie session or a program's API token. Deleting the session (logout, revocation, expiry, a new
password, a deleted account) deletes its subscriptions with it (ON DELETE CASCADE), so nothing is
pushed to a device after it was logged out. The same endpoint again updates its row (a browser
renews its keys, or another account signs in on it) rather than adding one."""
from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from tortoise.transactions import in_transaction

from app.config import Settings
from app.domain import Invalid, NotFound
from app.models import PushSubscription, User, UserSession
from app.notify import push_endpoints
from app.notify.push_keys import b64url_decode

PER_PERSON = 20


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode("utf-8", "surrogatepass")).hexdigest()


def _p256dh_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not 40 <= len(value) <= 100:
        return "Give the browser's p256dh key: 65 bytes in base64url."
    try:
        raw = b64url_decode(value)
    except ValueError:
        return "The p256dh key is not base64url."
    if len(raw) != 65 or raw[0] != 4:
        return "The p256dh key must be an uncompressed P-256 point (65 bytes, starting 0x04)."
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return "The p256dh key is not a point on the P-256 curve."
    return None


def _auth_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not 16 <= len(value) <= 32:
        return "Give the browser's auth secret: 16 bytes in base64url."
    try:
        raw = b64url_decode(value)
    except ValueError:
        return "The auth secret is not base64url."
    return None if len(raw) == 16 else "The auth secret must be 16 bytes."


async def check(endpoint: Any, p256dh: Any, auth: Any, settings: Settings) -> None:
    """Invalid, naming each field that is wrong (the endpoint's address checked as well)."""
    errors = {}
    try:
        await push_endpoints.check(endpoint, settings)
    except push_endpoints.Refused as refused:
        errors["endpoint"] = str(refused)
    if problem := _p256dh_problem(p256dh):
        errors["keys.p256dh"] = problem
    if problem := _auth_problem(auth):
        errors["keys.auth"] = problem
    if errors:
        raise Invalid(errors)


async def subscribe(session: UserSession, endpoint: Any, p256dh: Any, auth: Any, *, user_agent: str = "",
                    settings: Settings) -> tuple[PushSubscription, bool]:
    """Keep this session's subscription (made, or updated if the endpoint is known): (row, created).
    At most PER_PERSON per person: the next one is refused, naming how to make room."""
    await check(endpoint, p256dh, auth, settings)
    digest = endpoint_hash(endpoint)
    values = {"user_id": session.user_id, "session_id": session.id, "endpoint": endpoint, "p256dh": p256dh,
              "auth": auth, "user_agent": user_agent[:255]}
    async with in_transaction() as conn:
        # One person's subscriptions take turns here, so two at once cannot both be the 20th.
        await User.filter(id=session.user_id).select_for_update().using_db(conn).first()
        found = await PushSubscription.filter(endpoint_hash=digest).using_db(conn).first()
        others = PushSubscription.filter(user_id=session.user_id).exclude(endpoint_hash=digest)
        if await others.using_db(conn).count() >= PER_PERSON:
            raise Invalid({"endpoint": f"You have notifications on in {PER_PERSON} browsers already: turn them off "
                                       "in one (or log it out on the sessions page) first."})
        if found is None:
            return await PushSubscription.create(endpoint_hash=digest, **values, using_db=conn), True
        await PushSubscription.filter(id=found.id).using_db(conn).update(**values)
        await found.refresh_from_db(using_db=conn)
        return found, False


async def unsubscribe(user: User, endpoint: Any) -> None:
    """Forget one of this person's subscriptions (any of their devices); NotFound for anything else."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > push_endpoints.MAX_LENGTH:
        raise Invalid({"endpoint": "Give the subscription's endpoint URL."})
    deleted = await PushSubscription.filter(endpoint_hash=endpoint_hash(endpoint), user_id=user.id).delete()
    if not deleted:
        raise NotFound("No subscription of yours has that endpoint.")


async def of_session(session: UserSession) -> list[PushSubscription]:
    return await PushSubscription.filter(session_id=session.id).order_by("id")


def shape(subscription: PushSubscription) -> dict:
    """What a program is told of a subscription (never its keys)."""
    return {"id": subscription.id, "endpoint": subscription.endpoint,
            "created": subscription.created_at.isoformat() if subscription.created_at else None,
            "last_sent": subscription.last_sent_at.isoformat() if subscription.last_sent_at else None}
