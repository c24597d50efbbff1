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
def site():
    with serving(VirtualHosts(DOMAINS), Root(), Site1(), Site2()) as site:
        yield site


def get(site, path, host, **headers):
    headers = {"Host": host, **headers}
    return requests.get(site.base + path, headers=headers, timeout=TIMEOUT_S).text


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
def test_host_selects_the_site(site, host, path, body):
    assert get(site, path, host) == body


def test_httpx_client(site):
    with httpx.Client(base_url=site.base, timeout=TIMEOUT_S) as client:
        assert client.get("/page/z", headers={"Host": "site1.example"}).text == "site1 page z"
        assert client.get("/").text == "main"


def test_x_forwarded_host_is_used_when_no_gateways_are_listed(site):
    # as 3.2.5: anyone's X-Forwarded-Host counts (it chooses among the same sites
    # as the Host header would)
    assert get(site, "/", "unknown.example", **{"X-Forwarded-Host": "SITE1.example, b"}) == "site1"


def test_trusted_gateways_are_honoured():
    with serving(VirtualHosts(DOMAINS, trusted_gateways=["10.9.9.9"]), Root(), Site1()) as s:
        assert get(s, "/", "unknown.example", **{"X-Forwarded-Host": "site1.example"}) == "main"
        assert get(s, "/", "site1.example") == "site1"
    with serving(VirtualHosts(DOMAINS, trusted_gateways=["127.0.0.1"]), Root(), Site1()) as s:
        assert get(s, "/", "unknown.example", **{"X-Forwarded-Host": "site1.example"}) == "site1"


def test_a_scheme_like_first_segment_stays_under_the_prefix(site):
    # urljoin('/site1/', 'http:x') would have left the site; we keep the prefix
    assert get(site, "/page/http:x", "site1.example") == "site1 page http:x"
