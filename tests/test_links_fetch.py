"""The link preview fetcher (app/links/fetch.py) against a site and a DNS playing tricks
(tests/helpers/attack_server.py); the addresses it refuses before connecting are in
tests/test_links_addresses.py, what a page says in tests/test_links_page.py. The attack servers
run on 127.0.0.x, which only HUDDLE_PREVIEW_ALLOWED_HOSTS lets the fetcher reach: every other
address of the machine stays refused, as in production."""
from __future__ import annotations

import pytest

from app.links import fetch
from app.links.fetch import Refused, Unavailable, allowed_hosts, fetch_image, fetch_page
from tests.helpers.attack_server import PIXEL, AttackServer, Resolver, tls_contexts


@pytest.fixture
async def site():
    async with AttackServer() as server:
        yield server


@pytest.fixture
async def other(site):
    """A second allowed site, on another loopback address."""
    async with AttackServer(host="127.0.0.2", title="The other site") as server:
        yield server


def allowing(*servers: AttackServer) -> frozenset[str]:
    return allowed_hosts(",".join(server.key for server in servers))


# --- pages ----------------------------------------------------------------------------------------

async def test_a_page_gives_its_open_graph_title_description_site_and_absolute_image(site):
    page = await fetch_page(site.url("/og"), allowed=allowing(site))
    assert page == fetch.Page(url=site.url("/og"), title="Open & Graph title", description="What the page is about.",
                              site="Example Site", image_url=site.url("/images/card.png"))


async def test_a_page_without_open_graph_has_its_title_and_its_host_as_site(site):
    page = await fetch_page(site.url("/title"), allowed=allowing(site))
    assert (page.title, page.description, page.site, page.image_url) == ("The page", None, "127.0.0.1", None)


async def test_the_fetcher_says_who_it_is_and_keeps_no_cookies(site):
    page = await fetch_page(site.url("/cookie"), allowed=allowing(site))
    assert page.url == site.url("/title")
    first, second = site.seen
    assert first.headers["User-Agent"] == second.headers["User-Agent"] == "HuddleBot/1 (+link previews)"
    assert "text/html" in first.headers["Accept"] and first.headers["Accept-Encoding"] == "gzip, deflate"
    assert "Cookie" not in second.headers and "Authorization" not in second.headers


async def test_an_address_with_credentials_is_refused(site):
    with pytest.raises(Refused, match="credentials"):
        await fetch_page(f"http://user:secret@{site.key}/title", allowed=allowing(site))
    assert site.seen == []


@pytest.mark.parametrize("path", ["/json", "/pixel.png"])
async def test_what_is_not_html_is_refused(site, path):
    with pytest.raises(Refused, match="not an HTML page"):
        await fetch_page(site.url(path), allowed=allowing(site))


async def test_an_error_status_is_refused_and_a_server_error_may_pass(site):
    with pytest.raises(Refused, match="404"):
        await fetch_page(site.url("/status/404"), allowed=allowing(site))
    with pytest.raises(Unavailable, match="503"):
        await fetch_page(site.url("/status/503"), allowed=allowing(site))


async def test_a_site_that_is_down_is_unavailable(site):
    down = AttackServer()  # a port of our own, nothing listening
    with pytest.raises(Unavailable):
        await fetch_page(down.url("/"), allowed=allowing(down))


# --- redirects ------------------------------------------------------------------------------------

async def test_five_redirects_are_followed_and_a_sixth_is_refused(site):
    page = await fetch_page(site.url("/chain/5"), allowed=allowing(site))
    assert (page.url, page.title) == (site.url("/chain/0"), "After the chain on The page")
    with pytest.raises(Refused, match="too many redirects"):
        await fetch_page(site.url("/chain/6"), allowed=allowing(site))


async def test_a_redirect_to_another_allowed_site_is_followed(site, other):
    page = await fetch_page(site.url(f"/to?location={other.url('/title')}"), allowed=allowing(site, other))
    assert (page.url, page.title) == (other.url("/title"), "The other site")


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:{port}/title",  # the same machine, a port not allowed
    "http://127.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://localhost:{allowed}/title",
    "http://169.254.169.254/latest/meta-data/", "http://2130706433/", "http://0177.0.0.1/",
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "http://[fd00:ec2::254]/",
])
async def test_a_redirect_into_the_machine_or_off_the_web_is_refused(site, other, location):
    location = location.format(port=other.port, allowed=site.port)
    with pytest.raises(Refused):
        await fetch_page(site.url(f"/to?location={location}"), allowed=allowing(site))
    assert other.seen == []


# --- sizes and time -------------------------------------------------------------------------------

async def test_a_huge_page_is_cut_at_a_megabyte_and_its_early_head_still_read(site):
    page = await fetch_page(site.url("/huge-head"), allowed=allowing(site))
    assert page.title == "Early head"


async def test_a_huge_page_with_no_html_in_its_first_megabyte_is_refused(site):
    with pytest.raises(Refused, match="too large"):
        await fetch_page(site.url("/huge-junk"), allowed=allowing(site))


async def test_a_page_declared_huge_is_read_to_its_heads_end_and_an_image_is_refused_before_reading(site, tmp_path):
    # Many real pages pass a megabyte: a page stops being read once its head has ended (the server
    # here then sends nothing more: had the fetcher gone on, only its timeout could end this).
    page = await fetch_page(site.url("/declared"), allowed=allowing(site))
    assert page.title == "Fifty megabytes"
    # An image says it is larger than allowed: refused on the header, before a byte of body.
    with pytest.raises(Refused, match="too large"):
        await fetch_image(site.url("/declared-image"), tmp_path / "image", allowed=allowing(site))
    assert not (tmp_path / "image").exists()


async def test_a_gzip_bomb_is_read_only_to_a_megabyte_decompressed(site, monkeypatch):
    inflated = []
    read = fetch.read

    async def counting(response, limit, sink):
        async def counted(data):
            inflated.append(len(data))
            await sink(data)
        return await read(response, limit, counted)

    monkeypatch.setattr(fetch, "read", counting)
    with pytest.raises(Refused, match="too large"):
        await fetch_page(site.url("/bomb"), allowed=allowing(site))  # 50 MB of spaces: no HTML
    assert sum(inflated) == fetch.MAX_PAGE_BYTES
    page = await fetch_page(site.url("/bomb-head"), allowed=allowing(site))
    assert page.title == "Bomb with a head"


@pytest.mark.parametrize(("path", "title"), [("/deflate/zlib", "zlib"), ("/deflate/raw", "raw")])
async def test_a_deflated_page_is_read_with_or_without_the_zlib_header(site, path, title):
    assert (await fetch_page(site.url(path), allowed=allowing(site))).title == title


async def test_an_encoding_not_asked_for_is_refused(site):
    with pytest.raises(Refused, match="encoding"):
        await fetch_page(site.url("/deflate/br"), allowed=allowing(site))


async def test_a_body_that_trickles_forever_is_cut_by_the_total_timeout(site, monkeypatch):
    monkeypatch.setattr(fetch, "TOTAL_TIMEOUT", 0.5)
    with pytest.raises(Refused, match="too slow"):
        await fetch_page(site.url("/slow"), allowed=allowing(site))


# --- images ---------------------------------------------------------------------------------------

async def test_an_image_is_streamed_to_its_file(site, tmp_path):
    dest = tmp_path / "image"
    await fetch_image(site.url("/pixel.png"), dest, allowed=allowing(site))
    assert dest.read_bytes() == PIXEL
    assert "image/png" in site.seen[0].headers["Accept"]


async def test_an_image_too_large_is_refused_and_its_file_removed(site, tmp_path):
    dest = tmp_path / "image"
    with pytest.raises(Refused, match="too large"):
        await fetch_image(site.url("/big.png?size=5000"), dest, allowed=allowing(site), max_bytes=4096)
    assert not dest.exists()
    await fetch_image(site.url("/big.png?size=4096"), dest, allowed=allowing(site), max_bytes=4096)
    assert dest.stat().st_size == 4096


@pytest.mark.parametrize("path", ["/pixel.svg", "/og"])
async def test_what_is_not_a_png_jpeg_gif_or_webp_image_is_refused(site, tmp_path, path):
    dest = tmp_path / "image"
    with pytest.raises(Refused, match="not an image"):
        await fetch_image(site.url(path), dest, allowed=allowing(site))
    assert not dest.exists()


# --- the addresses a name has -------------------------------------------------------------------

async def test_the_connection_goes_to_the_address_checked_whatever_the_dns_says_next(site):
    """DNS rebinding: the first answer (allowed) is checked, and a second lookup would say
    127.0.0.1 (an internal service on the same port). The fetcher connects to the first."""
    async with AttackServer(host="127.0.0.2", port=site.port, title="Checked") as checked:
        resolve = Resolver([checked.host], [site.host])
        key = f"rebind.test:{site.port}"
        page = await fetch_page(f"http://{key}/title", allowed=allowed_hosts(key), _resolve=resolve)
        assert page.title == "Checked"
        assert resolve.calls == ["rebind.test"]  # once: aiohttp asked the pinned answers, not the DNS
        assert site.seen == [] and [seen.path for seen in checked.seen] == ["/title"]
        assert checked.seen[0].headers["Host"] == f"rebind.test:{site.port}"


async def test_each_redirect_hop_is_resolved_once_and_checked_again(site):
    """A redirect to the same name: looked up again (once), and its new answer checked again."""
    key = f"rebind.test:{site.port}"
    resolve = Resolver([site.host])
    page = await fetch_page(f"http://{key}/chain/2", allowed=allowed_hosts(key), _resolve=resolve)
    assert page.title == "After the chain on The page"
    assert resolve.calls == ["rebind.test"] * 3
    resolve = Resolver([site.host], ["127.0.0.1"])  # the allowed name, then a name of the machine itself
    with pytest.raises(Refused, match="not a public address"):
        await fetch_page(f"http://{key}/to?location=http://evil.example/", allowed=allowed_hosts(key), _resolve=resolve)
    assert resolve.calls == ["rebind.test", "evil.example"]


@pytest.mark.parametrize(("certified", "works"), [("rebind.test", True), ("someone-else.test", False)])
async def test_https_to_the_pinned_address_checks_the_certificate_for_the_name(site, tmp_path, monkeypatch,
                                                                                 certified, works):
    server_tls, client_tls = tls_contexts(certified, tmp_path)
    monkeypatch.setattr(fetch, "TLS", client_tls)
    async with AttackServer(host="127.0.0.2", port=site.port, title="Over TLS", tls=server_tls) as secure:
        key = f"rebind.test:{site.port}"
        resolve = Resolver([secure.host], [site.host])
        if works:
            page = await fetch_page(f"https://{key}/title", allowed=allowed_hosts(key), _resolve=resolve)
            assert page.title == "Over TLS" and secure.seen[0].headers["Host"] == key
        else:
            with pytest.raises(Refused, match="certificate"):
                await fetch_page(f"https://{key}/title", allowed=allowed_hosts(key), _resolve=resolve)
            assert secure.seen == []
        assert resolve.calls == ["rebind.test"] and site.seen == []
