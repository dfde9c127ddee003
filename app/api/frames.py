"""The JSON websocket's frames: one shape for answers and refusals, and the checks every action
applies to its `data` (a bad field is Invalid, answered as a refusal naming it)."""
from __future__ import annotations

import json

from app.domain import Invalid
from app.web.urls import MAX_ID, MAX_SEQ


def answer(action, data) -> str:
    return json.dumps({"action": action, "data": data}, ensure_ascii=False, separators=(",", ":"))


def refusal(action, error: str, fields: dict | None = None, retry_after: int | None = None) -> str:
    body = {"action": action, "error": error}
    if fields:
        body["fields"] = fields
    if retry_after:
        body["retry_after"] = retry_after
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def id_of(data: dict, name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise Invalid({name: f"Give {name} as a positive integer."})
    return value


def cursor_of(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEQ:
        raise Invalid({name: f"Give {name} as a number of 0 or more."})
    return value


def ids_of(data: dict, name: str) -> list[int]:
    """A list of ids (absent: none); the service checks what they name."""
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise Invalid({name: f"Give {name} as a list of ids."})
    return value


def text_of(data: dict, name: str, *, required: bool = True, limit: int = 8192) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise Invalid({name: f"Give {name} as a string."})
    if len(value) > limit:
        raise Invalid({name: f"{name} is too long."})
    return value
