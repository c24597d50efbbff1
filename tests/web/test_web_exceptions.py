from __future__ import annotations

import pytest

from circuits.web import exceptions
from circuits.web.exceptions import HTTPException, MethodNotAllowed, NotFound, Redirect


def test_all_is_the_21_names_alphabetical():
    assert len(exceptions.__all__) == 21
    assert exceptions.__all__ == sorted(exceptions.__all__)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("BadRequest", 400),
        ("Forbidden", 403),
        ("NotFound", 404),
        ("RangeUnsatisfiable", 416),
        ("NotImplemented", 501),
        ("ServiceUnavailable", 503),
        ("Redirect", 303),
    ],
)
def test_codes(name, code):
    assert getattr(exceptions, name).code == code


def test_message_name_repr_and_overrides():
    e = NotFound()
    assert str(e) == "404 Not Found"
    assert e.name == "Not Found"
    assert repr(e) == "<NotFound '404 Not Found'>"
    assert e.traceback is True
    assert "not found" in (e.description or "")
    e2 = NotFound("<p>gone</p>", traceback=False)
    assert (e2.description, e2.traceback) == ("<p>gone</p>", False)
    assert NotFound.description != "<p>gone</p>"


def test_no_code_raises_type_error():
    with pytest.raises(TypeError):
        HTTPException()
    with pytest.raises(TypeError):
        exceptions.UnicodeError()


def test_method_not_allowed_escapes_method():
    e = MethodNotAllowed("<script>")
    assert "The method &lt;script&gt; is not allowed for the requested URL." in e.description
    assert MethodNotAllowed("PUT", "x").description == "x"


def test_redirect():
    r = Redirect("/x", 301)
    assert r.urls == ["/x"]
    assert r.status == 301
    assert r.code == 303
    assert Redirect(["/a", "/b"]).urls == ["/a", "/b"]
