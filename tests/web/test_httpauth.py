"""circuits.web._httpauth: challenges, parsing and RFC 2617 responses (web.md §22)."""

from __future__ import annotations

import base64
import hashlib
import sys
import threading

import pytest
from hypothesis import given, strategies as st

from circuits.web import _httpauth as a

# RFC 2617 §3.5's worked example.
RFC_PARAMS = {
    "auth_scheme": "digest",
    "username": "Mufasa",
    "realm": "testrealm@host.com",
    "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    "uri": "/dir/index.html",
    "qop": "auth",
    "nc": "00000001",
    "cnonce": "0a4f113b",
    "response": "6629fae49393a05397450978507c4ef1",
    "opaque": "5ccc069c403ebaf9f0171e9517f40e41",
}
RFC_PASSWORD = "Circle Of Life"
RFC_HEADER = (
    'Digest username="Mufasa", realm="testrealm@host.com", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
    'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
    'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def H(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def test_constants():
    assert (a.MD5, a.SHA1, a.MD5_SESS, a.AUTH, a.AUTH_INT) == (
        "MD5", "SHA1", "MD5-sess", "auth", "auth-int",
    )  # fmt: skip
    assert a.SUPPORTED_ALGORITHM == ("MD5", "MD5-sess")
    assert a.SUPPORTED_QOP == ("auth", "auth-int")
    assert set(a.AUTH_SCHEMES) == set(a.AUTH_RESPONSES) == {"basic", "digest"}


@pytest.mark.parametrize("value", [b"abc", "abc"])
def test_encoders_take_bytes_or_str(value):
    assert a.DIGEST_AUTH_ENCODERS[a.MD5](value) == hashlib.md5(b"abc").hexdigest()
    assert a.DIGEST_AUTH_ENCODERS[a.MD5_SESS](value) == hashlib.md5(b"abc").hexdigest()
    # broken in 3.2.5
    assert a.DIGEST_AUTH_ENCODERS[a.SHA1](value) == hashlib.sha1(b"abc").hexdigest()


def test_challenges():
    assert a.basicAuth("R") == 'Basic realm="R"'
    challenge = 'Digest realm="R", nonce="n", algorithm="MD5", qop="auth"'
    assert a.digestAuth("R", nonce="n") == challenge
    assert a.digestAuth("R", a.MD5_SESS, "n", a.AUTH_INT) == (
        'Digest realm="R", nonce="n", algorithm="MD5-sess", qop="auth-int"'
    )
    both = a.doAuth("R")
    assert both.startswith('Digest realm="R", nonce="')
    assert both.endswith(' Basic realm="R"')


def test_challenge_refusals():
    with pytest.raises(AssertionError):
        a.basicAuth('a"b')
    with pytest.raises(AssertionError):
        a.digestAuth("a\\b")
    with pytest.raises(ValueError, match="algorithm"):
        a.digestAuth("R", a.SHA1)
    with pytest.raises(ValueError, match="qop"):
        a.digestAuth("R", qop="x")
    with pytest.raises(ValueError, match="algorithm"):
        a.calculateNonce("R", "nope")


def test_nonces_are_fresh_and_verifiable(clock):
    one, two = a.calculateNonce("R"), a.calculateNonce("R")
    assert one != two  # same second, still two nonces (their counts are kept apart)
    assert a.validate_nonce(one, "R")
    assert not a.validate_nonce(one, "other realm")
    tampered = one[:-1] + ("0" if one[-1] != "0" else "1")
    assert not a.validate_nonce(tampered, "R")
    assert not a.validate_nonce("0" * 40, "R")
    assert not a.validate_nonce("0" * len(one), "R")
    assert not a.validate_nonce("not hex at all", "R")
    clock.advance(a.NONCE_LIFETIME_S)
    assert a.validate_nonce(one, "R")
    clock.advance(1)
    assert not a.validate_nonce(one, "R")


# -- nonce counts (replay detection) -------------------------------------------------


@pytest.fixture
def counts(monkeypatch):
    """An empty replay table of its own (the process's one is shared by all tests)."""
    table = a._NonceCounts()
    monkeypatch.setattr(a, "_nonce_counts", table)
    return table


def test_nonce_count_must_increase(counts):
    nonce = a.calculateNonce("R")
    assert a.record_nonce_count(nonce, "00000001")
    assert not a.record_nonce_count(nonce, "00000001")  # the same request again
    assert a.record_nonce_count(nonce, "00000002")
    assert not a.record_nonce_count(nonce, "00000001")  # lower
    assert a.record_nonce_count(nonce, "0000000A")  # may skip; hex, either case
    assert not a.record_nonce_count(nonce, "0000000a")
    other = a.calculateNonce("R")
    assert a.record_nonce_count(other, "00000001")  # counts are per nonce


@pytest.mark.parametrize("nc", ["1", "000000001", "0000000g", "", " 0000001"])
def test_malformed_nonce_count_is_refused(counts, nc):
    nonce = a.calculateNonce("R")
    assert not a.record_nonce_count(nonce, nc)
    assert a.record_nonce_count(nonce, "00000001")  # nothing was recorded


def test_request_without_qop_is_accepted_once_per_nonce(counts):
    nonce = a.calculateNonce("R")
    assert a.record_nonce_count(nonce, None)
    assert not a.record_nonce_count(nonce, None)
    assert a.record_nonce_count(nonce, "00000001")
    assert not a.record_nonce_count(nonce, None)


def test_nonce_counts_expire_with_their_nonce(counts, clock):
    old = a.calculateNonce("R")
    assert a.record_nonce_count(old, "00000001")
    clock.advance(a.NONCE_LIFETIME_S)
    assert a.record_nonce_count(old, "00000002")  # still alive
    clock.advance(1)
    assert not a.record_nonce_count(old, "00000003")
    young = a.calculateNonce("R")
    assert a.record_nonce_count(young, "00000001")
    assert list(counts._table) == [young]  # the expired entry is gone
    assert not a.record_nonce_count(old, "00000003")  # and stays refused


def test_full_table_drops_the_oldest_and_fails_closed(counts, monkeypatch):
    monkeypatch.setattr(a, "MAX_TRACKED_NONCES", 3)
    unused = a.calculateNonce("R")
    nonces = [a.calculateNonce("R") for _ in range(4)]
    for nonce in nonces:
        assert a.record_nonce_count(nonce, "00000001")
    assert list(counts._table) == nonces[1:]
    # the dropped nonce must not look unused: its captured requests stay refused
    assert not a.record_nonce_count(nonces[0], "00000001")
    assert not a.record_nonce_count(nonces[0], "00000002")
    # so is a nonce issued before it and not used yet (the client gets a fresh one)
    assert not a.record_nonce_count(unused, "00000001")
    assert a.record_nonce_count(nonces[1], "00000002")
    fresh = a.calculateNonce("R")
    assert a.record_nonce_count(fresh, "00000001")
    assert len(counts._table) == 3


def test_nonce_counts_from_threads(counts):
    # no count is accepted twice, whichever threads send it; switching threads
    # very often makes a check-then-record race (without the lock) likely
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    nonce = a.calculateNonce("R")
    accepted: list[int] = []

    def use() -> None:
        accepted.extend(nc for nc in range(1, 5001) if a.record_nonce_count(nonce, f"{nc:08x}"))

    threads = [threading.Thread(target=use) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert accepted
    assert len(accepted) == len(set(accepted))
    assert not a.record_nonce_count(nonce, f"{5000:08x}")


def test_nonces_are_unpredictable():
    # the MAC part depends on a per-process secret, not only on time and realm
    nonce = a.calculateNonce("R")
    assert nonce[8:] != H(f"{int(nonce[:8], 16)}:R")[:32]


def test_parse_basic():
    token = base64.b64encode(b"user:pa:ss").decode()
    assert a.parseAuthorization("Basic " + token) == {
        "username": "user", "password": "pa:ss", "auth_scheme": "basic",
    }  # fmt: skip
    utf8 = base64.b64encode("jürgen:pässwörd".encode()).decode()
    assert a.parseAuthorization("basic " + utf8)["password"] == "pässwörd"


def test_parse_digest_rfc_example():
    assert a.parseAuthorization(RFC_HEADER) == RFC_PARAMS


def test_parse_digest_quoted_commas_and_escapes():
    parsed = a.parseAuthorization(
        r'Digest username="a\"b, c", realm="r", nonce="n", uri="/x?a=1,2", response="r"'
    )
    assert parsed is not None
    assert parsed["username"] == 'a"b, c'
    assert parsed["uri"] == "/x?a=1,2"


@pytest.mark.parametrize(
    "credentials",
    [
        "",
        "Basic",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"nocolon").decode(),
        "Bearer abc",
        'Digest username="u", realm="r", nonce="n", uri="/"',  # no response
        'Digest username="u", realm="r", nonce="n", uri="/", response="x", qop=auth',  # no nc
        'Digest username="u", realm="r", nonce="n", uri="/", response="x", nc=1, cnonce="c"',
        'Digest username="u" realm="r"',
        'Digest username="unterminated',
        'Digest auth_scheme="basic", username="u", realm="r", nonce="n", uri="/", response="x"',
    ],
)
def test_parse_invalid(credentials):
    assert a.parseAuthorization(credentials) is None


@given(st.text())
def test_parse_never_raises(text):
    result = a.parseAuthorization(text)
    assert result is None or result["auth_scheme"] in ("basic", "digest")


@given(st.sampled_from(["Basic ", "Digest ", "digest "]), st.text())
def test_parse_never_raises_after_a_scheme(scheme, text):
    result = a.parseAuthorization(scheme + text)
    assert result is None or result["auth_scheme"] == scheme.strip().lower()


def test_digest_response_rfc_example():
    realm = RFC_PARAMS["realm"]
    assert a.checkResponse(RFC_PARAMS, RFC_PASSWORD, "GET", realm=realm)
    assert not a.checkResponse(RFC_PARAMS, "wrong", "GET", realm=realm)
    assert not a.checkResponse(RFC_PARAMS, RFC_PASSWORD, "POST", realm=realm)
    assert not a.checkResponse(RFC_PARAMS, RFC_PASSWORD, "GET", realm="elsewhere")
    assert not a.checkResponse(RFC_PARAMS, None, "GET", realm=realm)


def _digest(params, password, method="GET", body=b""):
    algorithm = params.get("algorithm", "MD5")
    ha1 = H(f"{params['username']}:{params['realm']}:{password}")
    if algorithm == "MD5-sess":
        ha1 = H(f"{ha1}:{params['nonce']}:{params['cnonce']}")
    if params.get("qop") == "auth-int":
        ha2 = H(f"{method}:{params['uri']}:{hashlib.md5(body).hexdigest()}")
    else:
        ha2 = H(f"{method}:{params['uri']}")
    if "qop" in params:
        data = f"{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}"
    else:
        data = f"{params['nonce']}:{ha2}"
    return H(f"{ha1}:{data}")


@pytest.mark.parametrize(
    "extra",
    [
        {"algorithm": "MD5-sess"},
        {"qop": "auth-int"},
        {"algorithm": "MD5-sess", "qop": "auth-int"},
        {"qop": None},  # RFC 2069: no qop, nc, cnonce
    ],
)
def test_digest_variants(extra):
    params = dict(RFC_PARAMS)
    params.update(extra)
    if params["qop"] is None:
        for key in ("qop", "nc", "cnonce"):
            del params[key]
    params["response"] = _digest(params, RFC_PASSWORD, body=b"entity")
    assert a.checkResponse(params, RFC_PASSWORD, realm=params["realm"], entity_body=b"entity")
    assert not a.checkResponse(params, "wrong", realm=params["realm"], entity_body=b"entity")


def test_digest_refuses_unsupported_algorithm_and_qop():
    for key, value in (("algorithm", "SHA1"), ("algorithm", "XYZ"), ("qop", "bogus")):
        params = dict(RFC_PARAMS, **{key: value})
        assert not a.checkResponse(params, RFC_PASSWORD, realm=params["realm"])


def test_md5_session_key():
    params = dict(RFC_PARAMS)
    key = a.md5SessionKey(params, RFC_PASSWORD)
    ha1 = H(f"Mufasa:testrealm@host.com:{RFC_PASSWORD}")
    assert key == f"{ha1}:{params['nonce']}:{params['cnonce']}"
    params["algorithm"] = "MD5-sess"
    params["response"] = _digest(params, RFC_PASSWORD)
    assert a.checkResponse(params, "ignored", realm=params["realm"], A1=key)


def test_basic_response():
    auth = {"auth_scheme": "basic", "username": "u", "password": "pw"}
    assert a.checkResponse(auth, "pw")
    assert not a.checkResponse(auth, "other")
    assert not a.checkResponse(auth, None)
    md5 = a.DIGEST_AUTH_ENCODERS[a.MD5]
    assert a.checkResponse(auth, hashlib.md5(b"pw").hexdigest(), encrypt=md5)
    salted = {"u": "pw!u"}
    assert a.checkResponse(auth, salted["u"], encrypt=lambda p, user: f"{p}!{user}")
    non_ascii = {"auth_scheme": "basic", "username": "u", "password": "pässwörd"}
    assert a.checkResponse(non_ascii, hashlib.md5("pässwörd".encode()).hexdigest(), encrypt=md5)
