"""The address rule of the link preview fetcher (app/web/addresses.py) and the addresses it
refuses before connecting: non-public ones in every form, odd numeric forms, names that are not
names, ports other than 80 and 443, what is not a web address; and how
HUDDLE_PREVIEW_ALLOWED_HOSTS is read. No server here: nothing may be reached."""
from __future__ import annotations

import ipaddress

import pytest

from app.links.fetch import Refused, allowed_hosts, fetch_page
from app.web.addresses import is_public
from tests.helpers.attack_server import Resolver

NOT_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.1.1",
    "100.64.0.1", "100.127.255.254", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1",
    "192.0.2.1", "169.254.169.254", "100.100.100.200",  # cloud metadata: AWS, GCP and Azure; Alibaba
    "::", "::1", "fe80::1", "fe80::1%1", "fc00::1", "fd00:ec2::254", "fec0::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "::127.0.0.1", "::8.8.8.8",  # IPv4-compatible (deprecated: no one routes it)
    "2002:7f00:1::1", "2002:a00:1::", "2002:a9fe:a9fe::1",  # 6to4 of 127.0.0.1, 10.0.0.1, the metadata
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b:1::808:808",  # NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
          "2002:808:808::1", "64:ff9b::808:808"]  # 6to4 and NAT64 of a public address


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_the_address_rule_refuses_every_form_of_a_non_public_address(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_the_address_rule_allows_public_addresses(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://[::1]/", "http://0.0.0.0/", "http://[::ffff:7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://0x7f000001/", "http://127.1/",
    "http://017700000001/", "http://1.2.3.04/", "http://1.2.3.4.5/", "http://10.0.0.1./", "http://[fe80::1%25eth0]/",
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "http://127\u30020\u30020\u30021/", "http://127.0.0.1./",
    "http://0/", "http://[0:0:0:0:0:ffff:7f00:1]/", "http://[::]/",
])
async def test_a_literal_address_not_public_or_in_an_odd_form_is_refused_unresolved(url):
    resolve = Resolver(["8.8.8.8"])
    with pytest.raises(Refused, match="not a public address"):
        await fetch_page(url, _resolve=resolve)
    assert resolve.calls == []


@pytest.mark.parametrize("answers", [["127.0.0.1"], ["8.8.8.8", "127.0.0.1"], ["::ffff:10.0.0.1"], ["fe80::1%2"],
                                     ["2606:4700:4700::1111", "fd00:ec2::254"], ["169.254.169.254"]])
async def test_a_name_is_refused_when_any_of_its_answers_is_not_public(answers):
    resolve = Resolver(answers)
    with pytest.raises(Refused, match="not a public address"):
        await fetch_page("http://evil.example/", _resolve=resolve)
    assert resolve.calls == ["evil.example"]


@pytest.mark.parametrize("url", ["http://example.com:8080/", "https://example.com:8443/", "http://example.com:22/",
                                 "http://example.com:0/", "https://8.8.8.8:6379/"])
async def test_ports_other_than_80_and_443_are_refused_for_public_hosts(url):
    resolve = Resolver(["8.8.8.8"])
    with pytest.raises(Refused, match="port"):
        await fetch_page(url, _resolve=resolve)
    assert resolve.calls == []


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "data:text/html,x",
                                 "//example.com/", "http:///x", "example.com", "http://exa mple.com/", "",
                                 "http://exa%00mple.com/", "http://a..b/", "http://-a.example/"])
async def test_what_is_not_a_web_address_is_refused(url):
    resolve = Resolver(["8.8.8.8"])
    with pytest.raises(Refused, match="not a web address"):
        await fetch_page(url, _resolve=resolve)
    assert resolve.calls == []


def test_allowed_hosts_are_read_as_the_fetcher_compares_them():
    assert allowed_hosts("") == frozenset()
    assert allowed_hosts(" LocalHost:8080, [::1]:9000 ,bücher.example:80,127.0.0.1:5000,") == {
        "localhost:8080", "[::1]:9000", "xn--bcher-kva.example:80", "127.0.0.1:5000"}


@pytest.mark.parametrize("setting", ["localhost", "localhost:", "http://localhost:80", "a:b", "localhost:99999",
                                     "u:p@localhost:80", "localhost:80/path"])
def test_an_allowed_host_without_a_port_or_with_more_is_an_error(setting):
    with pytest.raises(ValueError):
        allowed_hosts(setting)
