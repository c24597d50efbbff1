"""File bodies go out with os.sendfile (FileRegion), in order, and their files get closed."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from tests.web.web_harness import serving

from circuits.net import _region
from circuits.net._region import FileRegion, accepts_regions
from circuits.web import Controller, Static

SIZE = 3 * 1024 * 1024 + 17


@pytest.fixture
def docroot(tmp_path):
    (tmp_path / "big.bin").write_bytes(os.urandom(SIZE))
    (tmp_path / "small.txt").write_bytes(b"small file\n")
    return tmp_path


@pytest.fixture
def sendfile_calls(monkeypatch):
    """Count os.sendfile calls made for regions (the real call still runs)."""
    calls = []
    real = os.sendfile

    def counting(out_fd, in_fd, offset, count):
        calls.append(count)
        return real(out_fd, in_fd, offset, count)

    monkeypatch.setattr(_region.os, "sendfile", counting)
    return calls


@pytest.mark.skipif(not hasattr(os, "sendfile"), reason="no os.sendfile here")
def test_a_static_file_is_sent_with_sendfile(docroot, sendfile_calls):
    with serving(Static("/static", docroot=str(docroot))) as site:
        status, headers, body = site.get("/static/big.bin")
    assert status == 200
    assert headers["Content-Length"] == str(SIZE)
    assert "Transfer-Encoding" not in headers
    assert body == (docroot / "big.bin").read_bytes()
    assert sendfile_calls, "the file was not sent with os.sendfile"


def test_pipelined_requests_after_a_file_keep_their_order(docroot):
    request = b"GET /static/%s HTTP/1.1\r\nHost: x\r\n\r\n"
    with serving(Static("/static", docroot=str(docroot))) as site:
        with socket.create_connection(("127.0.0.1", site.port), timeout=5) as s:
            s.sendall(
                request % b"big.bin"
                + request % b"small.txt"
                + b"GET /static/small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            data = bytearray()
            while chunk := s.recv(1 << 16):
                data += chunk
    big = (docroot / "big.bin").read_bytes()
    first_end = data.index(b"\r\n\r\n") + 4
    assert data[first_end : first_end + SIZE] == big
    rest = bytes(data[first_end + SIZE :])
    assert rest.count(b"HTTP/1.1 200 OK") == 2
    assert rest.endswith(b"small file\n")


def test_a_client_that_leaves_mid_file_gets_its_file_closed(docroot, monkeypatch):
    closed = threading.Event()
    real_close = FileRegion.close

    def close(self):
        real_close(self)
        closed.set()

    monkeypatch.setattr(FileRegion, "close", close)
    with serving(Static("/static", docroot=str(docroot))) as site:
        s = socket.create_connection(("127.0.0.1", site.port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        s.close()  # the rest of the 3 MiB cannot have fit in the socket buffers
        assert closed.wait(5), "the region's file was never closed"
        # the server still serves
        status, _, body = site.get("/static/small.txt")
        assert (status, body) == (200, b"small file\n")


def test_a_controller_returning_an_open_file(docroot, sendfile_calls):
    path = str(docroot / "big.bin")

    class Root(Controller):
        def index(self):
            self.response.headers["Content-Length"] = str(SIZE)
            return open(path, "rb")

        def nolength(self):
            return open(path, "rb")

    with serving(Root()) as site:
        status, headers, body = site.get("/")
        assert (status, len(body)) == (200, SIZE)
        before = len(sendfile_calls)
        # Without Content-Length the file is streamed in chunks as before.
        status, headers, body = site.get("/nolength")
        assert status == 200
        assert headers["Transfer-Encoding"] == "chunked"
        assert body == (docroot / "big.bin").read_bytes()
        assert len(sendfile_calls) == before


def test_a_range_is_not_affected(docroot):
    with serving(Static("/static", docroot=str(docroot))) as site:
        status, _, body = site.get("/static/big.bin", headers={"Range": "bytes=10-19"})
    assert status == 206
    assert body == (docroot / "big.bin").read_bytes()[10:20]


@pytest.mark.parametrize("use_sendfile", [True, False])
def test_region_sends_all_of_its_bytes(tmp_path, use_sendfile):
    if use_sendfile and not hasattr(os, "sendfile"):
        pytest.skip("no os.sendfile here")
    data = os.urandom(200_000)
    (tmp_path / "f").write_bytes(data)
    a, b = socket.socketpair()
    with a, b:
        f = open(tmp_path / "f", "rb")  # noqa: SIM115 - the region owns it
        region = FileRegion(f, 1000, 150_000)
        region._sendfile = use_sendfile
        assert accepts_regions(a)
        received = bytearray()
        while region.count:
            region.send(a)
            while len(received) < 150_000 - region.count:
                received += b.recv(1 << 16)
        region.close()
        assert f.closed
    assert bytes(received) == data[1000:151_000]


def test_a_file_that_shrank_is_an_error(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    a, b = socket.socketpair()
    with a, b, open(tmp_path / "f", "rb") as f:
        region = FileRegion(f, 0, 10)
        region.send(a)
        with pytest.raises(EOFError):
            region.send(a)


def test_regions_refuse_negative_sizes(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    with open(tmp_path / "f", "rb") as f, pytest.raises(ValueError):
        FileRegion(f, -1, 3)


def test_tls_sockets_do_not_take_regions():
    import ssl

    ctx = ssl.create_default_context()
    raw = socket.socket()
    with ctx.wrap_socket(raw, server_hostname="x", do_handshake_on_connect=False) as tls:
        assert not accepts_regions(tls)
