"""Files Huddle makes for itself in its data directory: the secret key, Web Push's VAPID key."""
from __future__ import annotations

import os
from pathlib import Path


def private_file_once(path: Path, make) -> bytes:
    """The content of a private file (mode 600) made once: if it does not exist, make() is written
    to a private temp file linked into place, atomically, so workers starting at once all read the
    winner's, never a half-written one. Secrets kept in the data directory (the secret key, Web
    Push's VAPID key) come from here."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()
