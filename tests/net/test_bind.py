"""Bind-argument parsing of the socket components (``circuits.net.sockets``)."""

from __future__ import annotations

import socket

import pytest

import circuits.net.sockets as sockets
from circuits.net.sockets import Client, parse_ipv4_parameter, parse_ipv6_parameter


def test_ipv4_int_binds_the_host_name_address(monkeypatch):
    monkeypatch.setattr(sockets, "gethostname", lambda: "localhost")
    assert parse_ipv4_parameter(1234) == (socket.gethostbyname("localhost"), 1234)


def test_ipv4_int_falls_back_to_any_address(monkeypatch):
    def fail():
        raise socket.gaierror(socket.EAI_NONAME, "no name")

    monkeypatch.setattr(sockets, "gethostname", fail)
    assert parse_ipv4_parameter(1234) == ("0.0.0.0", 1234)


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("0.0.0.0:1234", ("0.0.0.0", 1234)),
        ("localhost:80", ("localhost", 80)),
        (("127.0.0.1", 0), ("127.0.0.1", 0)),
        (None, None),
        ("/tmp/sock", "/tmp/sock"),
    ],
)
def test_ipv4_other_forms(bind, expected):
    assert parse_ipv4_parameter(bind) == expected


def test_ipv4_two_colons_is_an_error():
    with pytest.raises(ValueError):
        parse_ipv4_parameter("a:b:c")


def test_ipv6(monkeypatch):
    monkeypatch.setattr(sockets, "getfqdn", lambda: "localhost")  # no DNS in tests
    assert parse_ipv6_parameter(("::1", 0)) == ("::1", 0)
    assert parse_ipv6_parameter("::1:80") == "::1:80"  # strings are not split
    address = parse_ipv6_parameter(0)
    assert address[1] == 0


def test_client_bind_is_parsed_before_the_socket_is_created(monkeypatch):
    def fail():
        raise socket.gaierror(socket.EAI_NONAME, "no name")

    class NoSocket(Client):
        def _create_socket(self):
            return None

    monkeypatch.setattr(sockets, "gethostname", fail)
    assert NoSocket(1234)._bind == ("0.0.0.0", 1234)
    assert NoSocket("0.0.0.0:1234")._bind == ("0.0.0.0", 1234)
    assert NoSocket()._bind is None


def test_client_state_after_construction():
    c = Client()
    try:
        assert c.channel == "client"
        assert (c.host, c.port, c.secure, c.server, c.issuer) == (None, 0, False, {}, {})
        assert c._poller is None
        assert c._ssock is None
        assert not c.connected
        assert c._sock.getblocking() is False
    finally:
        c._sock.close()


def test_client_with_a_socket_uses_it():
    a, b = socket.socketpair()
    try:
        c = Client(a)
        assert c._sock is a
        assert c._bind == a.getsockname()
    finally:
        a.close()
        b.close()
