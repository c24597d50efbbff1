from __future__ import annotations

import json
import logging
import sys

import pytest

from circuits.core.events import Event
from circuits.web import errors
from circuits.web.errors import forbidden, httperror, notfound, redirect, unauthorized
from circuits.web.headers import Headers
from circuits.web.wrappers import Request, Response


class FakeSock:
    def getpeername(self):
        return ("10.0.0.1", 5555)


class FakeServer:
    host = "127.0.0.1"
    port = 8000

    def __init__(self, display_banner=True, debug=False):
        self.display_banner = display_banner
        self.debug = debug


def make(protocol=(1, 1), **kwargs):
    headers = Headers()
    headers["Host"] = "example.com"
    req = Request(FakeSock(), protocol=protocol, headers=headers, server=FakeServer(**kwargs))
    return req, Response(req)


def exc_info():
    try:
        raise ValueError("boom <b>")
    except ValueError:
        return sys.exc_info()


def test_reexports_event():
    assert errors.Event is Event


def test_httperror_sets_status_close_and_name():
    req, res = make()
    e = notfound(req, res)
    assert e.name == "httperror"
    assert e.args == [req, res, None]
    assert res.status == 404
    assert res.close is True
    assert e.data["name"] == "Not Found"
    assert repr(e) == "<notfound 404 Not Found>"


@pytest.mark.parametrize(("cls", "code"), [(forbidden, 403), (unauthorized, 401), (notfound, 404)])
def test_subclass_codes(cls, code):
    req, res = make()
    assert cls(req, res).code == code
    assert int(res.status) == code


def test_code_argument_overrides_class():
    req, res = make()
    e = httperror(req, res, 418, description="<p>short</p>")
    assert e.code == 418
    page = str(e)
    assert "<title>418 I&quot;m a teapot</title>" in page
    assert "<p>short</p>" in page


def test_html_page_layout():
    req, res = make()
    page = str(notfound(req, res))
    assert page.startswith("<!DOCTYPE html PUBLIC")
    assert "<title>404 Not Found</title>" in page
    assert "<h1>Not Found</h1>" in page
    assert '<pre id="traceback"></pre>' in page
    assert '<div id="powered_by">' in page
    assert page.endswith("</html>\n")


def test_no_powered_by_without_banner():
    req, res = make(display_banner=False)
    assert 'powered_by">' not in str(notfound(req, res))


def test_none_description_renders_empty():
    req, res = make()
    assert "None" not in str(forbidden(req, res, description=None))


def test_traceback_hidden_by_default_and_logged(caplog):
    req, res = make()
    with caplog.at_level(logging.ERROR, logger="circuits.web.errors"):
        e = httperror(req, res, error=exc_info())
    assert e.traceback.startswith("ERROR: (<class 'ValueError'>) boom <b>\n")
    page = str(e)
    assert "boom" not in page
    assert "Traceback" not in page
    assert "File " not in page
    assert "boom <b>" in caplog.text


def test_traceback_shown_escaped_with_debug():
    req, res = make(debug=True)
    assert req.print_debug is True
    page = str(httperror(req, res, error=exc_info()))
    assert "ERROR: (&lt;class &#x27;ValueError&#x27;&gt;) boom &lt;b&gt;" in page
    assert "boom <b>" not in page


def test_preformatted_traceback_lines():
    req, res = make(debug=True)
    e = httperror(req, res, error=(KeyError, KeyError("k"), ["  File x\n", "    y\n"]))
    assert e.traceback == "ERROR: (<class 'KeyError'>) 'k'\n  File x\n    y\n"


def test_json_page_when_response_is_json():
    req, res = make()
    res.headers["Content-Type"] = "application/json"
    doc = json.loads(str(httperror(req, res, error=exc_info())))
    assert list(doc) == ["code", "name", "description"]
    assert doc == {"code": 500, "name": "Internal Server Error", "description": ""}


def test_json_page_with_debug_has_traceback():
    req, res = make(debug=True)
    res.headers["Content-Type"] = "application/json"
    doc = json.loads(str(httperror(req, res, error=exc_info())))
    assert list(doc) == ["code", "name", "description", "traceback"]
    assert doc["traceback"].startswith("ERROR: (<class 'ValueError'>) boom")


@pytest.mark.parametrize("code", [100, 204, 205, 304])
def test_bodiless_codes_render_empty(code):
    req, res = make()
    assert str(httperror(req, res, code)) == ""


def test_sanitize_drops_location_for_non_redirects():
    req, res = make()
    res.headers["Location"] = "http://x/"
    str(notfound(req, res))
    assert "Location" not in res.headers


def test_redirect_default_code_and_location():
    req, res = make()
    e = redirect(req, res, "/there")
    assert e.name == "httperror"
    assert e.code == 303
    assert res.status == 303
    assert e.urls == ["http://example.com/there"]
    assert res.headers["Location"] == "http://example.com/there"
    assert "Content-Length" not in res.headers
    assert "<title>303 See Other</title>" in str(e)
    assert res.headers["Location"] == "http://example.com/there"


def test_redirect_http10_uses_302_and_keeps_absolute_urls():
    req, res = make(protocol=(1, 0))
    e = redirect(req, res, ["http://other/a", "/b"])
    assert e.code == 302
    assert e.urls == ["http://other/a", "http://example.com/b"]
    assert res.body == [
        b'This resource resides temporarily at <a href="http://other/a">'
        b"http://other/a</a>.<br />\nThis resource resides temporarily at "
        b'<a href="http://example.com/b">http://example.com/b</a>.'
    ]


def test_redirect_target_is_encoded():
    req, res = make()
    e = redirect(req, res, '/x"><script>\r\nSet-Cookie: a=b')
    location = res.headers["Location"]
    assert not any(c in location for c in '"<>\r\n ')
    # urllib drops CR/LF/TAB while joining; whatever is left is percent-encoded
    assert location.startswith("http://example.com/x%22%3E%3Cscript%3E")
    assert location.endswith("Set-Cookie:%20a=b")
    assert b"<script>" not in b"".join(res.body)
    assert e.urls == [location]


def test_redirect_304_drops_entity_headers():
    req, res = make()
    res.headers["Content-Type"] = "text/plain"
    res.headers["Last-Modified"] = "x"
    e = redirect(req, res, "/", 304)
    assert "Content-Type" not in res.headers
    assert "Last-Modified" not in res.headers
    assert res.body == []
    assert str(e) == ""


def test_redirect_305_sets_location():
    req, res = make()
    redirect(req, res, "/proxy", 305)
    assert res.headers["Location"] == "http://example.com/proxy"


def test_redirect_bad_codes():
    req, res = make()
    with pytest.raises(ValueError, match="status code must be between 300 and 399"):
        redirect(req, res, "/", 200)
    with pytest.raises(ValueError, match="The 306 status code is unknown"):
        redirect(req, res, "/", 306)
    assert res.status == 200


def test_redirect_repr():
    req, res = make()
    e = redirect(req, res, "/x")
    e.channels = ("web",)
    assert repr(e) == "<redirect 303[web.httperror] http://example.com/x>"
