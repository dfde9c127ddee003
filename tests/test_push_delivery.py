"""Web Push delivery against a real push receiver (tests/helpers/push_receiver.py): what arrives
decrypts with the browser's own keys under a verified VAPID signature, is small whatever the
message, lives 12 hours, says how urgent it is and collapses per conversation; what the push
service answers decides what happens (sent, subscription deleted, Retry-After, retries then
dropped), every outcome counted for the admins; a session that ended gets nothing; a restart
loses nothing; two workers on one PostgreSQL database send each push once."""
from __future__ import annotations

import asyncio
import json
import socket
import sys
from datetime import timedelta
from email.utils import format_datetime

import pytest

from app import clock, create_app
from app.config import ROOT
from app.models import PushCount, PushDelivery, PushSubscription, UserSession
from app.notify import push, push_endpoints, push_worker
from app.notify.push import Notification
from app.runtime import Runtime
from tests.helpers.accounts import make_user
from tests.helpers.api import Api, api_login
from tests.helpers.jobs import count_claims
from tests.helpers.postgres import child_main, in_child, pg_site
from tests.helpers.push_receiver import PushReceiver

SUBSCRIPTIONS = "/api/v1/push/subscriptions"


@pytest.fixture
def settings(settings, receiver):
    return settings.replace(push_allowed_origins=(receiver.origin,), admin_email="ops@example.com")


@pytest.fixture
async def app(app):
    """The tests deliver by hand, a round at a time (deliver_due), with no loop running beside them."""
    await Runtime.of(app).push.stop()
    return app


async def subscribed(app, receiver, username: str, *, api: Api | None = None):
    """A fake browser of username's, subscribed through the API; the receiver knows the site's key."""
    api = api or await api_login(app, username)
    receiver.site_key = (await Api(app).get("/api/v1/push/key"))[1]["data"]["public_key"]
    browser = receiver.browser(username)
    status, body, _ = await api.post(SUBSCRIPTIONS, browser.subscription())
    assert status == 201, body
    return browser


def note(text: str = "hello", *, urgent: bool = False, conversation_id: int = 7) -> Notification:
    return Notification(conversation_id=conversation_id, message_id=42, title="#general", body=text,
                        url=f"/chat/{conversation_id}/messages/42", urgent=urgent)


async def send(app, user_ids, notification: Notification) -> int:
    async with app.app_context():
        return await push.send(user_ids, notification)


async def deliver(app) -> int:
    return await Runtime.of(app).push.deliver_due()


async def counts() -> dict:
    return {row.outcome: row.count for row in await PushCount.all()}


def later(monkeypatch, seconds: float) -> None:
    moment = clock.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: moment)


# --- what arrives -----------------------------------------------------------------------------------

async def test_a_push_decrypts_with_the_browsers_keys_under_a_verified_vapid_signature(app, alice, receiver):
    browser = await subscribed(app, receiver, "alice")
    assert await send(app, [alice.id], note("Deploy at five?", urgent=True)) == 1
    await deliver(app)
    (arrived,) = receiver.pushes(browser)
    assert arrived.problems == [] and arrived.status == 201
    assert arrived.payload["title"] == "#general" and arrived.payload["body"] == "Deploy at five?"
    assert arrived.payload["url"] == "/chat/7/messages/42" and arrived.payload["tag"] == "conversation-7"
    assert arrived.payload["renotify"] is True
    assert arrived.headers["ttl"] == "43200" and arrived.headers["urgency"] == "high"
    assert arrived.headers["topic"] == "conversation-7" and len(arrived.headers["topic"]) <= 32
    assert await counts() == {"sent": 1} and await PushDelivery.all().count() == 0
    assert (await PushSubscription.get(endpoint=browser.endpoint)).last_sent_at is not None


async def test_a_long_message_is_cut_and_its_push_stays_under_3_kb(app, alice, receiver):
    browser = await subscribed(app, receiver, "alice")
    text = ("𝄞 naïve 日本語 \"quotes\" <b> " * 200)[:4000]
    await send(app, [alice.id], Notification(7, 42, "😀" * 300, text, "/chat/7/messages/42", False))
    await deliver(app)
    (arrived,) = receiver.pushes(browser)
    assert len(arrived.body) <= 3 * 1024 and arrived.problems == []
    assert len(arrived.payload["body"]) <= 200 and arrived.payload["body"].endswith("…")
    assert text.startswith(arrived.payload["body"][:-1].rstrip())
    assert arrived.headers["urgency"] == "normal" and arrived.payload["renotify"] is False


async def test_with_previews_off_a_push_carries_no_text(settings, receiver):
    app = create_app(settings.replace(push_preview=False))
    async with app.test_app():
        alice = await make_user("alice")
        browser = await subscribed(app, receiver, "alice")
        await send(app, [alice.id], note("the secret plan"))
        await deliver(app)
    (arrived,) = receiver.pushes(browser)
    assert "secret" not in json.dumps(arrived.payload) and arrived.payload["body"] == "New message"


async def test_each_device_of_each_person_gets_one_and_nobody_else(app, alice, bob, receiver):
    alices = await api_login(app, "alice")
    phone, laptop = await subscribed(app, receiver, "alice", api=alices), await subscribed(app, receiver, "alice")
    bobs = await subscribed(app, receiver, "bob")
    assert await send(app, [alice.id, alice.id], note()) == 2
    await deliver(app)
    assert len(receiver.pushes(phone)) == len(receiver.pushes(laptop)) == 1 and receiver.pushes(bobs) == []


async def test_close_tells_every_device_to_close_the_conversations_notifications(app, alice, receiver):
    browser = await subscribed(app, receiver, "alice")
    async with app.app_context():
        assert await push.close(alice.id, 7) == 1
    await deliver(app)
    (arrived,) = receiver.pushes(browser)
    assert arrived.payload == {"close": "conversation-7"} and arrived.headers["topic"] == "conversation-7"


# --- what the push service answers -------------------------------------------------------------------

@pytest.mark.parametrize("status", [410, 404])
async def test_a_subscription_the_push_service_no_longer_knows_is_deleted_at_once(app, alice, receiver, status):
    browser = await subscribed(app, receiver, "alice")
    receiver.answer(browser, status)
    await send(app, [alice.id], note())
    await send(app, [alice.id], note("second"))
    await deliver(app)
    assert await PushSubscription.all().count() == 0 and await PushDelivery.all().count() == 0
    assert len(receiver.pushes(browser)) >= 1 and (await counts())["gone"] >= 1
    assert await send(app, [alice.id], note()) == 0


@pytest.mark.parametrize("header", ["seconds", "date"])
async def test_429_waits_as_long_as_retry_after_says(app, alice, receiver, monkeypatch, header):
    browser = await subscribed(app, receiver, "alice")
    wait = "120" if header == "seconds" else format_datetime(clock.now() + timedelta(seconds=120), usegmt=True)
    receiver.answer(browser, (429, {"Retry-After": wait}))
    await send(app, [alice.id], note())
    await deliver(app)
    row = await PushDelivery.get()
    assert 100 <= (row.due_at - clock.now()).total_seconds() <= 121 and row.attempts == 1
    later(monkeypatch, 60)
    assert await deliver(app) == 0 and len(receiver.pushes(browser)) == 1
    later(monkeypatch, 121)
    await deliver(app)
    assert [each.status for each in receiver.pushes(browser)] == [429, 201]
    assert await counts() == {"throttled": 1, "sent": 1}


async def test_5xx_is_retried_with_backoff_then_dropped_logged_and_counted(app, alice, receiver, monkeypatch, caplog):
    browser = await subscribed(app, receiver, "alice")
    receiver.answer(browser, *[500] * push_worker.MAX_ATTEMPTS)
    await send(app, [alice.id], note())
    waited = 0
    for attempt in range(1, push_worker.MAX_ATTEMPTS + 1):
        await deliver(app)
        assert len(receiver.pushes(browser)) == attempt
        row = await PushDelivery.get_or_none()
        if attempt < push_worker.MAX_ATTEMPTS:
            assert row.attempts == attempt
            waited += push_worker.backoff(attempt)
            later(monkeypatch, waited + 1)
    assert row is None and await PushSubscription.all().count() == 1
    assert await counts() == {"retried": push_worker.MAX_ATTEMPTS - 1, "failed": 1}
    assert "dropped after" in caplog.text


async def test_an_unreachable_push_service_is_retried(app, alice, receiver):
    browser = await subscribed(app, receiver, "alice")
    receiver.close()  # nobody listens there any more
    await send(app, [alice.id], note())
    await deliver(app)
    assert (await PushDelivery.get()).attempts == 1 and await counts() == {"retried": 1}
    assert receiver.pushes(browser) == []


async def test_the_worker_sends_on_its_own_as_soon_as_something_is_queued(settings, receiver):
    running = create_app(settings)
    async with running.test_app():
        alice = await make_user("alice")
        browser = await subscribed(running, receiver, "alice")
        await send(running, [alice.id], note("at once"))
        assert await asyncio.to_thread(receiver.wait, 1, 5.0), "the worker did not send within 5 s"
    assert [each["body"] for each in receiver.payloads(browser)] == ["at once"]


@pytest.mark.parametrize("status", [400, 413, 403])
async def test_a_refused_push_is_dropped_and_the_subscription_kept(app, alice, receiver, status):
    browser = await subscribed(app, receiver, "alice")
    receiver.answer(browser, status)
    await send(app, [alice.id], note())
    await deliver(app)
    assert await PushDelivery.all().count() == 0 and await PushSubscription.all().count() == 1
    assert await counts() == {"rejected": 1}


async def test_a_redirect_is_never_followed(app, alice, receiver):
    browser = await subscribed(app, receiver, "alice")
    elsewhere = receiver.browser("elsewhere")
    receiver.answer(browser, (307, {"Location": elsewhere.endpoint}))
    await send(app, [alice.id], note())
    await deliver(app)
    assert receiver.pushes(elsewhere) == [] and await counts() == {"rejected": 1}


async def test_an_endpoint_that_now_resolves_inward_is_not_pushed_to_and_is_deleted(app, alice, receiver, monkeypatch):
    answers = {"push.example": "93.184.215.14"}

    async def lookup(host, port):
        return [(socket.AF_INET, answers[host])]

    monkeypatch.setattr(push_endpoints, "lookup", lookup)
    api = await api_login(app, "alice")
    keys = receiver.browser().subscription()["keys"]
    assert (await api.post(SUBSCRIPTIONS, {"endpoint": "https://push.example/x", "keys": keys}))[0] == 201
    answers["push.example"] = "127.0.0.1"  # DNS rebinding
    await send(app, [alice.id], note())
    await deliver(app)
    assert await counts() == {"blocked": 1} and await PushSubscription.all().count() == 0


# --- sessions ----------------------------------------------------------------------------------------

async def test_no_push_after_logout_revocation_or_expiry(app, alice, receiver, client, sign_in, monkeypatch):
    api = await api_login(app, "alice")
    await subscribed(app, receiver, "alice", api=api)
    await api.post("/api/v1/logout")  # the token's session ends: its subscription with it
    assert await PushSubscription.all().count() == 0 and await send(app, [alice.id], note()) == 0

    await client.login("alice")
    page = {"X-CSRF-Token": await client.token()}
    made = await client.raw.post(SUBSCRIPTIONS, json=receiver.browser().subscription(), headers=page)
    assert made.status_code == 201
    session = await UserSession.get(user_id=alice.id, kind="web")
    other_device = await sign_in("alice")
    revoked = await other_device.post(f"/account/sessions/{session.id}/delete")  # "Log out" on the sessions page
    assert revoked.status_code == 303
    assert await PushSubscription.all().count() == 0

    await subscribed(app, receiver, "alice")
    assert await send(app, [alice.id], note()) == 1  # queued while the session lives...
    later(monkeypatch, app.config["HUDDLE"].session_idle_seconds + 1)
    await deliver(app)  # ...and it expired before the worker sent it
    assert receiver.pushes() == [] and await counts() == {"expired": 1}
    assert await PushSubscription.all().count() == 0


async def test_an_expired_session_gets_nothing_queued(app, alice, receiver, monkeypatch):
    await subscribed(app, receiver, "alice")
    later(monkeypatch, app.config["HUDDLE"].session_max_age_seconds + 1)
    assert await send(app, [alice.id], note()) == 0


# --- restarts and several workers --------------------------------------------------------------------

async def test_a_restart_sends_what_was_queued_and_what_a_dead_worker_had_claimed(settings, receiver, monkeypatch):
    first = create_app(settings)
    async with first.test_app():
        alice = await make_user("alice")
        browser = await subscribed(first, receiver, "alice")
        await Runtime.of(first).push.stop()  # the process dies before its worker sends anything
        await send(first, [alice.id], note("one"))
        await send(first, [alice.id], note("two"))
        # A worker that claimed "one" and died mid-send: its claim lapses in a minute.
        claimed = await PushDelivery.all().order_by("id").first()
        await PushDelivery.filter(id=claimed.id).update(claimed_until=clock.now() + timedelta(seconds=60))
    second = create_app(settings)
    async with second.test_app():
        await deliver(second)
        assert [each["body"] for each in receiver.payloads(browser)] == ["two"]
        later(monkeypatch, 61)
        await deliver(second)
    assert sorted(each["body"] for each in receiver.payloads(browser)) == ["one", "two"]


def test_three_workers_on_one_postgresql_database_send_each_push_once(pg_database, tmp_path):
    """Two workers of one app and a third in another process (another app), claiming at once. In
    processes of their own: the ORM compiles its SQL for the first database a process opens."""
    result = in_child("tests.test_push_delivery", pg_database, str(tmp_path))
    assert result["problems"] == [] and result["total"] == 60
    assert len(result["claimed"]) == len(set(result["claimed"])) == 60, result  # each row claimed once, by one
    for bodies in result["bodies"]:
        assert bodies == sorted(f"m{n}" for n in range(10)), bodies  # each once, none twice


async def _two_workers_on_postgresql(url: str, data_dir: str) -> dict:
    receiver = PushReceiver()
    push_worker.PushWorker.batch = push_worker.PushWorker.round = 7  # many small claims: the workers interleave
    claimed, _ = count_claims(push_worker.PushWorker)
    try:
        async with pg_site(url, data_dir, push_allowed_origins=(receiver.origin,)) as app:
            await make_user("admin", admin=True)
            people = [await make_user(f"p{n}") for n in range(6)]
            browsers = [await subscribed(app, receiver, person.username) for person in people]
            one, two = Runtime.of(app).push, push_worker.PushWorker(Runtime.of(app).settings)
            await one.stop()
            for n in range(10):
                await send(app, [person.id for person in people], note(f"m{n}"))
            # A third worker: another app on the same database, in a process of its own.
            other = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.test_push_delivery", "--worker", url, data_dir, receiver.origin,
                cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            assert (await other.stdout.readline()).strip() == b"ready"
            other.stdin.write(b"go\n")
            await other.stdin.drain()
            while sum(await asyncio.gather(one.deliver_due(), two.deliver_due())):
                pass
            await two.stop()
            out, _ = await other.communicate()
            assert other.returncode == 0
            elsewhere = json.loads(out.strip().splitlines()[-1])["claimed"]
    finally:
        receiver.close()
    return {"total": len(receiver.pushes()), "claimed": sorted(claimed + elsewhere), "elsewhere": len(elsewhere),
            "problems": [each.problems for each in receiver.pushes() if each.problems],
            "bodies": [sorted(each["body"] for each in receiver.payloads(browser)) for browser in browsers]}


# --- the admin page ---------------------------------------------------------------------------------

async def test_admins_see_how_pushes_ended_and_others_cannot(app, admin, alice, receiver, sign_in):
    browser = await subscribed(app, receiver, "alice")
    receiver.answer(browser, 500)
    await send(app, [alice.id], note())
    await send(app, [alice.id], note())
    await deliver(app)
    page = await (await sign_in("admin")).get("/admin/users")
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="push-status"' in html
    assert "<dt>Sent</dt><dd><strong>1</strong>" in html and "<dt>Retried</dt><dd><strong>1</strong>" in html
    assert "1 subscribed device;" in html and "1 push queued" in html
    assert (await (await sign_in("alice")).get("/admin/users")).status_code == 403


async def _worker_process(url: str, data_dir: str, origin: str) -> dict:
    """Another app on the database: says it is ready, waits for the word, then delivers until
    nothing is left to claim; the rows it claimed (its loop's first round included)."""
    from pathlib import Path

    from app.config import Settings

    settings = Settings(data_dir=Path(data_dir), database_url=url, secret_key="k", base_url="http://localhost",
                        push_allowed_origins=(origin,))
    push_worker.PushWorker.batch = push_worker.PushWorker.round = 7
    claimed, _ = count_claims(push_worker.PushWorker)
    app = create_app(settings)
    async with app.test_app():
        worker = Runtime.of(app).push
        await worker.stop()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        while await worker.deliver_due():
            pass
    return {"claimed": claimed}


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        print(json.dumps(asyncio.run(_worker_process(*sys.argv[2:5]))))
    else:
        child_main(_two_workers_on_postgresql)
