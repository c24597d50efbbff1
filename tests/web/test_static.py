"""Static: files, listings and containment, against a real server (web.md §11.5)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from web_harness import serving

from circuits import Manager
from circuits.web import Controller, Static, tools
from circuits.web.dispatchers import static as static_module
from circuits.web.errors import notfound
from circuits.web.events import request
from circuits.web.headers import Headers
from circuits.web.wrappers import Request, Response

SECRET = b"TOPSECRET-do-not-serve"
LARGE = bytes(i % 251 for i in range(12999))


@pytest.fixture
def docroot(tmp_path):
    """``tmp_path/root`` served at /static; secrets next to it and in ``outside/``."""
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "root-sibling").mkdir()
    (tmp_path / "root-sibling" / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret2.txt").write_bytes(SECRET)
    (root / "helloworld.txt").write_bytes(b"Hello World!")
    (root / "a.txt").write_bytes(b"Hello, world!")  # 13 bytes
    (root / "largefile.txt").write_bytes(LARGE)
    (root / "#foobar.txt").write_bytes(b"Foobar")
    (root / "test.css").write_bytes(b"body { color: red; }")
    (root / "<script>.txt").write_bytes(b"x")
    (root / 'quo"te&amp.txt').write_bytes(b"y")
    (root / ".hidden").write_bytes(b"h")
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_bytes(b"<p>sub index</p>")
    (root / "sub" / "deeper.txt").write_bytes(b"deeper")
    (root / "empty").mkdir()
    (root / "empty" / "e.txt").write_bytes(b"e")
    os.symlink("../secret.txt", root / "link.txt")
    os.symlink("../outside", root / "linkdir")
    os.symlink("helloworld.txt", root / "inlink.txt")
    return root


class Root(Controller):
    def hello(self):
        return "hello from the controller"


@pytest.fixture
def site(docroot):
    with serving(Static("/static", str(docroot), dirlisting=True), Root()) as s:
        yield s


# -- serving files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "request_headers", "answer", "expected_headers"),
    [
        (
            "/static/helloworld.txt",
            {},
            (200, b"Hello World!"),
            {"Content-Length": "12"},
        ),
        (
            "/static/a.txt",
            {"Range": "bytes=0-4"},
            (206, b"Hello"),
            {"Content-Range": "bytes 0-4/13"},
        ),
    ],
    ids=["whole", "range"],
)
def test_small_file(site, path, request_headers, answer, expected_headers):
    status, headers, body = site.get(path, request_headers)
    assert (status, body) == answer
    for name, value in expected_headers.items():
        assert headers[name] == value, name
    assert headers["Content-Type"] == "text/plain"
    assert headers["Accept-Ranges"] == "bytes"
    assert "Last-Modified" in headers


def test_large_file_complete_with_its_length_not_chunked(site):
    status, headers, body = site.get("/static/largefile.txt")
    assert status == 200
    assert body == LARGE
    assert headers["Content-Length"] == "12999"
    assert "Transfer-Encoding" not in headers


def test_head_gives_the_length_and_no_body(site):
    status, headers, body = site.get("/static/largefile.txt", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == "12999"


def test_missing_file_falls_through_to_404(site):
    status, _, body = site.get("/static/foo.txt")
    assert status == 404
    assert b"Not Found" in body


def test_hash_in_name_via_percent_23(site):
    status, _, body = site.get("/static/%23foobar.txt")
    assert (status, body) == (200, b"Foobar")


def test_css_content_type_has_no_charset(site):
    status, headers, _ = site.get("/static/test.css")
    assert status == 200
    assert headers["Content-Type"] == "text/css"


def test_directory_with_index_is_served_without_redirect(site):
    for path in ("/static/sub", "/static/sub/"):
        status, headers, body = site.get(path)
        assert (status, body) == (200, b"<p>sub index</p>"), path
        assert headers["Content-Type"] == "text/html"


def test_absolute_form_request_target(site):
    out = site.raw(
        f"GET http://127.0.0.1:{site.port}/static/largefile.txt HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{site.port}\r\nConnection: close\r\n\r\n".encode()
    )
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == LARGE


def test_symlink_inside_the_root_is_served(site):
    status, _, body = site.get("/static/inlink.txt")
    assert (status, body) == (200, b"Hello World!")


def test_request_cookies_are_not_echoed(site):
    _, headers, _ = site.get("/static/helloworld.txt", {"Cookie": "a=b"})
    assert "Set-Cookie" not in headers


def test_prefix_must_end_at_a_segment(site):
    status, _, body = site.get("/statichelloworld.txt")
    assert status == 404
    assert body != b"Hello World!"


def test_paths_outside_the_prefix_reach_the_controllers(site):
    assert site.get("/hello")[2] == b"hello from the controller"


def test_if_modified_since_gives_304(site):
    _, headers, _ = site.get("/static/helloworld.txt")
    status, headers2, body = site.get(
        "/static/helloworld.txt", {"If-Modified-Since": headers["Last-Modified"]}
    )
    assert (status, body) == (304, b"")
    assert "Content-Length" not in headers2 or headers2["Content-Length"] == "0"


# -- listings -----------------------------------------------------------------------


def test_listing_of_the_root(site):
    status, headers, body = site.get("/static/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    text = body.decode()
    assert "Index of /static/" in text
    assert '<a href="/static/helloworld.txt">helloworld.txt</a>' in text
    assert '<a href="/static/sub/">sub/</a>' in text
    assert ">..</a>" not in text  # no way up from the root


def test_listing_escapes_names_and_quotes_links(site):
    text = site.get("/static/")[2].decode()
    assert "<script>" not in text
    assert '<a href="/static/%3Cscript%3E.txt">&lt;script&gt;.txt</a>' in text
    assert "quo&quot;te&amp;amp.txt</a>" in text
    assert 'href="/static/quo%22te%26amp.txt"' in text


def test_listing_leaves_out_hidden_entries_and_links_out_of_the_root(site):
    text = site.get("/static/")[2].decode()
    assert ".hidden" not in text
    assert "link.txt<" not in text.replace("inlink.txt<", "")
    assert "linkdir" not in text
    assert "inlink.txt" in text


def test_listing_of_a_subdirectory_links_up(site):
    status, _, body = site.get("/static/empty/")
    text = body.decode()
    assert status == 200
    assert "Index of /static/empty/" in text
    assert '<li><a href="/static/">..</a></li>' in text
    assert '<a href="/static/empty/e.txt">e.txt</a>' in text


def test_no_listing_without_dirlisting(docroot):
    with serving(Static("/static", str(docroot)), Root()) as site:
        assert site.get("/static/empty/")[0] == 404
        assert site.get("/static/sub/")[2] == b"<p>sub index</p>"


# -- containment --------------------------------------------------------------------

TRAVERSALS = [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/..%2froot-sibling/secret.txt",
    "/static/sub/..%2f..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/..\\secret.txt",
    "/static/%5c..%5csecret.txt",
    "/static/helloworld.txt%00",
    "/static/%00../secret.txt",
    "/static/link.txt",
    "/static/linkdir/secret2.txt",
    "/static/linkdir/",
    "/static/%2fsecret.txt",
    "/static/..",
    "/static/../../../../../../etc/passwd",
    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
]


def _follow(site, path: str):
    """GET ``path`` following redirects to this server (at most 3); the last answer."""
    for _ in range(4):
        status, headers, body = site.get(path)
        assert SECRET not in body
        if status not in (301, 302, 303, 307, 308):
            return status, body
        location = urlsplit(headers["Location"])
        assert location.port == site.port
        path = location.path or "/"
    raise AssertionError(f"redirect loop from {path!r}")


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_never_reaches_the_secret(site, path):
    status, body = _follow(site, path)
    assert status in (400, 404), (path, status, body[:200])
    assert SECRET not in body


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_raw_never_reaches_the_secret(site, path):
    out = site.raw(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1")
    )
    assert out.startswith(b"HTTP/1.1 ")
    assert int(out[9:12]) in (301, 400, 404)
    assert SECRET not in out


def _direct(static: Static, path: str):
    """Fire ``request`` for ``path`` straight at Static (no HTTP path guard in between)."""
    m = Manager()
    static.register(m)
    while len(m):
        m.flush()

    class Sock:
        def getpeername(self):
            return ("127.0.0.1", 1)

    req = Request(Sock(), "GET", path=path, headers=Headers([("Host", "example.com")]))
    res = Response(req)
    value = m.fire(request(req, res), "web")
    while len(m):
        m.flush()
    return value.value, res


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_alone_refuses_traversal(docroot, path):
    value, res = _direct(Static("/static", str(docroot), dirlisting=True), path)
    if value is not None:  # None: not ours (falls through to a 404)
        assert isinstance(value, notfound), (path, value)
    assert SECRET not in b"".join(x for x in (res.body or []) if isinstance(x, bytes))


def test_static_alone_serves_and_claims(docroot):
    value, res = _direct(Static("/static", str(docroot)), "/static/helloworld.txt")
    assert value is res
    assert res.headers["Content-Length"] == "12"
    b"".join(res.body)  # drain: closes the file


def test_follow_external_symlinks_is_opt_in(docroot):
    static = Static("/static", str(docroot), follow_external_symlinks=True)
    with serving(static, Root()) as site:
        status, _, body = site.get("/static/link.txt")
        assert (status, body) == (200, SECRET)
        # the path as written must still stay inside
        assert SECRET not in _follow(site, "/static/..%2fsecret.txt")[1]
    value, _ = _direct(Static("/static", str(docroot), follow_external_symlinks=True),
                       "/static/..%2fsecret.txt")  # fmt: skip
    assert isinstance(value, notfound)


def test_docroot_defaults_to_the_working_directory(docroot, monkeypatch):
    monkeypatch.chdir(docroot)
    static = Static()
    assert static.docroot == str(docroot)
    assert static.path is None
    assert static.defaults == ("index.html", "index.xhtml")
    assert static.dirlisting is False
    value, res = _direct(static, "/helloworld.txt")
    assert value is res
    b"".join(res.body)


def test_module_surface():
    assert static_module.serve_file is tools.serve_file
    assert "$listing" in static_module.DEFAULT_DIRECTORY_INDEX_TEMPLATE
