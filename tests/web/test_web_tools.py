"""circuits.web.tools against a real server and real clients (web.md §15).

(Named ``test_web_tools`` because ``tests/tools/test_tools.py`` owns the
module name ``test_tools``.)
"""

from __future__ import annotations

import email
import email.policy
import gc
import gzip as gziplib
import hashlib
import os
import subprocess
import urllib.error
import urllib.request
import warnings
from contextlib import contextmanager
from datetime import timedelta
from email.utils import formatdate
from urllib.parse import unquote

import pytest
import requests
from web_harness import serving

from circuits import BaseComponent, Manager, handler
from circuits.web import Controller, Static, tools
from circuits.web.errors import httperror, notfound, redirect, unauthorized
from circuits.web.exceptions import RangeUnsatisfiable
from circuits.web.headers import Headers
from circuits.web.wrappers import Request, Response

LARGE = bytes(i % 251 for i in range(12999))
HUGE = os.urandom(300_000)  # past the in-memory range limit: slices are streamed


class Sock:
    def getpeername(self):
        return ("127.0.0.1", 1)


def make(method="GET", headers=(), protocol=(1, 1)):
    req = Request(
        Sock(), method, path="/", protocol=protocol, headers=Headers([("Host", "x"), *headers])
    )
    return req, Response(req)


@pytest.fixture
def docroot(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "largefile.txt").write_bytes(LARGE)
    (root / "huge.bin").write_bytes(HUGE)
    (root / "helloworld.txt").write_bytes(b"Hello World!")
    (root / "page.html").write_bytes(b"<p>" + b"spam " * 2000 + b"</p>")
    return root


class Root(Controller):
    docroot = ""

    def index(self):
        return "Hello World!"

    def file(self, name):
        return self.serve_file(os.path.join(self.docroot, name))

    def download(self, name, as_name=None):
        return self.serve_download(os.path.join(self.docroot, name), as_name)

    def typed(self):
        path = os.path.join(self.docroot, "helloworld.txt")
        return tools.serve_file(self.request, self.response, path, type="application/x-thing",
                                disposition="inline")  # fmt: skip

    def etag(self):
        self.response.body = "Hello World!"
        return tools.validate_etags(self.request, self.response, autotags=True) or self.response

    def basic(self):
        users = {"admin": hashlib.md5(b"admin").hexdigest(), "jürgen": hashlib.md5(
            "pässwörd".encode()).hexdigest()}  # fmt: skip
        return tools.basic_auth(self.request, self.response, "Secure Area", users) or (
            f"welcome {self.request.login}"
        )

    def digest(self):
        users = {"admin": "secret"}
        return tools.digest_auth(self.request, self.response, "Secure Area", users) or (
            f"welcome {self.request.login}"
        )

    def remote(self):
        return str(self.request.remote.ip)


class Gzip(BaseComponent):
    channel = "web"

    @handler("response", priority=1.0)
    def _on_response(self, event, response):
        event[0] = tools.gzip(response)


@pytest.fixture
def site(docroot):
    root = Root()
    root.docroot = str(docroot)
    with serving(Static("/static", str(docroot)), root) as s:
        yield s


@pytest.fixture
def gzsite(docroot):
    root = Root()
    root.docroot = str(docroot)
    with serving(Static("/static", str(docroot)), root, Gzip()) as s:
        yield s


class InProcess:
    """``site.get`` over a ``circuits.testing.WebClient``: (status, headers, body)."""

    def __init__(self, client):
        self.client = client

    def get(self, path, headers=None, method="GET"):
        response = self.client.request(method, path, headers=headers)
        return response.status, response.headers, response.body


@pytest.fixture
def app(web_client, docroot):
    """The ``site`` tree in process, for what is only request and response (no file transfer,
    no peer address, no real client)."""
    root = Root()
    root.docroot = str(docroot)
    return InProcess(web_client(Static("/static", str(docroot)), root))


@pytest.fixture
def gzapp(web_client, docroot):
    root = Root()
    root.docroot = str(docroot)
    return InProcess(web_client(Static("/static", str(docroot)), root, Gzip()))


# -- serve_file: ranges -------------------------------------------------------------


def test_whole_file_has_length_and_is_not_chunked(site):
    status, headers, body = site.get("/file/largefile.txt")
    assert (status, body) == (200, LARGE)
    assert headers["Content-Length"] == "12999"
    assert headers["Accept-Ranges"] == "bytes"
    assert "Transfer-Encoding" not in headers


def test_single_range(site):
    status, headers, body = site.get("/static/largefile.txt", {"Range": "bytes=0-100"})
    assert status == 206
    assert body == LARGE[:101]
    assert headers["Content-Range"] == "bytes 0-100/12999"
    assert headers["Content-Length"] == "101"


@pytest.mark.parametrize(
    ("spec", "start", "stop"),
    [("bytes=-10", 12989, 12999), ("bytes=12990-", 12990, 12999), ("bytes=100-99999", 100, 12999)],
)
def test_suffix_open_and_clamped_ranges(site, spec, start, stop):
    status, headers, body = site.get("/static/largefile.txt", {"Range": spec})
    assert status == 206
    assert body == LARGE[start:stop]
    assert headers["Content-Range"] == f"bytes {start}-{stop - 1}/12999"


def test_large_range_is_streamed_with_its_length(site):
    status, headers, body = site.get("/static/huge.bin", {"Range": "bytes=10-250009"})
    assert status == 206
    assert headers["Content-Length"] == "250000"
    assert "Transfer-Encoding" not in headers
    assert body == HUGE[10:250010]


def _parts(headers, body):
    msg = email.message_from_bytes(
        b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body,
        policy=email.policy.HTTP,
    )
    assert msg.is_multipart()
    return [(part["Content-range"], part.get_payload(decode=True)) for part in msg.iter_parts()]


def test_multiple_ranges_give_multipart_byteranges(site):
    status, headers, body = site.get("/static/largefile.txt", {"Range": "bytes=0-50,51-100"})
    assert status == 206
    assert headers["Content-Type"].startswith("multipart/byteranges; boundary=")
    assert headers["Content-Length"] == str(len(body))
    assert _parts(headers, body) == [
        ("bytes 0-50/12999", LARGE[0:51]),
        ("bytes 51-100/12999", LARGE[51:101]),
    ]
    boundary = headers["Content-Type"].split("boundary=")[1]
    assert body.startswith(b"\r\n--" + boundary.encode() + b"\r\nContent-type: text/plain\r\n")
    assert body.endswith(b"\r\n--" + boundary.encode() + b"--\r\n")


def test_multiple_large_ranges_are_streamed(site):
    status, headers, body = site.get("/static/huge.bin", {"Range": "bytes=0-99999,100000-199999"})
    assert status == 206
    assert headers["Content-Length"] == str(len(body))
    assert [p for _, p in _parts(headers, body)] == [HUGE[:100000], HUGE[100000:200000]]


def test_very_unequal_ranges_are_refused_416(site):
    status, headers, _ = site.get("/static/largefile.txt", {"Range": "bytes=0-100,100-10000,0-1"})
    assert status == 416
    assert headers["Content-Range"] == "bytes */12999"


def test_unsatisfiable_range_is_416_with_the_length(site):
    status, headers, _ = site.get("/static/largefile.txt", {"Range": "bytes=20000-20010"})
    assert status == 416
    assert headers["Content-Range"] == "bytes */12999"


def test_open_range_past_the_end_is_416(site):
    assert site.get("/static/largefile.txt", {"Range": "bytes=20000-"})[0] == 416


@pytest.mark.parametrize("spec", ["bytes=100-50", "bytes=x-1", "items=0-1", "bytes=-"])
def test_invalid_range_serves_the_whole_file(site, spec):
    status, _, body = site.get("/static/largefile.txt", {"Range": spec})
    assert (status, body) == (200, LARGE)


def test_http_1_0_ignores_range(site):
    out = site.raw(b"GET /static/largefile.txt HTTP/1.0\r\nRange: bytes=0-1\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"200"
    assert b"Accept-Ranges" not in head
    assert body == LARGE


def test_curl_range(site):
    out = subprocess.run(
        ["curl", "-s", "-r", "5-9", f"{site.base}/static/largefile.txt"],
        capture_output=True, timeout=10, check=True,
    ).stdout  # fmt: skip
    assert out == LARGE[5:10]


# -- serve_file: types, disposition, errors -------------------------------------------


def test_explicit_type_and_disposition(site):
    status, headers, body = site.get("/typed")
    assert (status, body) == (200, b"Hello World!")
    assert headers["Content-Type"] == "application/x-thing"
    assert headers["Content-Disposition"] == 'inline; filename="helloworld.txt"'


def test_serve_download(site):
    status, headers, body = site.get("/download/helloworld.txt")
    assert (status, body) == (200, b"Hello World!")
    assert headers["Content-Type"] == "application/x-download"
    assert headers["Content-Disposition"] == 'attachment; filename="helloworld.txt"'


def _filename(disposition: str) -> str:
    msg = email.message.EmailMessage()
    msg["Content-Disposition"] = disposition
    return msg.get_filename()


@pytest.mark.parametrize(
    "name", ['we"ird\\name.txt', "naïve résumé.txt", "日本語.txt", "a;b=c,d.txt"]
)
def test_download_names_are_escaped(name):
    req, res = make()
    path = os.path.abspath(__file__)
    assert tools.serve_download(req, res, path, name) is res
    b"".join(res.body)  # drains and closes the file
    value = res.headers["Content-Disposition"]
    assert value.startswith('attachment; filename="')
    assert value.isascii()
    if name.isascii():
        assert _filename(value) == name
        assert "filename*" not in value
    else:
        # RFC 6266 §4.3: an ASCII fallback, then the real name in filename*
        fallback, _, extended = value.partition("; filename*=UTF-8''")
        assert _filename(fallback).endswith(".txt")
        assert unquote(extended, errors="strict") == name


def test_control_characters_in_names_do_not_reach_the_header():
    req, res = make()
    tools.serve_download(req, res, os.path.abspath(__file__), "a\r\nSet-Cookie: x=1")
    b"".join(res.body)
    assert "\r" not in res.headers["Content-Disposition"]
    assert "\n" not in res.headers["Content-Disposition"]


def test_serve_file_needs_an_absolute_path():
    req, res = make()
    with pytest.raises(ValueError, match="absolute"):
        tools.serve_file(req, res, "relative.txt")


def test_serve_file_missing_and_directory_are_404(tmp_path):
    req, res = make()
    assert isinstance(tools.serve_file(req, res, str(tmp_path / "nope")), notfound)
    req, res = make()
    assert isinstance(tools.serve_file(req, res, str(tmp_path)), notfound)


def test_serve_file_does_not_block_on_a_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    req, res = make()
    assert isinstance(tools.serve_file(req, res, str(fifo)), notfound)


def test_serve_file_body_is_the_open_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"abc")
    req, res = make()
    assert tools.serve_file(req, res, str(path)) is res
    assert res.headers["Content-Length"] == "3"
    assert res.stream
    assert b"".join(res.body) == b"abc"


def test_unequal_ranges_raise_with_content_range(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(LARGE)
    req, res = make(headers=[("Range", "bytes=0-100,100-10000,0-1")])
    with pytest.raises(RangeUnsatisfiable):
        tools.serve_file(req, res, str(path))
    assert res.headers["Content-Range"] == "bytes */12999"


def test_mimetypes_extras():
    import mimetypes

    assert mimetypes.guess_type("a.dwg")[0] == "image/x-dwg"
    assert mimetypes.guess_type("a.ico")[0] == "image/x-icon"
    assert mimetypes.guess_type("a.js")[0] == "text/javascript"
    assert mimetypes.guess_type("a.xhtml")[0] == "application/xhtml+xml"


# -- conditional requests -----------------------------------------------------------


def test_autotag_is_the_md5_of_the_body_and_if_none_match_gives_304(app):
    status, headers, body = app.get("/etag")
    assert (status, body) == (200, b"Hello World!")
    tag = headers["ETag"]
    assert tag == '"' + hashlib.md5(b"Hello World!").hexdigest() + '"'
    status, _, body = app.get("/etag", {"If-None-Match": tag})
    assert (status, body) == (304, b"")
    assert app.get("/etag", {"If-None-Match": '"other", W/' + tag})[0] == 304
    assert app.get("/etag", {"If-None-Match": "*"})[0] == 304
    assert app.get("/etag", {"If-None-Match": '"other"'})[0] == 200


def test_if_match(app):
    tag = '"' + hashlib.md5(b"Hello World!").hexdigest() + '"'
    assert app.get("/etag", {"If-Match": tag})[0] == 200
    assert app.get("/etag", {"If-Match": "*"})[0] == 200
    assert app.get("/etag", {"If-Match": '"nope"'})[0] == 412


def test_if_none_match_on_post_is_412(app):
    tag = '"' + hashlib.md5(b"Hello World!").hexdigest() + '"'
    assert app.get("/etag", {"If-None-Match": tag}, method="POST")[0] == 412


def test_validate_etags_runs_once_per_response():
    req, res = make(headers=[("If-None-Match", "*")])
    res.body = "x"
    assert isinstance(tools.validate_etags(req, res, autotags=True), redirect)
    assert tools.validate_etags(req, res, autotags=True) is None


def test_validate_etags_does_not_read_streamed_bodies():
    req, res = make()
    res.body = iter([b"a"])
    assert tools.validate_etags(req, res, autotags=True) is None
    assert "ETag" not in res.headers


def test_if_modified_since(app):
    _, headers, _ = app.get("/file/helloworld.txt")
    lastmod = headers["Last-Modified"]
    assert app.get("/file/helloworld.txt", {"If-Modified-Since": lastmod})[0] == 304
    later = formatdate(os.path.getmtime(__file__) + 10**6, usegmt=True)
    assert app.get("/file/helloworld.txt", {"If-Modified-Since": later})[0] == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert app.get("/file/helloworld.txt", {"If-Modified-Since": earlier})[0] == 200
    assert app.get("/file/helloworld.txt", {"If-Modified-Since": "garbage"})[0] == 200


def test_if_unmodified_since(app):
    _, headers, _ = app.get("/file/helloworld.txt")
    lastmod = headers["Last-Modified"]
    assert app.get("/file/helloworld.txt", {"If-Unmodified-Since": lastmod})[0] == 200
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert app.get("/file/helloworld.txt", {"If-Unmodified-Since": earlier})[0] == 412


def test_validate_since_without_last_modified_does_nothing():
    req, res = make(headers=[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")])
    assert tools.validate_since(req, res) is None


def test_validate_since_non_get_is_412():
    req, res = make("PUT", headers=[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")])
    res.headers["Last-Modified"] = "Mon, 01 Jan 2001 00:00:00 GMT"
    error = tools.validate_since(req, res)
    assert isinstance(error, httperror)
    assert error.code == 412


# -- expires -------------------------------------------------------------------------


def test_expires_zero_means_no_cache():
    req, res = make()
    assert tools.expires(req, res) is None
    assert res.headers["Pragma"] == "no-cache"
    assert res.headers["Cache-Control"] == "no-cache, must-revalidate"
    assert res.headers["Expires"] == formatdate(res.time - 365 * 86400, usegmt=True)


def test_expires_http_1_0_has_no_cache_control():
    req, res = make(protocol=(1, 0))
    tools.expires(req, res)
    assert "Cache-Control" not in res.headers


def test_expires_in_the_future():
    req, res = make()
    tools.expires(req, res, timedelta(hours=1))
    assert res.headers["Expires"] == formatdate(res.time + 3600, usegmt=True)
    assert "Pragma" not in res.headers


def test_expires_respects_existing_validators_unless_forced():
    req, res = make()
    res.headers["ETag"] = '"x"'
    tools.expires(req, res, 60)
    assert "Expires" not in res.headers
    res.headers["Pragma"] = "keep"
    tools.expires(req, res, 0, force=True)
    assert res.headers["Pragma"] == "no-cache"
    assert "Expires" in res.headers


def test_controller_expires():
    req, res = make()
    c = Root()
    c.request, c.response = req, res
    c.expires(60)
    assert res.headers["Expires"] == formatdate(res.time + 60, usegmt=True)


# -- gzip ----------------------------------------------------------------------------


def test_gzip_of_a_controller_response(gzapp):
    status, headers, body = gzapp.get("/", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert gziplib.decompress(body) == b"Hello World!"


def test_gzip_of_a_streamed_static_file(gzsite):
    status, headers, body = gzsite.get("/static/largefile.txt", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in headers  # the stale length is gone; chunked instead
    assert headers["Transfer-Encoding"] == "chunked"
    assert gziplib.decompress(body) == LARGE


def test_gzip_with_urllib_and_curl(gzsite):
    req = urllib.request.Request(
        gzsite.base + "/static/page.html", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(req, timeout=5) as res:
        assert gziplib.decompress(res.read()) == b"<p>" + b"spam " * 2000 + b"</p>"
    out = subprocess.run(
        ["curl", "-s", "--compressed", f"{gzsite.base}/static/largefile.txt"],
        capture_output=True, timeout=10, check=True,
    ).stdout  # fmt: skip
    assert out == LARGE


def test_gzip_leaves_ranges_alone(gzsite):
    status, headers, body = gzsite.get(
        "/static/largefile.txt", {"Accept-Encoding": "gzip", "Range": "bytes=0-9"}
    )
    assert (status, body) == (206, LARGE[:10])
    assert "Content-Encoding" not in headers


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "identity, gzip;q=0.5", ""])
def test_gzip_not_wanted(gzapp, accept):
    status, headers, body = gzapp.get("/", {"Accept-Encoding": accept} if accept else {})
    assert (status, body) == (200, b"Hello World!")
    assert "Content-Encoding" not in headers


def test_gzip_skips_other_types_and_empty_bodies():
    _req, res = make(headers=[("Accept-Encoding", "gzip")])
    res.body = "x"
    res.headers["Content-Type"] = "image/png"
    assert tools.gzip(res) is res
    assert "Content-Encoding" not in res.headers
    _req, res = make(headers=[("Accept-Encoding", "gzip")])
    assert tools.gzip(res) is res
    assert "Content-Encoding" not in res.headers


def test_gzip_406_when_nothing_acceptable():
    _req, res = make(headers=[("Accept-Encoding", "br, deflate")])
    res.body = "x"
    error = tools.gzip(res)
    assert isinstance(error, httperror)
    assert error.code == 406
    assert error.description == "identity, gzip"


def test_gzip_respects_cached_requests():
    req, res = make(headers=[("Accept-Encoding", "gzip")])
    req.cached = True
    res.body = "x"
    assert tools.gzip(res) is res
    assert "Content-Encoding" not in res.headers


def test_gzip_streams_incrementally():
    _req, res = make(headers=[("Accept-Encoding", "x-gzip")])
    res.headers["Content-Type"] = "text/plain"
    pulled = []

    def body():
        for i in range(3):
            pulled.append(i)
            yield b"chunk%d " % i

    res.body = body()
    res.headers["Content-Length"] = "21"
    tools.gzip(res, level=1)
    assert "Content-Length" not in res.headers
    stream = iter(res.body)
    first = next(stream)
    assert pulled == []  # the gzip header comes before any input is read
    data = first + b"".join(stream)
    assert pulled == [0, 1, 2]
    assert gziplib.decompress(data) == b"chunk0 chunk1 chunk2 "


# -- auth ----------------------------------------------------------------------------


@contextmanager
def _urllib():
    """urllib's auth handlers drop the 401 they retry without closing it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()


def _opener(handler_class, site, user, password):
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, site.base, user, password)
    return urllib.request.build_opener(handler_class(mgr))


def test_basic_auth_with_urllib(site):
    opener = _opener(urllib.request.HTTPBasicAuthHandler, site, "admin", "admin")
    with _urllib(), opener.open(site.base + "/basic", timeout=5) as res:
        assert res.read() == b"welcome admin"


def test_basic_auth_challenge_and_wrong_password(site):
    status, headers, _ = site.get("/basic")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="Secure Area"'
    opener = _opener(urllib.request.HTTPBasicAuthHandler, site, "admin", "wrong")
    with _urllib(), pytest.raises(urllib.error.HTTPError) as info:
        opener.open(site.base + "/basic", timeout=5)
    assert info.value.code == 401
    info.value.close()


def test_basic_auth_utf8_credentials(site):
    import base64

    token = base64.b64encode("jürgen:pässwörd".encode()).decode()
    status, _, body = site.get("/basic", {"Authorization": "Basic " + token})
    assert (status, body.decode()) == (200, "welcome jürgen")


def test_basic_auth_with_curl(site):
    out = subprocess.run(
        ["curl", "-s", "-u", "admin:admin", f"{site.base}/basic"],
        capture_output=True, timeout=10, check=True,
    ).stdout  # fmt: skip
    assert out == b"welcome admin"


def test_malformed_authorization_is_400_not_authorised(app):
    for value in ("Basic !!!", "Basic", "Digest username=", "Basic " + "YWRtaW4="):
        status, _, body = app.get("/basic", {"Authorization": value})
        assert status == 400, value
        assert b"welcome" not in body


def test_digest_auth_with_urllib(site):
    opener = _opener(urllib.request.HTTPDigestAuthHandler, site, "admin", "secret")
    with _urllib(), opener.open(site.base + "/digest", timeout=5) as res:
        assert res.read() == b"welcome admin"


def test_digest_auth_with_curl(site):
    out = subprocess.run(
        ["curl", "-s", "--digest", "-u", "admin:secret", f"{site.base}/digest"],
        capture_output=True, timeout=10, check=True,
    ).stdout  # fmt: skip
    assert out == b"welcome admin"


def test_digest_challenge_and_wrong_password(site):
    status, headers, _ = site.get("/digest")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith('Digest realm="Secure Area", nonce="')
    assert challenge.endswith('", algorithm="MD5", qop="auth"')
    opener = _opener(urllib.request.HTTPDigestAuthHandler, site, "admin", "wrong")
    with _urllib(), pytest.raises(urllib.error.HTTPError) as info:
        opener.open(site.base + "/digest", timeout=5)
    assert info.value.code == 401
    info.value.close()


def _digest_header(
    nonce, password="secret", uri="/digest", realm="Secure Area", nc="00000001", qop=True
):
    def H(s):
        return hashlib.md5(s.encode()).hexdigest()

    ha1 = H(f"admin:{realm}:{password}")
    ha2 = H(f"GET:{uri}")
    head = f'Digest username="admin", realm="{realm}", nonce="{nonce}", uri="{uri}", '
    if not qop:  # RFC 2069 style
        return head + f'response="{H(f"{ha1}:{nonce}:{ha2}")}"'
    response = H(f"{ha1}:{nonce}:{nc}:abcdef:auth:{ha2}")
    return head + f'response="{response}", qop=auth, nc={nc}, cnonce="abcdef"'


def _fresh_nonce(app):
    status, headers, _ = app.get("/digest")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert "stale" not in challenge
    return challenge.split('nonce="')[1].split('"')[0]


def _digest_get(app, nonce, **kwargs):
    """(status, stale) of a GET /digest with a hand-built Authorization."""
    status, headers, body = app.get("/digest", {"Authorization": _digest_header(nonce, **kwargs)})
    if status == 200:
        assert body == b"welcome admin"
        return 200, None
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith('Digest realm="Secure Area", nonce="')
    assert f'nonce="{nonce}"' not in challenge  # a fresh one
    return 401, challenge.endswith(", stale=true")


def test_digest_refuses_a_nonce_it_did_not_issue(app):
    # the right password, but a nonce of the client's choosing (3.2.5 accepted it)
    status, headers, body = app.get("/digest", {"Authorization": _digest_header("0" * 40)})
    assert status == 401
    assert headers["WWW-Authenticate"].endswith(", stale=true")  # right password, bad nonce
    status, headers, body = app.get(
        "/digest", {"Authorization": _digest_header("0" * 40, password="wrong")}
    )
    assert status == 401
    assert "stale" not in headers["WWW-Authenticate"]
    challenge = app.get("/digest")[1]["WWW-Authenticate"]
    nonce = challenge.split('nonce="')[1].split('"')[0]
    status, _, body = app.get("/digest", {"Authorization": _digest_header(nonce)})
    assert (status, body) == (200, b"welcome admin")


def test_digest_auth_with_requests_counts_and_refuses_replays(web_server):
    # requests' HTTPDigestAuth keeps the nonce and sends nc=1, 2, 3 (RFC 7616 §3.4)
    url = web_server(Root()) + "/digest"
    auth = requests.auth.HTTPDigestAuth("admin", "secret")
    with requests.Session() as session:
        sent = []
        for _ in range(3):
            res = session.get(url, auth=auth, timeout=5)
            assert (res.status_code, res.text) == (200, "welcome admin")
            sent.append(res.request.headers["Authorization"])
    assert [h.split("nc=")[1][:8] for h in sent] == ["00000001", "00000002", "00000003"]
    # each captured request, sent again, is a replay
    for header in sent:
        res = requests.get(url, headers={"Authorization": header}, timeout=5)
        assert res.status_code == 401
        assert res.headers["WWW-Authenticate"].endswith(", stale=true")
    # the real client, told stale=true, retries with the fresh nonce without asking
    res = requests.get(url, auth=requests.auth.HTTPDigestAuth("admin", "secret"), timeout=5)
    assert (res.status_code, res.text) == (200, "welcome admin")


def test_digest_replayed_nonce_counts_are_refused(app):
    nonce = _fresh_nonce(app)
    assert _digest_get(app, nonce) == (200, None)
    assert _digest_get(app, nonce) == (401, True)  # the same request again
    assert _digest_get(app, nonce, nc="00000002") == (200, None)
    assert _digest_get(app, nonce, nc="00000001") == (401, True)  # lower
    assert _digest_get(app, nonce, nc="00000002") == (401, True)
    assert _digest_get(app, nonce, nc="00000005") == (200, None)  # may skip


def test_digest_wrong_password_does_not_use_up_a_count(app):
    nonce = _fresh_nonce(app)
    for _ in range(2):
        assert _digest_get(app, nonce, password="wrong") == (401, False)
    assert _digest_get(app, nonce) == (200, None)  # nc=1 is still unused


def test_digest_without_qop_is_accepted_once_per_nonce(app):
    nonce = _fresh_nonce(app)
    assert _digest_get(app, nonce, qop=False) == (200, None)
    assert _digest_get(app, nonce, qop=False) == (401, True)
    assert _digest_get(app, _fresh_nonce(app), qop=False) == (200, None)


def test_digest_nonce_expires(web_client, clock):
    app = InProcess(web_client(Root()))
    nonce = _fresh_nonce(app)
    assert _digest_get(app, nonce) == (200, None)
    clock.advance(tools._httpauth.NONCE_LIFETIME_S + 1)
    assert _digest_get(app, nonce, nc="00000002") == (401, True)
    assert _digest_get(app, _fresh_nonce(app)) == (200, None)


def test_digest_full_nonce_table_fails_closed(app, monkeypatch):
    auth = tools._httpauth
    monkeypatch.setattr(auth, "_nonce_counts", auth._NonceCounts())
    monkeypatch.setattr(auth, "MAX_TRACKED_NONCES", 2)
    nonces = [_fresh_nonce(app) for _ in range(3)]
    for nonce in nonces:
        assert _digest_get(app, nonce) == (200, None)
    # the oldest was dropped: refused (stale, so the client retries), never accepted again
    assert _digest_get(app, nonces[0]) == (401, True)
    assert _digest_get(app, nonces[0], nc="00000002") == (401, True)
    assert _digest_get(app, nonces[1], nc="00000002") == (200, None)


def test_check_auth_user_tables():
    import base64

    def header(user, password):
        return [
            ("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
        ]

    stored = {"bob": hashlib.md5(b"pw").hexdigest()}
    req, res = make(headers=header("bob", "pw"))
    assert tools.check_auth(req, res, "r", lambda: stored) is True
    assert req.login == "bob"
    req, res = make(headers=header("bob", "pw"))
    assert tools.check_auth(req, res, "r", lambda user: stored.get(user)) is True
    req, res = make(headers=header("bob", "nope"))
    assert tools.check_auth(req, res, "r", stored) is False
    assert req.login is False
    req, res = make(headers=header("eve", "pw"))
    assert tools.check_auth(req, res, "r", stored) is False
    req, res = make(headers=header("bob", "pw"))
    assert tools.check_auth(req, res, "r", {"bob": "pw"}, encrypt=lambda p: p) is True
    req, res = make(headers=header("bob", "pw"))
    with pytest.raises(ValueError, match="dict"):
        tools.check_auth(req, res, "r", lambda: ["not", "a", "dict"])
    req, res = make()
    assert tools.check_auth(req, res, "r", stored) is False


def test_auth_helpers_return_events():
    req, res = make()
    result = tools.digest_auth(req, res, "R", {})
    assert isinstance(result, unauthorized)
    assert res.headers["WWW-Authenticate"].startswith('Digest realm="R"')
    req, res = make()
    assert isinstance(tools.basic_auth(req, res, "R", {}), unauthorized)


# -- ReverseProxy ----------------------------------------------------------------------


def test_reverse_proxy_from_a_trusted_peer(docroot):
    root = Root()
    with serving(tools.ReverseProxy(), root) as s:
        assert s.get("/remote", {"X-Forwarded-For": "10.1.1.1, 10.2.2.2"})[2] == b"10.2.2.2"
        assert s.get("/remote", {"X-Real-IP": "10.3.3.3"})[2] == b"10.3.3.3"
        assert s.get("/remote", {"X-Real-IP": "not an ip"})[2] == b"127.0.0.1"
        assert s.get("/remote")[2] == b"127.0.0.1"


def test_reverse_proxy_ignores_untrusted_peers(docroot):
    with serving(tools.ReverseProxy(trusted=("10.0.0.1",)), Root()) as s:
        assert s.get("/remote", {"X-Real-IP": "10.3.3.3"})[2] == b"127.0.0.1"
    with serving(tools.ReverseProxy(trusted=None, headers=("X-Client",)), Root()) as s:
        assert s.get("/remote", {"X-Client": "10.4.4.4"})[2] == b"10.4.4.4"


def test_reverse_proxy_defaults():
    assert tools.ReverseProxy.headers == ("X-Real-IP", "X-Forwarded-For")
    m = Manager()
    proxy = tools.ReverseProxy().register(m)
    assert proxy.trusted == ("127.0.0.1", "::1")


def test_surface():
    from circuits.web import utils

    assert tools.compress is utils.compress
    assert tools.get_ranges is utils.get_ranges
