"""People's pictures: one uploaded photo, cropped to a square, kept as two small webp files (256
and 64 px, no metadata) named by their content, so a picture's URL never changes and may be
cached for ever; a new picture is a new URL. Without one, a person is shown by their initials on a
colour from their id: no image at all, so never a broken one.

The upload streams in like any file (app/files/receive.py); its type is read from the bytes and
its size from the header (with the pixel limit) before anything is decoded. The label a message or
list shows a person by carries the picture's key (app/models/names.py), so a message's cached
fragment is rendered again when its author's picture changes; nothing is published per message.
The old files go once nobody refers to them (another person may have the very same picture)."""
from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from tortoise.transactions import in_transaction

from app import signals
from app.domain import Invalid, NotFound
from app.files import images
from app.models import User, names
from app.models.files import Blob
from app.realtime.events import people_changed
from app.runtime import runtime
from app.storage import key_of

# Images a picture may be made from (what browsers and phones make); never SVG or anything a
# browser would run.
PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"})
LARGE, SMALL = 256, 64
HUES = 12  # colours of the initials: static/css/huddle.css .face-hue-0 … -11
FIELD = "picture"
NOT_A_PICTURE = "Choose a photo or picture: a JPEG, PNG, GIF, WebP or HEIC image."
TOO_MANY_PIXELS = "That image is too large to read (too many pixels): choose a smaller one."
UNREADABLE = "That image could not be read: choose another one."
BAD_CROP = "The square to keep must lie inside the picture: choose it again."
TOO_FAST = "You are uploading very fast: wait {wait} s, then try again."
NUMBER = re.compile(r"[0-9]{1,6}")


class Crop(NamedTuple):
    """The square to keep, in the image's pixels as it is displayed (its EXIF orientation applied)."""
    x: int
    y: int
    size: int


def crop_from(fields: Mapping[str, str]) -> Crop | None:
    """The square a form chose (x, y, size), or None when it chose none (the centre is kept).
    Anything but three whole numbers is refused with a message the form shows."""
    values = [str(fields.get(name) or "").strip() for name in Crop._fields]
    if not any(values):
        return None
    if not all(NUMBER.fullmatch(value) for value in values):
        raise Invalid({FIELD: BAD_CROP})
    return Crop(*(int(value) for value in values))


def check_crop(crop: Crop | None, width: int, height: int) -> Crop | None:
    if crop is not None and (crop.size < 1 or crop.x + crop.size > width or crop.y + crop.size > height):
        raise Invalid({FIELD: BAD_CROP})
    return crop


def _made(path: Path, crop: Crop | None) -> tuple[bytes, bytes]:
    """In a thread: the type from the bytes, the size from the header (the pixel limit), then the
    two squares. Refusals are Invalid, in words for the form."""
    media_type = images.sniff(path)
    if media_type not in PICTURE_TYPES:
        raise Invalid({FIELD: NOT_A_PICTURE})
    try:
        info = images.inspect(path, media_type)
        if info is None:  # a picture's type, but its header cannot be read
            raise Invalid({FIELD: UNREADABLE})
        return images.avatar(path, media_type, check_crop(crop, info.width, info.height))
    except images.TooManyPixels as refused:
        raise Invalid({FIELD: TOO_MANY_PIXELS}) from refused
    except (OSError, ValueError, EOFError, SyntaxError) as broken:  # what Pillow raises for bad data
        raise Invalid({FIELD: UNREADABLE}) from broken


async def set_picture(actor: User, path: Path, crop: Crop | None = None) -> User:
    """The person's new picture from an uploaded file (the caller removes it). Counted in the
    posting limit like any upload; the old picture's files go if nobody else has them."""
    await runtime().limiters.post_user.spend(str(actor.id), TOO_FAST)
    large, small = await asyncio.to_thread(_made, path, crop)
    keys = key_of(large), key_of(small)
    storage = runtime().storage
    for key, data in zip(keys, (large, small), strict=True):
        await storage.put_bytes(key, data, "image/webp")
    old = await _replace(actor, *keys)
    await discard(old - set(keys))
    await names.new_epoch()  # a face is part of a label: what is rendered with it is keyed anew
    await people_changed()  # lists of people fetch themselves again, with the new face
    return actor


async def remove_picture(actor: User) -> User:
    """Back to initials; the files go if nobody else has them."""
    await discard(await _replace(actor, None, None))
    await names.new_epoch()
    await people_changed()
    return actor


async def _replace(actor: User, large: str | None, small: str | None) -> set[str]:
    """Set the keys with the person's row locked (two uploads at once: each sees the other's
    keys as old, so none is left behind); returns the keys it had."""
    async with in_transaction() as conn:
        row = await User.filter(id=actor.id).select_for_update().using_db(conn).first()
        if row is None:
            raise NotFound("There is no such account.")
        old = {key for key in (row.avatar, row.avatar_small) if key}
        await User.filter(id=actor.id).using_db(conn).update(avatar=large, avatar_small=small)
    actor.avatar, actor.avatar_small = large, small
    return old


async def discard(keys: Iterable[str]) -> None:
    """Delete these stored files unless a person's picture or a file still refers to them (the
    same bytes are stored once, whoever uploaded them)."""
    keys = set(keys)
    if not keys:
        return
    users = await User.filter(avatar__in=keys).values_list("avatar", flat=True)
    users += await User.filter(avatar_small__in=keys).values_list("avatar_small", flat=True)
    blobs = set()
    for column in ("key", "thumb_key", "large_key"):
        blobs.update(await Blob.filter(**{f"{column}__in": keys}).values_list(column, flat=True))
    for key in keys - set(users) - blobs:
        await runtime().storage.delete(key)


async def served_key(user_id: int, key: str, size: int) -> str:
    """The stored file to serve for a picture's URL: only the person's current picture (an old or
    guessed key is not found), at 256 or 64 px."""
    found = await User.filter(id=user_id).values_list("avatar", "avatar_small")
    if size not in (LARGE, SMALL) or not found or found[0][0] is None or found[0][0] != key:
        raise NotFound("There is no such picture.")
    return found[0][0] if size == LARGE else found[0][1]


async def forget(user: User) -> None:
    """A deleted account's picture goes with it (signals.account_deleted)."""
    await discard(key for key in (user.avatar, user.avatar_small) if key)


def subscribe() -> None:
    """At start-up: act on what accounts announce (app/signals.py)."""
    signals.account_deleted.connect(forget)


WORD_BREAK = re.compile(r"[\s._\-]+")


def initials(name: str) -> str:
    """ "Ada Lovelace" → "AL", "ada" → "A", "bob_smith" → "BS": the first letter or digit of the
    first and last words, as the face of someone without a picture."""
    words = [word for word in WORD_BREAK.split(name) if any(c.isalnum() for c in word)]
    picked = words[:1] + words[1:][-1:]
    return "".join(next(c for c in word if c.isalnum()) for word in picked).upper()[:2] or "?"


def hue(user_id: int | None) -> int:
    """The colour of a person's initials (one of HUES), the same on every page."""
    return (user_id or 0) % HUES
