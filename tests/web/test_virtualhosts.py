"""circuits.web.dispatchers.VirtualHosts: the Host header picks a path prefix."""

from __future__ import annotations

import httpx
import pytest
import requests
from web_harness import serving

from circuits.web import Controller, VirtualHosts
from circuits.web.dispatchers.virtualhosts import VirtualHosts as VirtualHosts2

TIMEOUT_S = 5


class Root(Controller):
    def index(self):
        return "main"

    def page(self, *args):
        return "main page " + "/".join(args)


class Site1(Controller):
    channel = "/site1"

    def index(self):
        return "site1"

    def page(self, *args):
        return "site1 page " + "/".join(args)


class Site2(Controller):
    channel = "/site2"

    def index(self):
        return "site2"


DOMAINS = {"site1.example": "site1", "www.site2.example": "site2", "site2.example:8080": "site2"}


@pytest.fixture
def client(web_client):
    """In process: the Host header is all these tests send."""
    return web_client(VirtualHosts(DOMAINS), Root(), Site1(), Site2())


def get(client, path, host, **headers):
    return client.get(path, headers={"Host": host, **headers}).text


def test_exported_under_both_paths():
    assert VirtualHosts is VirtualHosts2


@pytest.mark.parametrize(
    ("host", "path", "body"),
    [
        ("site1.example", "/", "site1"),
        ("site1.example", "/page/a/b", "site1 page a/b"),
        ("SITE1.Example:8000", "/", "site1"),  # case and port do not matter
        ("www.site2.example", "/", "site2"),
        ("site2.example:8080", "/", "site2"),  # an entry with a port matches verbatim
        ("unknown.example", "/", "main"),  # unknown hosts fall through
        ("unknown.example", "/page/x", "main page x"),
        ("127.0.0.1", "/", "main"),
    ],
)
def test_host_selects_the_site(client, host, path, body):
    assert get(client, path, host) == body


def test_httpx_client(web_server):
    url = web_server(VirtualHosts(DOMAINS), Root(), Site1(), Site2())
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
        assert client.get("/page/z", headers={"Host": "site1.example"}).text == "site1 page z"
        assert client.get("/").text == "main"


def test_x_forwarded_host_is_used_when_no_gateways_are_listed(client):
    # as 3.2.5: anyone's X-Forwarded-Host counts (it chooses among the same sites
    # as the Host header would)
    forwarded = {"X-Forwarded-Host": "SITE1.example, b"}
    assert get(client, "/", "unknown.example", **forwarded) == "site1"


def rget(site, path, host, **headers):
    headers = {"Host": host, **headers}
    return requests.get(site.base + path, headers=headers, timeout=TIMEOUT_S).text


def test_trusted_gateways_are_honoured():
    # a real socket: the gateway is recognised by the peer's address, 127.0.0.1
    with serving(VirtualHosts(DOMAINS, trusted_gateways=["10.9.9.9"]), Root(), Site1()) as s:
        assert rget(s, "/", "unknown.example", **{"X-Forwarded-Host": "site1.example"}) == "main"
        assert rget(s, "/", "site1.example") == "site1"
    with serving(VirtualHosts(DOMAINS, trusted_gateways=["127.0.0.1"]), Root(), Site1()) as s:
        assert rget(s, "/", "unknown.example", **{"X-Forwarded-Host": "site1.example"}) == "site1"


def test_a_scheme_like_first_segment_stays_under_the_prefix(client):
    # urljoin('/site1/', 'http:x') would have left the site; we keep the prefix
    assert get(client, "/page/http:x", "site1.example") == "site1 page http:x"
