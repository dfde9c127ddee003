"""A push service of our own on 127.0.0.1, standing in for FCM, Mozilla's or Apple's: a real HTTP
server (the standard library's, in a thread) that checks what a push service checks and tells the
test what arrived.

Each test makes fake browsers (`receiver.browser()`): a real P-256 key pair and a 16-byte auth
secret each, with an endpoint on this server, as `PushManager.subscribe` would. For every POST the
receiver checks the VAPID `Authorization: vapid t=<JWT>, k=<key>` (ES256 verified with the site's
public key, `aud` the endpoint's origin, `exp` within 24 hours, `sub` a mailto: or https: URL),
decrypts the aes128gcm body with that browser's own private key and auth secret, records the
headers (TTL, Urgency, Topic) and the plaintext, and answers what the test queued for that browser
(201 when nothing is queued): 410, 404, 429 with Retry-After, 500, a redirect."""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeBrowser:
    """One browser's subscription: its keys and its endpoint on the receiver."""

    def __init__(self, receiver: PushReceiver, name: str) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.path = f"/push/{name}-{os.urandom(6).hex()}"
        self.endpoint = receiver.url + self.path

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                                  serialization.PublicFormat.UncompressedPoint))

    def subscription(self) -> dict:
        """What `PushSubscription.toJSON()` gives."""
        keys = {"p256dh": self.p256dh, "auth": b64url(self.auth)}
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": keys}


@dataclass
class Push:
    """One POST as the receiver saw it."""
    path: str
    headers: dict
    body: bytes
    status: int
    payload: dict | None = None
    problems: list[str] = field(default_factory=list)


class PushReceiver:
    def __init__(self) -> None:
        self.site_key: str | None = None  # the site's VAPID public key (base64url), once the test knows it
        self.browsers: dict[str, FakeBrowser] = {}
        self.answers: dict[str, list[tuple[int, dict]]] = {}
        self.received: list[Push] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.closed = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.url = self.origin
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.server.shutdown()
            self.server.server_close()

    def wait(self, count: int, timeout: float) -> bool:
        """Block until count pushes have arrived (False after timeout): run it in a thread."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def browser(self, name: str = "browser") -> FakeBrowser:
        made = FakeBrowser(self, name)
        self.browsers[made.path] = made
        return made

    def answer(self, browser: FakeBrowser, *answers: int | tuple[int, dict]) -> None:
        """Queue the answers to browser's next pushes (then 201 again)."""
        with self.lock:
            self.answers.setdefault(browser.path, []).extend(
                each if isinstance(each, tuple) else (each, {}) for each in answers)

    def pushes(self, browser: FakeBrowser | None = None) -> list[Push]:
        with self.lock:
            return [each for each in self.received if browser is None or each.path == browser.path]

    def payloads(self, browser: FakeBrowser | None = None) -> list[dict]:
        """The decrypted JSON of each push that was accepted (answered 2xx)."""
        return [each.payload for each in self.pushes(browser) if 200 <= each.status < 300]

    # --- what a push service checks -------------------------------------------------------------

    def _vapid(self, header: str, problems: list[str]) -> None:
        scheme, _, rest = header.partition(" ")
        params = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
        if scheme.lower() != "vapid" or "t" not in params or "k" not in params:
            problems.append(f"Authorization is not 'vapid t=..., k=...': {header[:80]!r}")
            return
        if self.site_key is not None and params["k"] != self.site_key:
            problems.append("k is not the site's public key")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(params["k"]))
            claims = jwt.decode(params["t"], key, algorithms=["ES256"], audience=self.origin,
                                options={"require": ["exp", "aud", "sub"]})
        except (ValueError, jwt.PyJWTError) as error:
            problems.append(f"the VAPID JWT does not verify: {error}")
            return
        if not 0 < claims["exp"] - time.time() <= 24 * 3600:
            problems.append(f"exp is not within 24 hours: {claims['exp']}")
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            problems.append(f"sub is not a mailto: or https: URL: {claims['sub']!r}")

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        headers = {name.lower(): value for name, value in request.headers.items()}
        problems: list[str] = []
        payload = None
        browser = self.browsers.get(request.path)
        self._vapid(headers.get("authorization", ""), problems)
        if browser is None:
            problems.append(f"no subscription at {request.path}")
        elif headers.get("content-encoding") != "aes128gcm":
            problems.append(f"Content-Encoding is {headers.get('content-encoding')!r}")
        else:
            try:
                plain = http_ece.decrypt(body, private_key=browser.private_key, auth_secret=browser.auth,
                                         version="aes128gcm")
                payload = json.loads(plain)
            except Exception as error:  # noqa: BLE001 (anything wrong is the sender's fault, recorded)
                problems.append(f"the body does not decrypt: {error!r}")
        with self.lock:
            queued = self.answers.get(request.path) or []
            status, extra = queued.pop(0) if queued else (201, {})
            if problems:
                status, extra = 400, {}
            self.received.append(Push(request.path, headers, body, status, payload, problems))
            self.arrived.notify_all()
        request.send_response(status)
        for name, value in extra.items():
            request.send_header(name, value)
        request.send_header("Content-Length", "0")
        request.end_headers()
