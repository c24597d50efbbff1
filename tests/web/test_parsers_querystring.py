"""circuits.web.parsers.querystring: nested keys."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from circuits.web.parsers import QueryStringParser as Reexported
from circuits.web.parsers.querystring import QueryStringParser, QueryStringToken


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("a=1&b=2", {"a": "1", "b": "2"}),
        ("a=1&a=2", {"a": "2"}),
        ("a=", {"a": ""}),
        (" a = 1 ", {"a": "1"}),
        ("a[]=1&a[]=2", {"a": ["1", "2"]}),
        ("a[1]=y&a[0]=x", {"a": ["x", "y"]}),
        ("a.b=1", {"a": {"b": "1"}}),
        ("a.b.c=1&a.b.d=2", {"a": {"b": {"c": "1", "d": "2"}}}),
        ("a[0].b=1", {"a": [{"b": "1"}]}),
        ("a[0].b=1&a[0].c=2&a[1].b=3", {"a": [{"b": "1", "c": "2"}, {"b": "3"}]}),
        ("x=1&y[]=2&z.k=3", {"x": "1", "y": ["2"], "z": {"k": "3"}}),
        ("a%5B%5D=%20v", {"a": ["v"]}),
        ([("b", "2"), ("a[]", "1")], {"a": ["1"], "b": "2"}),
        ({"a.b": "1"}, {"a": {"b": "1"}}),
    ],
)
def test_result(data, expected):
    assert QueryStringParser(data).result == expected


def test_tokens():
    tokens = list(QueryStringParser("").tokens("a[0].b"))
    assert tokens == [
        (QueryStringToken.ARRAY, "a"),
        (QueryStringToken.KEY, 0),
        (QueryStringToken.OBJECT, ""),
        (QueryStringToken.KEY, "b"),
    ]
    assert list(QueryStringParser("").tokens("a[]")) == [("ARRAY", "a"), ("KEY", None)]
    assert Reexported is QueryStringParser


def test_field_limit():
    assert len(QueryStringParser("&".join(f"k{i}=v" for i in range(5)), max_fields=5).result) == 5
    with pytest.raises(ValueError):
        QueryStringParser("&".join(f"k{i}=v" for i in range(6)), max_fields=5)
    with pytest.raises(ValueError):
        QueryStringParser([(f"k{i}", "v") for i in range(6)], max_fields=5)


@given(st.lists(st.tuples(st.text("ab.[]0 1", max_size=8), st.text(max_size=3)), max_size=8))
def test_any_keys_parse(pairs):
    assert isinstance(QueryStringParser(pairs).result, dict)
