"""The site's VAPID key pair (RFC 8292): push services know our pushes by its public key, which a
browser is given when it subscribes, and each push carries a JWT signed with the private key.

The private key comes from HUDDLE_VAPID_PRIVATE_KEY (the same on every host), else it is
generated once into the data folder (mode 600) and read by every worker of this host. A browser
subscribed with one public key cannot be pushed with another: never regenerate it by hand."""
from __future__ import annotations

import base64
import time
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from app.config import Settings
from app.private_files import private_file_once

KEY_FILE = "vapid_private_key.pem"
JWT_SECONDS = 12 * 3600  # a push service accepts at most 24 h; re-signed well before that
RESIGN_BEFORE = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Base64url with or without its padding; ValueError on anything else."""
    if not isinstance(text, str) or not text.isascii() or any(c in text for c in "+/ \n\r\t"):
        raise ValueError("not base64url")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _from_setting(value: str) -> ec.EllipticCurvePrivateKey:
    value = value.strip()
    if value.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(value.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("HUDDLE_VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key.")
        return key
    raw = b64url_decode(value)
    if len(raw) != 32:
        raise ValueError("HUDDLE_VAPID_PRIVATE_KEY must be 32 bytes in base64url, or a PEM key.")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def _from_file(folder: Path) -> ec.EllipticCurvePrivateKey:
    """The key generated once into the data directory (the same for every worker on this host)."""
    pem = private_file_once(folder / KEY_FILE, lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return serialization.load_pem_private_key(pem, password=None)


class Keys:
    """The key pair, and the `Authorization` header for each push service (signed once, reused)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self.vapid = Vapid02(private_key=private_key)
        self.subject = subject
        point = private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.UncompressedPoint)
        self.public_key = b64url(point)  # what PushManager.subscribe takes as applicationServerKey
        self._signed: dict[str, tuple[float, str]] = {}

    def authorization(self, endpoint: str) -> str:
        """`vapid t=<JWT>, k=<public key>` for the push service of this endpoint (`aud`: its origin)."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        expires, header = self._signed.get(audience, (0.0, ""))
        if expires - now < RESIGN_BEFORE:
            expires = int(now) + JWT_SECONDS
            header = self.vapid.sign({"aud": audience, "sub": self.subject, "exp": expires})["Authorization"]
            if len(self._signed) > 1000:
                self._signed.clear()
            self._signed[audience] = (expires, header)
        return header


@lru_cache(maxsize=8)
def _keys(private_key: str | None, data_dir: Path, subject: str) -> Keys:
    key = _from_setting(private_key) if private_key else _from_file(data_dir)
    return Keys(key, subject)


def keys(settings: Settings) -> Keys:
    """This site's keys: read (or made) once a process."""
    return _keys(settings.vapid_private_key, settings.data_dir, settings.vapid_subject())
