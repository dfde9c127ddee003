"""Notifications as a person meets them, in Chromium with the real service worker: Bob's Huddle
tab is in the background on another conversation; Amy mentions him in #general; his browser shows
one notification ("#general", what she wrote), clicking it lands on the message, and reading the
conversation closes it. And Web Push end to end: what the app pushed to the local receiver
(tests/helpers/push_receiver.py: VAPID checked, payload decrypted) is delivered to Bob's service
worker through the DevTools protocol (ServiceWorker.deliverPushMessage) and shows as the same
notification. Chat's one-time hint is shown once, never asks for permission by itself, and stays
dismissed."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, signed_in

pytestmark = pytest.mark.browser

PERMALINK = re.compile(r"/chat/\d+/messages/\d+$")
# The notifications the page's service worker registration shows, read afresh on every poll
# (getNotifications is asynchronous: each poll starts a read and looks at the last one finished).
NOTES = """(count) => {
  navigator.serviceWorker.getRegistration().then(reg => reg ? reg.getNotifications() : []).then(shown => {
    window.huddleTestNotes = shown.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url}));
  });
  const notes = window.huddleTestNotes;
  return notes && (count === null || notes.length === count) ? notes : false;
}"""


def payload_of(receiver, device, message_id: int, timeout: float = 10) -> dict:
    """What the app pushed of this message to device, decrypted by the receiver, once it arrives."""
    def found():  # (under the receiver's lock: its condition holds it)
        return next((p.payload for p in receiver.received if p.path == device.path and p.payload
                     and p.payload.get("message_id") == message_id), None)
    with receiver.arrived:
        payload = receiver.arrived.wait_for(found, timeout)
    assert payload, f"no push of message {message_id} reached the receiver in {timeout} s"
    return payload


@pytest.fixture(scope="module")
def server(push_server):
    """Every test here may push to the module's receiver."""
    return push_server


def wait_for_notifications(page, count: int | None = None, where: str = "true", timeout: int = 20_000) -> list[dict]:
    """The notifications shown, once there are count of them (None: any number) and where holds
    (a JavaScript expression of `notes`)."""
    check = f"(count) => {{ const notes = ({NOTES})(count); return notes && ({where}) ? notes : false; }}"
    # A notification takes the post, the live event, the service worker and the notification
    # service in turn: on a loaded 2-core machine (the full suite) that passed the page default of 5 s.
    return page.wait_for_function(check, arg=count, timeout=timeout).json_value()


def with_worker(context, page, server) -> None:
    """Notifications allowed for the site, and its service worker registered as "Turn on
    notifications" registers it (static/js/push.js), from the account page's button."""
    context.grant_permissions(["notifications"], origin=server.url)
    page.goto(server.url + "/account/notifications")
    page.get_by_role("button", name="Turn on notifications").click()
    page.wait_for_function("""() => {
      navigator.serviceWorker.getRegistration().then(reg => { window.huddleTestWorker = !!(reg && reg.active); });
      return window.huddleTestWorker === true;
    }""")


# Playwright keeps every page it drives visible and foreground, whatever is in front
# (microsoft/playwright#2286: minimising, other tabs, CDP lifecycle states change nothing in headless
# Chromium). So the test puts Bob's tab in the background as the browser tells a page: the Page
# Visibility API's own properties, then its visibilitychange event. A new document (a navigation,
# as a notification's click makes) starts visible, as a tab brought to the front is.
BACKGROUND = """(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState",
                        {configurable: true, get: () => hidden ? "hidden" : "visible"});
  Object.defineProperty(Document.prototype, "hidden", {configurable: true, get: () => hidden});
  window.huddleTestBackground = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
})();"""


def hide(page) -> None:
    page.evaluate("huddleTestBackground(true)")
    assert page.evaluate("document.visibilityState") == "hidden"


def test_a_mention_in_a_hidden_tab_shows_one_notification_its_click_lands_on_the_message_and_reading_closes_it(
        server, new_context):
    server.create_user("amy", PASSWORD)
    server.create_user("ben", PASSWORD)
    amy = server.api_token("amy", PASSWORD)
    general = next(c["id"] for c in server.api("GET", "/api/v1/conversations", amy)["data"] if c["name"] == "general")
    direct = server.api("POST", "/api/v1/conversations", amy, {"usernames": ["ben"]})["data"]["id"]
    server.api("POST", f"/api/v1/conversations/{direct}/messages", amy, {"text": "hi ben"})

    context = new_context(viewport={"width": 1200, "height": 800})
    context.add_init_script(BACKGROUND)
    ben = context.new_page()
    log_in(ben, server, "ben")
    with_worker(context, ben, server)
    ben.goto(f"{server.url}/chat/{direct}")  # Ben reads his direct conversation, then switches tabs
    expect(ben.locator("article.message", has_text="hi ben")).to_be_visible()
    hide(ben)

    said = server.api("POST", f"/api/v1/conversations/{general}/messages", amy, {"text": "@ben standup in 5"})["data"]
    [note] = wait_for_notifications(ben, 1)
    assert note == {"title": "#general", "body": "amy: @ben standup in 5", "tag": f"conversation-{general}",
                    "url": f"/chat/{general}/messages/{said['id']}"}
    # A second message there is the same notification, replaced, not a second one.
    server.api("POST", f"/api/v1/conversations/{general}/messages", amy, {"text": "@ben or now"})
    [note] = wait_for_notifications(ben, None, "notes.some(n => n.body === 'amy: @ben or now')")
    assert note["tag"] == f"conversation-{general}"

    # The click, as the browser gives it to the service worker: Ben's tab goes to the message.
    [worker] = context.service_workers
    worker.evaluate("""async () => {
      const [shown] = await self.registration.getNotifications();
      try { self.dispatchEvent(new NotificationEvent("notificationclick", {notification: shown})); } catch (e) {}
    }""")
    ben.wait_for_url(PERMALINK)  # and is in front: he reads the conversation, which closes the notification
    expect(ben.locator("article.message", has_text="or now")).to_be_visible()
    wait_for_notifications(ben, 0)


def test_a_push_the_app_sent_shows_in_the_browser(server, receiver, new_context):
    server.create_user("cat", PASSWORD)
    server.create_user("dan", PASSWORD)
    cat = server.api_token("cat", PASSWORD)
    dan = server.api_token("dan", PASSWORD)
    receiver.site_key = server.api("GET", "/api/v1/push/key")["data"]["public_key"]
    device = receiver.browser("dan")  # Dan's device at the local push service
    server.api("POST", "/api/v1/push/subscriptions", dan, device.subscription())

    context = new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    log_in(page, server, "dan")  # a visible tab on #general: it shows nothing itself
    with_worker(context, page, server)
    cdp = context.new_cdp_session(page)
    registrations: dict[str, dict] = {}  # by id, as last updated: one may be replaced (isDeleted)
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.update({r["registrationId"]: r for r in event["registrations"]}))
    cdp.send("ServiceWorker.enable")
    page.goto(server.url + "/chat")

    direct = server.api("POST", "/api/v1/conversations", cat, {"usernames": ["dan"]})["data"]["id"]
    said = server.api("POST", f"/api/v1/conversations/{direct}/messages", cat, {"text": "lunch at noon?"})["data"]
    pushed = payload_of(receiver, device, said["id"])
    assert pushed["tag"] == f"conversation-{direct}" and pushed["title"] == "cat"
    registration = [r["registrationId"] for r in registrations.values()
                    if r["scopeURL"].startswith(server.url) and not r.get("isDeleted")][-1]
    # The DevTools protocol hands the push to the worker; on a loaded machine the worker may not take
    # the first one (it is started for it). A push service delivers again; so does this, at most 3 times,
    # and the same tag shows one notification however many arrive.
    for attempt in range(3):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": server.url, "registrationId": registration,
                                                      "data": json.dumps(pushed)})
        try:
            [note] = wait_for_notifications(page, 1, timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    assert note == {"title": "cat", "body": "lunch at noon?", "tag": f"conversation-{direct}",
                    "url": f"/chat/{direct}/messages/{said['id']}"}


def test_the_hint_shows_once_asks_nothing_and_stays_dismissed(server, new_context):
    page = signed_in(server, new_context, "eve", viewport={"width": 390, "height": 800})
    hint = page.locator("[data-notify-hint]")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Get notified of mentions and direct messages")
    assert page.evaluate("Notification.permission") == "default"  # shown, never asked
    check_accessibility(page)
    hint.get_by_role("link", name="Turn on notifications").click()
    page.wait_for_url(re.compile(r"/account/notifications$"))
    page.go_back()
    page.locator("[data-notify-hint]").get_by_role("button", name="Dismiss").click()
    expect(hint).to_be_hidden()
    page.reload()
    expect(page.locator("[data-notify-hint]")).to_be_hidden()
