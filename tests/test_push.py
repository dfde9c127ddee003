"""Web Push, its doors: the site's VAPID key, subscriptions kept with their session (by token or by
the page's cookie with its CSRF token), every malformed field a clear 422 naming it, at most 20
per person, and push endpoints that cannot be aimed inward (SSRF), at subscribe time and at send
time. Delivery itself: tests/test_push_delivery.py."""
from __future__ import annotations

import ipaddress
import json
import os
import socket
import stat
import struct

import pytest

from app import create_app
from app.config import Settings, SettingsError
from app.models import PushSubscription, UserSession
from app.notify import push_endpoints, push_keys
from app.notify.push_subscriptions import PER_PERSON
from tests.helpers.api import Api, api_login
from tests.helpers.push_receiver import b64url, unb64url

SUBSCRIPTIONS = "/api/v1/push/subscriptions"


@pytest.fixture
def settings(settings, receiver) -> Settings:
    """The local receiver is a listed origin (plain http on loopback: refused otherwise)."""
    return settings.replace(push_allowed_origins=(receiver.origin,), admin_email="ops@example.com")


async def page_headers(client) -> dict:
    """What push.js sends with the page's cookie: its CSRF token, from this site."""
    return {"X-CSRF-Token": await client.token(), "Origin": "http://localhost"}


# --- the key ------------------------------------------------------------------------------------

async def test_anyone_gets_the_sites_public_key_made_once_and_kept_private_in_the_data_folder(app, settings):
    status, body, _ = await Api(app).get("/api/v1/push/key")
    assert status == 200
    point = unb64url(body["data"]["public_key"])
    assert len(point) == 65 and point[0] == 4
    path = settings.data_dir / push_keys.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    push_keys._keys.cache_clear()  # another process of this host reads the same file
    assert push_keys.keys(settings).public_key == body["data"]["public_key"]


def test_a_key_given_by_setting_is_used_on_every_host_and_a_bad_one_stops_the_start(tmp_path):
    raw = os.urandom(32)
    first = push_keys.keys(Settings(data_dir=tmp_path / "a", vapid_private_key=b64url(raw)))
    second = push_keys.keys(Settings(data_dir=tmp_path / "b", vapid_private_key=b64url(raw)))
    assert first.public_key == second.public_key and not (tmp_path / "a").exists()
    with pytest.raises(ValueError, match="HUDDLE_VAPID_PRIVATE_KEY"):
        push_keys.keys(Settings(data_dir=tmp_path, vapid_private_key="c2hvcnQ"))


def test_the_vapid_subject_is_the_admins_address_else_the_sites_host():
    assert Settings(admin_email="ops@example.com").vapid_subject() == "mailto:ops@example.com"
    assert Settings(base_url="https://chat.example.com:8443").vapid_subject() == "https://chat.example.com"


def test_allowed_origins_are_origins():
    settings = Settings(push_allowed_origins="http://127.0.0.1:8081, https://Relay.example")
    assert settings.push_allowed_origins == ("http://127.0.0.1:8081", "https://relay.example:443")
    for wrong in ("relay.example", "https://relay.example/push", "ftp://x:1", "https://a@relay.example"):
        with pytest.raises(SettingsError, match="HUDDLE_PUSH_ALLOWED_ORIGINS"):
            os.environ["HUDDLE_PUSH_ALLOWED_ORIGINS"] = wrong
            try:
                Settings.from_env()
            finally:
                del os.environ["HUDDLE_PUSH_ALLOWED_ORIGINS"]


# --- subscribing ----------------------------------------------------------------------------------

async def test_a_program_subscribes_with_its_tokens_session_and_the_same_endpoint_again_updates_it(app, alice,
                                                                                               receiver):
    api = await api_login(app, "alice")
    browser = receiver.browser()
    status, body, _ = await api.post(SUBSCRIPTIONS, browser.subscription(), headers={"User-Agent": "bot/1"})
    assert status == 201 and body["data"]["endpoint"] == browser.endpoint
    row = await PushSubscription.get(id=body["data"]["id"])
    session = await UserSession.get(id=row.session_id)
    assert (session.kind, row.user_id, row.user_agent) == ("api", alice.id, "bot/1")
    renewed = receiver.browser()
    again = {**renewed.subscription(), "endpoint": browser.endpoint}
    status, body, _ = await api.post(SUBSCRIPTIONS, again)
    assert status == 200 and await PushSubscription.all().count() == 1
    assert (await PushSubscription.get(id=row.id)).p256dh == renewed.p256dh


async def test_a_page_subscribes_with_its_cookie_session_only_with_its_csrf_token(app, alice, client, receiver):
    await client.login("alice")
    browser = receiver.browser()
    raw = client.raw
    refused = await raw.post(SUBSCRIPTIONS, json=browser.subscription())
    assert refused.status_code == 403 and "X-CSRF-Token" in (await refused.get_json())["error"]["message"]
    foreign = {**await page_headers(client), "Origin": "https://evil.example"}
    assert (await raw.post(SUBSCRIPTIONS, json=browser.subscription(), headers=foreign)).status_code == 403
    assert await PushSubscription.all().count() == 0
    made = await raw.post(SUBSCRIPTIONS, json=browser.subscription(), headers=await page_headers(client))
    assert made.status_code == 201
    row = await PushSubscription.get(endpoint=browser.endpoint)
    assert (await UserSession.get(id=row.session_id)).kind == "web"


async def test_nobody_signed_in_subscribes_or_unsubscribes(app, receiver):
    anonymous = Api(app)
    status, body, response = await anonymous.post(SUBSCRIPTIONS, receiver.browser().subscription())
    assert status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await anonymous.delete(SUBSCRIPTIONS, json={"endpoint": "https://push.example/x"}))[0] == 401


async def test_each_person_removes_only_their_own_subscription_admins_included(app, admin, alice, bob, receiver):
    alices = await api_login(app, "alice")
    browser = receiver.browser()
    await alices.post(SUBSCRIPTIONS, browser.subscription())
    for other in ("bob", "admin"):
        status, body, _ = await (await api_login(app, other)).delete(SUBSCRIPTIONS, json={"endpoint": browser.endpoint})
        assert status == 404 and body["error"]["code"] == "not_found"
    assert await PushSubscription.filter(user_id=alice.id).count() == 1
    status, body, _ = await alices.delete(SUBSCRIPTIONS, json={"endpoint": browser.endpoint})
    assert status == 200 and await PushSubscription.all().count() == 0


def _keys(**changes) -> dict:
    good = {"p256dh": b64url(b"\x04" + bytes(64)), "auth": b64url(bytes(16))}
    return {**good, **changes}


NOT_ON_THE_CURVE = b64url(b"\x04" + bytes(range(64)))


@pytest.mark.parametrize("body, field", [
    ({"keys": _keys()}, "endpoint"),
    ({"endpoint": "not a url", "keys": _keys()}, "endpoint"),
    ({"endpoint": "https://", "keys": _keys()}, "endpoint"),
    ({"endpoint": "https://push.example/" + "x" * 3000, "keys": _keys()}, "endpoint"),
    ({"endpoint": "https://push.example/\x00", "keys": _keys()}, "endpoint"),
    ({"endpoint": 12, "keys": _keys()}, "endpoint"),
    ({"endpoint": "RECEIVER"}, "keys"),
    ({"endpoint": "RECEIVER", "keys": _keys(p256dh="not base64!")}, "keys.p256dh"),
    ({"endpoint": "RECEIVER", "keys": _keys(p256dh=b64url(b"\x04" + bytes(30)))}, "keys.p256dh"),
    ({"endpoint": "RECEIVER", "keys": _keys(p256dh=b64url(b"\x03" + bytes(64)))}, "keys.p256dh"),
    ({"endpoint": "RECEIVER", "keys": _keys(p256dh=NOT_ON_THE_CURVE)}, "keys.p256dh"),
    ({"endpoint": "RECEIVER", "keys": _keys(auth=b64url(bytes(15)))}, "keys.auth"),
    ({"endpoint": "RECEIVER", "keys": _keys(auth="*" * 22)}, "keys.auth"),
    ({"endpoint": "RECEIVER", "keys": _keys(auth=None)}, "keys.auth"),
])
async def test_each_malformed_field_is_a_clear_422_naming_it(app, alice, receiver, body, field):
    api = await api_login(app, "alice")
    if body.get("endpoint") == "RECEIVER":
        body = {**body, "endpoint": receiver.browser().endpoint}
    if "keys" in body and body["keys"].get("p256dh") == b64url(b"\x04" + bytes(64)):
        body["keys"]["p256dh"] = receiver.browser().p256dh  # a real point unless the case breaks it
    status, answer, _ = await api.post(SUBSCRIPTIONS, body)
    assert status == 422, answer
    assert field in answer["error"]["fields"], answer
    assert await PushSubscription.all().count() == 0


async def test_a_body_that_is_not_json_is_refused(app, alice):
    api = await api_login(app, "alice")
    status, _, _ = await api.post(SUBSCRIPTIONS, headers={"Content-Type": "text/plain"}, data="endpoint")
    assert status == 415


async def test_a_person_has_at_most_twenty_subscriptions(app, alice, receiver):
    api = await api_login(app, "alice")
    for _ in range(PER_PERSON):
        assert (await api.post(SUBSCRIPTIONS, receiver.browser().subscription()))[0] == 201
    status, body, _ = await api.post(SUBSCRIPTIONS, receiver.browser().subscription())
    assert status == 422 and "20 browsers" in body["error"]["fields"]["endpoint"]
    assert await PushSubscription.all().count() == PER_PERSON
    first = await PushSubscription.all().order_by("id").first()  # a known one still updates
    assert (await api.post(SUBSCRIPTIONS, {"endpoint": first.endpoint, "keys": receiver.browser().subscription()[
        "keys"]}))[0] == 200


# --- SSRF -------------------------------------------------------------------------------------------

REFUSED = [
    "http://push.example/x",                      # not https
    "https://127.0.0.1/x", "https://127.1.2.3/x", "https://localhost/x",
    "https://2130706433/x", "https://0x7f000001/x", "https://017700000001/x", "https://0177.0.0.1/x",
    "https://127.1/x", "https://0/x", "https://0.0.0.0/x",
    "https://[::1]/x", "https://[::]/x", "https://[::ffff:127.0.0.1]/x", "https://[::ffff:7f00:1]/x",
    "https://[::127.0.0.1]/x", "https://[64:ff9b::7f00:1]/x", "https://[2002:7f00:1::]/x",
    "https://10.0.0.1/x", "https://172.16.5.4/x", "https://192.168.1.1/x", "https://100.64.0.1/x",
    "https://169.254.169.254/latest/meta-data", "https://[fd00:ec2::254]/x", "https://[fe80::1]/x",
    "https://[fc00::1]/x", "https://224.0.0.1/x", "https://[ff02::1]/x", "https://240.0.0.1/x",
    "https://255.255.255.255/x", "https://[::ffff:10.0.0.1]/x", "https://[::ffff:169.254.169.254]/x",
    "https://good.example@127.0.0.1/x", "https://127.0.0.1#@good.example/x", "https://user:pw@push.example/x",
    "https://127.0.0.1\\@good.example/x", "https:///x", "file:///etc/passwd", "gopher://push.example/x",
]


@pytest.mark.parametrize("endpoint", REFUSED)
async def test_endpoints_aimed_inward_are_refused(endpoint):
    with pytest.raises(push_endpoints.Refused):
        await push_endpoints.check(endpoint, Settings())


@pytest.mark.parametrize("endpoint", ["https://93.184.215.14/push/abc", "https://[2606:4700::6810:84e5]/x",
                                      "https://8.8.8.8:8443/x"])
async def test_public_addresses_pass(endpoint):
    await push_endpoints.check(endpoint, Settings())


async def test_an_ipv4_address_in_ipv6_clothes_is_refused_even_a_public_one():
    """One address rule for everything Huddle connects to on someone's word (app/web/addresses.py):
    no DNS answers a public host with an IPv4-mapped IPv6 address, so the form is refused whole."""
    with pytest.raises(push_endpoints.Refused, match="private or reserved"):
        await push_endpoints.check("https://[::ffff:93.184.215.14]/x", Settings())


async def test_a_name_passes_only_if_every_address_it_has_is_public(monkeypatch):
    answers = {"push.example": ["93.184.215.14"], "rebind.example": ["93.184.215.14", "127.0.0.1"],
               "inside.example": ["10.1.2.3"]}

    async def lookup(host, port):
        return [(socket.AF_INET, address) for address in answers[host]]

    monkeypatch.setattr(push_endpoints, "lookup", lookup)
    await push_endpoints.check("https://push.example/a", Settings())
    for host in ("rebind.example", "inside.example"):
        with pytest.raises(push_endpoints.Refused, match=host):
            await push_endpoints.check(f"https://{host}/a", Settings())
    # The resolver the sender connects through answers only with what it checked.
    resolved = await push_endpoints.PinnedResolver().resolve("push.example", 443)
    assert [each["host"] for each in resolved] == ["93.184.215.14"]
    with pytest.raises(OSError):
        await push_endpoints.PinnedResolver().resolve("rebind.example", 443)


async def test_an_endpoint_aimed_inward_is_a_422_on_endpoint(app, alice):
    api = await api_login(app, "alice")
    browser = {"p256dh": b64url(b"\x04" + bytes(64)), "auth": b64url(bytes(16))}
    status, body, _ = await api.post(SUBSCRIPTIONS, {"endpoint": "https://169.254.169.254/x", "keys": browser})
    assert status == 422 and "metadata" in body["error"]["fields"]["endpoint"]


async def test_only_the_listed_origins_escape_the_address_checks(receiver):
    settings = Settings(push_allowed_origins=(receiver.origin,))
    await push_endpoints.check(receiver.origin + "/push/x", settings)
    other_port = receiver.origin.rsplit(":", 1)[0] + ":1"
    for endpoint in (other_port + "/push/x", receiver.origin.replace("http:", "https:") + "/x"):
        with pytest.raises(push_endpoints.Refused):
            await push_endpoints.check(endpoint, settings)


def test_every_embedded_ipv4_form_is_judged_by_its_ipv4_address():
    for inside in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "0.0.0.0"):
        v4 = int(ipaddress.IPv4Address(inside))
        for form in (f"::ffff:{inside}", f"::{inside}", str(ipaddress.IPv6Address((0x0064FF9B << 96) | v4)),
                     str(ipaddress.IPv6Address((0x2002 << 112) | (v4 << 80)))):
            assert push_endpoints.address_problem(form), form


async def test_the_app_starts_with_the_push_worker_and_stops_it(settings):
    app = create_app(settings)
    async with app.test_app():
        from app.runtime import Runtime

        assert Runtime.of(app).push._task is not None
    assert Runtime.of(app).push._task is None


# --- the pages ----------------------------------------------------------------------------------------

async def test_the_service_worker_is_served_at_the_root_fresh_and_the_manifest_makes_huddle_installable(client):
    worker = await client.get("/service-worker.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache" and "notificationclick" in await worker.get_data(as_text=True)
    page = await client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
    assert '<link rel="manifest" href="/manifest.webmanifest">' in await page.get_data(as_text=True)
    answer = await client.get("/manifest.webmanifest")
    assert answer.mimetype == "application/manifest+json"
    manifest = json.loads(await answer.get_data(as_text=True))
    assert (manifest["start_url"], manifest["display"], manifest["name"]) == ("/chat", "standalone", "Huddle")
    assert manifest["theme_color"] and manifest["background_color"]
    sizes = {}
    for icon in manifest["icons"]:
        png = await (await client.get(icon["src"])).get_data()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert icon["sizes"] == f"{width}x{height}"
        sizes.setdefault(icon["purpose"], set()).add(width)
    assert sizes == {"any": {192, 512}, "maskable": {512}}


async def test_the_notifications_page_offers_this_device_with_the_sites_key(app, alice, sign_in):
    page = await (await sign_in("alice")).get("/account/notifications")
    html = await page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-key="{push_keys.keys(app.config["HUDDLE"]).public_key}"' in html
    assert 'data-subscriptions-url="/api/v1/push/subscriptions"' in html
    assert 'data-worker-url="/service-worker.js"' in html
    assert "Turn on notifications" in html and "Add to Home Screen" in html
    assert "needs JavaScript" in html  # what a browser without scripts reads
