from __future__ import annotations

import pytest

from circuits.web.headers import (
    AcceptElement,
    CaseInsensitiveDict,
    HeaderElement,
    Headers,
    header_elements,
    q_separator,
    tspecials,
)


def test_case_insensitive_dict_title_cases_keys():
    d = CaseInsensitiveDict({"content-type": "a"}, etag="x")
    assert list(d.keys()) == ["Content-Type", "Etag"]
    assert d["CONTENT-TYPE"] == "a"
    assert "content-type" in d
    assert d.get("missing") is None
    assert d.pop("missing") is None
    assert d.setdefault("www-authenticate", "b") == "b"
    assert "Www-Authenticate" in dict(d)
    assert dict(CaseInsensitiveDict.fromkeys(["a-b"], 1)) == {"A-B": 1}


def test_headers_str_bytes_repr():
    h = Headers([("content-type", "text/plain")])
    h.append("Set-Cookie", "a=b")
    h.append("set-cookie", "c=d")
    assert str(h) == "Content-Type: text/plain\r\nSet-Cookie: a=b\r\nSet-Cookie: c=d\r\n\r\n"
    assert bytes(h) == str(h).encode("latin-1")
    assert repr(h) == (
        "Headers([('Content-Type', 'text/plain'), ('Set-Cookie', 'a=b'), ('Set-Cookie', 'c=d')])"
    )


def test_append_joins_and_get_all_splits():
    h = Headers()
    h.append("Vary", "Accept")
    h.append("vary", "Cookie")
    assert h["Vary"] == "Accept, Cookie"
    assert h.get_all("vary") == ["Accept", "Cookie"]
    assert h.get_all("missing") == [""]


def test_add_header_formats_params():
    h = Headers()
    h.add_header("Content-Disposition", "attachment", filename="a.gif")
    assert h["Content-Disposition"] == 'attachment; filename="a.gif"'
    h2 = Headers()
    h2.add_header("X", "v", some_flag=None, q='a"b\\')
    assert h2["X"] == 'v; some-flag; q="a\\"b\\\\"'


def test_add_header_encodes_non_latin1_params_rfc8187():
    h = Headers()
    h.add_header("Content-Disposition", "attachment", filename="日本.txt")
    assert h["Content-Disposition"] == "attachment; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"


@pytest.mark.parametrize("bad", ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x00b"])
def test_header_values_with_cr_lf_nul_are_refused(bad):
    h = Headers()
    with pytest.raises(ValueError, match="X-Test"):
        h["x-test"] = bad
    with pytest.raises(ValueError, match="X-Test"):
        h.append("X-Test", bad)
    with pytest.raises(ValueError, match="Set-Cookie"):
        h.append("Set-Cookie", bad)
    with pytest.raises(ValueError, match="X-Test"):
        h.add_header("X-Test", "v", p=bad)
    with pytest.raises(ValueError):
        Headers({"X-Test": bad})
    assert "X-Test" not in h


def test_header_names_with_cr_lf_are_refused():
    with pytest.raises(ValueError, match="name"):
        Headers()["X\r\nEvil"] = "1"


def test_list_mutated_in_place_is_never_emitted():
    h = Headers()
    h.append("Set-Cookie", "a=b")
    h.append("Set-Cookie", "c=d")
    h["Set-Cookie"].append("x\r\nEvil: 1")
    with pytest.raises(ValueError, match="Set-Cookie"):
        str(h)


def test_non_latin1_value_is_refused_cleanly():
    with pytest.raises(ValueError, match="Latin-1"):
        Headers()["X-Name"] = "日本"
    h = Headers()
    h["X-Name"] = "café"
    assert bytes(h) == b"X-Name: caf\xe9\r\n\r\n"


def test_header_element_parse_and_str():
    e = HeaderElement.from_str("text/html ; level=1; charset = utf-8; flag")
    assert e.value == "text/html"
    assert e.params == {"level": "1", "charset": "utf-8", "flag": ""}
    assert str(e) == "text/html;level=1;charset=utf-8;flag="
    assert bytes(HeaderElement("a", {"b": "c"})) == b"a;b=c"
    assert HeaderElement("a") == HeaderElement("a", {"x": "y"})
    assert HeaderElement("a") < HeaderElement("b")


def test_accept_element_qvalue():
    e = AcceptElement.from_str("text/html;level=1 ; q = 0.5")
    assert e.value == "text/html"
    assert isinstance(e.params["q"], HeaderElement)
    assert e.qvalue == 0.5
    assert AcceptElement.from_str("text/plain").qvalue == 1.0
    assert AcceptElement.from_str("a;q=bogus").qvalue == 0.0
    assert AcceptElement.from_str("a;q=nan").qvalue == 0.0


def test_header_elements_sorts_accept_by_q_descending():
    value = "text/plain;q=0.5, text/html, application/json;q=0.9, */*;q=0.1"
    result = header_elements("Accept", value)
    assert [e.value for e in result] == ["text/html", "application/json", "text/plain", "*/*"]
    assert all(isinstance(e, AcceptElement) for e in result)
    assert [e.value for e in Headers(accept=value).elements("accept")] == [e.value for e in result]
    assert isinstance(header_elements("TE", "trailers")[0], AcceptElement)


def test_header_elements_other_fields_reverse_alphabetical():
    result = header_elements("Connection", "close, Upgrade, keep-alive")
    assert [e.value for e in result] == ["keep-alive", "close", "Upgrade"]
    assert type(result[0]) is HeaderElement
    assert header_elements("Accept", "") == []
    assert header_elements("Accept", None) == []


def test_regexes():
    assert tspecials.search("a b")
    assert not tspecials.search("abc")
    assert q_separator.split("a;b=1; q =0.3") == ["a;b=1", "0.3"]
