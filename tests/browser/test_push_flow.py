"""Web Push in Chromium, as a person meets it: "Turn on notifications" on the notifications page
(permission granted in the profile; nothing asks on a page load), the service worker registered at
the root, the browser's subscription stored with this login; a push delivered to the real service
worker through the DevTools protocol shows a notification (one per conversation: a second push of
it replaces the first), clicking it takes the open Huddle window to the message, and a close push
closes it; "Turn off" unsubscribes and deletes it. Accessible at phone width.

Headless Chromium cannot reach a real push service (its subscribe needs Google's), so the page's
PushManager.subscribe answers with a subscription of our local receiver's (tests/helpers/
push_receiver.py: a real P-256 key pair and auth secret), as a browser would: everything else is
the browser's own. What the server sends, encrypted and signed, is tested against the same receiver
in tests/test_push_delivery.py."""
from __future__ import annotations

import json
import re
import sqlite3
import time

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import account_menu, check_accessibility, log_in, screenshot, signed_in

pytestmark = pytest.mark.browser

# PushManager.subscribe as a push service would answer it, for the receiver's fake browser (kept in
# localStorage, so a reloaded page finds it as a browser would).
FAKE_SUBSCRIBE = """
((subscription) => {
  if (typeof window === "undefined" || !window.PushManager) return;
  const made = () => ({endpoint: subscription.endpoint, expirationTime: null, toJSON: () => subscription,
                       unsubscribe: () => { localStorage.removeItem("fake-push"); return Promise.resolve(true); }});
  PushManager.prototype.subscribe = function (options) {
    const key = String.fromCharCode(...new Uint8Array(options.applicationServerKey));
    localStorage.setItem("fake-push-key", btoa(key).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, ""));
    localStorage.setItem("fake-push", "1");
    return Promise.resolve(made());
  };
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(localStorage.getItem("fake-push") ? made() : null);
  };
})(SUBSCRIPTION);
"""


@pytest.fixture(scope="module")
def server(push_server):
    """Every test here may push to the module's receiver."""
    return push_server


def stored(server) -> list[tuple]:
    with sqlite3.connect(server.data_dir / "huddle.db") as db:
        return db.execute("SELECT p.endpoint, s.kind, u.username FROM push_subscriptions p JOIN user_sessions s "
                          "ON s.id = p.session_id JOIN users u ON u.id = p.user_id").fetchall()


def notifications(page) -> list[dict]:
    return page.evaluate("""() => navigator.serviceWorker.ready.then(reg => reg.getNotifications())
        .then(list => list.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))""")


def test_turning_notifications_on_showing_a_push_clicking_it_and_closing_it(server, receiver, new_context):
    server.create_user("pia", PASSWORD)
    context = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    browser = receiver.browser("pia")
    context.add_init_script(script=FAKE_SUBSCRIBE.replace("SUBSCRIPTION", json.dumps(browser.subscription())))
    page = context.new_page()
    log_in(page, server, "pia")
    general = int(page.url.rstrip("/").split("/")[-1])
    assert page.evaluate("Notification.permission") == "default"  # nothing asked on the way in

    context.grant_permissions(["notifications"], origin=server.url)
    account_menu(page).get_by_role("link", name="Notifications").click()
    expect(page).to_have_url(server.url + "/account/notifications")
    status = page.locator("[data-push-status]")
    expect(status).to_contain_text("Off")
    expect(page.get_by_text("Add to Home Screen", exact=False)).to_be_visible()
    check_accessibility(page)

    page.get_by_role("button", name="Turn on notifications").click()
    expect(status).to_contain_text("On: this browser shows")
    expect(page.get_by_role("button", name="Turn off notifications")).to_be_visible()
    assert stored(server) == [(browser.endpoint, "web", "pia")]  # with this login's browser session
    site_key = server.api("GET", "/api/v1/push/key")["data"]["public_key"]
    assert page.evaluate("localStorage.getItem('fake-push-key')") == site_key  # subscribed with the site's key
    screenshot(page, "push-settings-phone")

    # The real service worker, registered at the root.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)") == server.url + "/"
    cdp = context.new_cdp_session(page)
    registrations: dict[str, str] = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.update({r["scopeURL"]: r["registrationId"] for r in event["registrations"]}))
    cdp.send("ServiceWorker.enable")
    registration_id = wait_for(lambda: (page.evaluate("0"), registrations.get(server.url + "/"))[1], bool)

    token = server.api_token("pia", PASSWORD)
    posted = server.api("POST", f"/api/v1/conversations/{general}/messages", token, {"text": "Deploy at five?"})
    message = posted["data"]
    permalink = f"/chat/{general}/messages/{message['id']}"

    def push(data: dict) -> None:
        cdp.send("ServiceWorker.deliverPushMessage",
                 {"origin": server.url, "registrationId": registration_id, "data": json.dumps(data)})

    tag = f"conversation-{general}"
    push({"title": "#general", "body": "first", "tag": tag, "url": permalink, "renotify": True})
    push({"title": "#general", "body": "Deploy at five?", "tag": tag, "url": permalink, "renotify": True})
    shown = wait_for(lambda: notifications(page), lambda found: [n["body"] for n in found] == ["Deploy at five?"])
    assert shown == [{"title": "#general", "body": "Deploy at five?", "tag": tag, "url": permalink}]

    # Clicking it: the service worker's click handler takes the open window to the message.
    page.goto(server.url + f"/chat/{general}")
    worker = next(each for each in context.service_workers if each.url.startswith(server.url))
    worker.evaluate("""() => self.registration.getNotifications().then(list => {
        self.dispatchEvent(new NotificationEvent('notificationclick', {notification: list[0]}));
    })""")
    expect(page).to_have_url(re.compile(re.escape(server.url + permalink) + "$"))
    expect(page.locator(f"#message-{message['id']}")).to_be_visible()

    # Read on some device: a close push closes the conversation's notifications.
    push({"title": "#general", "body": "again", "tag": tag, "url": permalink})
    wait_for(lambda: notifications(page), lambda found: len(found) == 1)
    push({"close": tag})
    wait_for(lambda: notifications(page), lambda found: found == [])

    # Logging out ends the session and its subscription; the next login's first page stores the
    # browser's subscription again, so pushes resume without a visit to the settings.
    account_menu(page).get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/login"))
    assert stored(server) == []
    with page.expect_response(lambda r: r.url == server.url + "/api/v1/push/subscriptions"
                              and r.request.method == "POST") as again:
        log_in(page, server, "pia")
    assert again.value.status == 201  # made anew: the logout deleted it
    assert stored(server) == [(browser.endpoint, "web", "pia")]

    # Turned off: unsubscribed, and the server forgets it.
    page.goto(server.url + "/account/notifications")
    expect(status).to_contain_text("On: this browser shows")
    page.get_by_role("button", name="Turn off notifications").click()
    expect(status).to_contain_text("Off: this browser shows no notifications")
    assert stored(server) == []


def test_without_javascript_the_page_says_what_it_needs(server, new_context):
    page = signed_in(server, new_context, "quin", java_script_enabled=False)
    page.goto(server.url + "/account/notifications")
    status = page.locator("[data-push-status]")
    expect(status).to_have_text("Turning notifications on needs JavaScript in this browser.")
    expect(page.get_by_role("button", name="Turn on notifications")).to_be_hidden()


def wait_for(read, done, timeout: float = 20.0):
    """Read until done(value): the browser shows and closes notifications, and reports its workers,
    asynchronously; each read is a round trip to it. The last value. (20 s: under the full suite's
    load on 2 cores a push once took over 5 s to show.)"""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        value = read()
    assert done(value), value
    return value
