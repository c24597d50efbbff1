"""HTTP Basic and Digest authentication primitives (RFC 7617, RFC 2617 / RFC 7616 with MD5).

`circuits.web.tools` (``check_auth``, ``basic_auth``, ``digest_auth``) builds on
these; they parse ``Authorization`` headers, build ``WWW-Authenticate``
challenges and check credentials. Nothing here touches a socket.

Differences from 3.2.5:

* The ``SHA1`` encoder works (3.2.5's raised); every encoder takes ``bytes``
  or ``str`` (str is encoded as UTF-8), so the default MD5 encoder can hash a
  Basic password.
* Secrets are compared with `hmac.compare_digest` (constant time).
* Nonces are unique, unpredictable and verifiable: ``calculateNonce``
  returns the issue time and a per-process serial number followed by an HMAC
  of them and the realm under a per-process random key; `validate_nonce`
  checks one (and its age). 3.2.5's nonce was the MD5 of ``"<time>:<realm>"``
  (the same for every client in a second) and was never checked.
* Replays are refused: `record_nonce_count` keeps the last nonce count
  (``nc``) accepted per nonce, see "Replay detection" below.
* A malformed header yields ``None`` from ``parseAuthorization`` instead of
  an exception.

Replay detection
----------------

RFC 7616 §3.4 (RFC 2617 §3.2.2): with ``qop`` the client sends ``nc``, the
number of requests it has sent with this nonce, so that the server "can
detect request replays by maintaining its own copy of this count". After a
request's digest matched the password and its nonce is ours and fresh,
``check_auth`` calls `record_nonce_count`, which accepts the request only if
its ``nc`` is greater than the last one accepted for the nonce (a request
without ``qop``, RFC 2069 style, has no count and is accepted once per
nonce). Only a correct digest gets that far, so a client without the
password cannot use up counts.

The table lives in this process and forgets a nonce when it expires or when
it holds `MAX_TRACKED_NONCES` (the one used first goes). A forgotten nonce
must not look unused, or its captured requests would be accepted again:
nonces carry a serial number, and any nonce not in the table whose serial is
at most the highest forgotten one is refused (the client gets a fresh nonce,
whose serial is higher). A lock guards the table: ``check_auth`` may be
called from several threads of a process.

Limitation: the table is per process. ``circuits.web --workers N`` runs each
worker in a fresh interpreter with its own nonce key, so a worker refuses the
nonces of the others (stale=true, the client retries with the worker it
reached) and a replay to another worker is refused too. Workers *forked*
(``Server(workers=N)``) from a process that had imported this module share
its key: each accepts the others' nonces but keeps its own counts, so a
captured request can be replayed once to each other worker while its nonce
lives.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import os
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from circuits.core import _clock

__all__ = [
    "AUTH",
    "AUTH_INT",
    "AUTH_RESPONSES",
    "AUTH_SCHEMES",
    "DIGEST_AUTH_ENCODERS",
    "MD5",
    "MD5_SESS",
    "SHA1",
    "SUPPORTED_ALGORITHM",
    "SUPPORTED_QOP",
    "basicAuth",
    "calculateNonce",
    "checkResponse",
    "digestAuth",
    "doAuth",
    "md5SessionKey",
    "parseAuthorization",
    "record_nonce_count",
    "validate_nonce",
]

MD5 = "MD5"
SHA1 = "SHA1"
MD5_SESS = "MD5-sess"
AUTH = "auth"
AUTH_INT = "auth-int"

SUPPORTED_ALGORITHM = (MD5, MD5_SESS)
SUPPORTED_QOP = (AUTH, AUTH_INT)

# How long a nonce we issued is accepted. RFC 7616 §3.3 leaves the lifetime to
# the server; five minutes is what Apache's mod_auth_digest uses
# (AuthDigestNonceLifetime 300). A client whose nonce expired gets a fresh
# challenge and retries once.
NONCE_LIFETIME_S = 300
# The key of the nonce MAC: random per process, so nonces cannot be forged
# (and a restart invalidates them, which costs clients one retry).
_NONCE_KEY = secrets.token_bytes(32)
# Nonce = 8 hex digits of the issue time (good until 2106) + 12 of the serial
# number (unique per nonce in this process, see "Replay detection") + 32 of MAC.
_NONCE_TIME_HEX = 8
_NONCE_SERIAL_HEX = 12
_NONCE_MAC_HEX = 32
_NONCE_HEX = _NONCE_TIME_HEX + _NONCE_SERIAL_HEX + _NONCE_MAC_HEX
# How many nonces the replay table follows at most. An entry is only made for
# a request whose digest matched a password, and a client keeps its nonce for
# NONCE_LIFETIME_S, so this is about 10 000 users active within five minutes;
# an entry costs about 250 bytes, so the table stays under 3 MB.
MAX_TRACKED_NONCES = 10_000
_HEX = re.compile(r"[0-9a-f]+")

Encoder = Callable[[bytes | str], str]


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _md5_hex(value: bytes | str) -> str:
    return hashlib.md5(_bytes(value)).hexdigest()


def _sha1_hex(value: bytes | str) -> str:
    return hashlib.sha1(_bytes(value)).hexdigest()


DIGEST_AUTH_ENCODERS: dict[str, Encoder] = {
    MD5: _md5_hex,
    MD5_SESS: _md5_hex,
    SHA1: _sha1_hex,
}


def _same(a: bytes | str | None, b: bytes | str | None) -> bool:
    """Constant-time equality; ``None`` never matches."""
    if a is None or b is None:
        return False
    return hmac.compare_digest(_bytes(a), _bytes(b))


def _nonce_mac(stamp: str, realm: str) -> str:
    mac = hmac.new(_NONCE_KEY, f"{stamp}:{realm}".encode(), hashlib.sha256)
    return mac.hexdigest()[:_NONCE_MAC_HEX]


def _nonce_parts(nonce: str) -> tuple[int, int] | None:
    """The issue time and serial number of a well-formed nonce (MAC unchecked)."""
    if len(nonce) != _NONCE_HEX or not _HEX.fullmatch(nonce):
        return None
    serial_end = _NONCE_TIME_HEX + _NONCE_SERIAL_HEX
    return int(nonce[:_NONCE_TIME_HEX], 16), int(nonce[_NONCE_TIME_HEX:serial_end], 16)


def calculateNonce(realm: str, algorithm: str = MD5) -> str:
    """A fresh nonce for a Digest challenge in ``realm``.

    Args:
        realm: the protection space.
        algorithm: a key of `DIGEST_AUTH_ENCODERS` (checked; the nonce itself
            is an HMAC-SHA256 whatever the algorithm).

    Returns:
        Hex digits: the issue time and a serial number, then a MAC binding
        them to ``realm``.

    Raises:
        ValueError: ``algorithm`` is unknown.
    """
    if algorithm not in DIGEST_AUTH_ENCODERS:
        raise ValueError(
            f"unknown digest algorithm {algorithm!r}, expected one of {list(DIGEST_AUTH_ENCODERS)}"
        )
    stamp = f"{int(_clock.now()) & 0xFFFFFFFF:08x}{_nonce_counts.next_serial():012x}"
    return stamp + _nonce_mac(stamp, realm)


def validate_nonce(nonce: str, realm: str, max_age_s: float = NONCE_LIFETIME_S) -> bool:
    """Whether ``nonce`` was issued by `calculateNonce` for ``realm`` within ``max_age_s``.

    Args:
        nonce: the nonce the client sent back.
        realm: the realm it must be bound to.
        max_age_s: the accepted age in seconds.

    Returns:
        True for a nonce of ours that has not expired.
    """
    parts = _nonce_parts(nonce)
    if parts is None:
        return False
    stamp, mac = nonce[:-_NONCE_MAC_HEX], nonce[-_NONCE_MAC_HEX:]
    if not hmac.compare_digest(mac, _nonce_mac(stamp, realm)):
        return False
    age = _clock.now() - parts[0]
    return -5.0 <= age <= max_age_s  # a little slack for a clock stepped back


# nc-value = 8LHEX (RFC 7616 §3.4; RFC 2617 §3.2.2 too); we also take upper case.
_NC = re.compile(r"[0-9a-fA-F]{8}")
# The count of a request without qop (RFC 2069 style): below every nc-value, so
# such a request is accepted once per nonce (it has no count to increase).
_NO_QOP_COUNT = -1
_UNUSED = -2


class _NonceCounts:
    """The last nonce count accepted per nonce (see "Replay detection")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._serials = itertools.count()
        # nonce -> (expiry time, last accepted count), oldest first use first
        self._table: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._forgotten_serial = -1  # the highest serial of a nonce dropped from the table

    def next_serial(self) -> int:
        with self._lock:
            return next(self._serials) & 0xFFFFFFFFFFFF

    def record(self, nonce: str, nc: str | None) -> bool:
        parts = _nonce_parts(nonce)
        if parts is None or (nc is not None and not _NC.fullmatch(nc)):
            return False
        stamp, serial = parts
        count = _NO_QOP_COUNT if nc is None else int(nc, 16)
        now = _clock.now()
        with self._lock:
            self._expire(now)
            expiry, last = self._table.get(nonce, (stamp + NONCE_LIFETIME_S, _UNUSED))
            if now > expiry:
                return False  # expired since validate_nonce looked (or it was not called)
            if last == _UNUSED and serial <= self._forgotten_serial:
                return False  # maybe dropped from the table: fail closed
            # RFC 7616 §3.4: a count seen before means a replayed request.
            if count <= last:
                return False
            self._table[nonce] = (expiry, count)
            if len(self._table) > MAX_TRACKED_NONCES:
                self._forget(self._table.popitem(last=False)[0])
            return True

    def _expire(self, now: float) -> None:
        # First use is roughly issue order, so expired entries are at the front;
        # one behind a younger entry waits for it (the cap bounds the table).
        while self._table:
            nonce, (expiry, _) = next(iter(self._table.items()))
            if now <= expiry:
                break
            del self._table[nonce]
            self._forget(nonce)

    def _forget(self, nonce: str) -> None:
        parts = _nonce_parts(nonce)
        if parts is not None:
            self._forgotten_serial = max(self._forgotten_serial, parts[1])

    def _after_fork(self) -> None:
        # A thread of the parent may have held the lock when it forked.
        self._lock = threading.Lock()


_nonce_counts = _NonceCounts()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_nonce_counts._after_fork)


def record_nonce_count(nonce: str, nc: str | None) -> bool:
    """Accept one use of ``nonce`` with the nonce count ``nc``, unless it is a replay.

    Call it only after the request's digest matched the user's password and
    `validate_nonce` accepted the nonce, so that only a client that knows the
    password changes the count.

    Args:
        nonce: the nonce of the request (one of `calculateNonce`).
        nc: its ``nc`` parameter (8 hex digits), or ``None`` for a request
            without ``qop`` (accepted once per nonce).

    Returns:
        True when ``nc`` is greater than the last count accepted for
        ``nonce`` (which it becomes). False for a count seen before, a
        malformed one, an expired nonce, or a nonce no longer followed
        (expired or dropped when the table was full).
    """
    return _nonce_counts.record(nonce, nc)


def _check_realm(realm: str) -> None:
    # The realm goes inside a quoted-string; 3.2.5 asserted the same.
    if '"' in realm or "\\" in realm:
        raise AssertionError(f"realm {realm!r} must not contain '\"' or '\\'")


def digestAuth(realm: str, algorithm: str = MD5, nonce: str | None = None, qop: str = AUTH) -> str:
    """The ``WWW-Authenticate`` value of a Digest challenge (RFC 2617 §3.2.1).

    Args:
        realm: the protection space.
        algorithm: ``MD5`` or ``MD5-sess``.
        nonce: the nonce; a fresh `calculateNonce` when ``None``.
        qop: ``auth`` or ``auth-int``.

    Returns:
        ``Digest realm="R", nonce="N", algorithm="MD5", qop="auth"``.

    Raises:
        ValueError: an unsupported algorithm or qop.
        AssertionError: the realm contains ``"`` or ``\\``.
    """
    if algorithm not in SUPPORTED_ALGORITHM:
        raise ValueError(f"algorithm {algorithm!r} is not one of {SUPPORTED_ALGORITHM!r}")
    if qop not in SUPPORTED_QOP:
        raise ValueError(f"qop {qop!r} is not one of {SUPPORTED_QOP!r}")
    _check_realm(realm)
    if nonce is None:
        nonce = calculateNonce(realm, algorithm)
    return f'Digest realm="{realm}", nonce="{nonce}", algorithm="{algorithm}", qop="{qop}"'


def basicAuth(realm: str) -> str:
    """The ``WWW-Authenticate`` value of a Basic challenge: ``Basic realm="R"``.

    Raises:
        AssertionError: the realm contains ``"`` or ``\\``.
    """
    _check_realm(realm)
    return f'Basic realm="{realm}"'


def doAuth(realm: str) -> str:
    """A Digest challenge and a Basic challenge for ``realm``, separated by a space."""
    return digestAuth(realm) + " " + basicAuth(realm)


# -- parsing Authorization ---------------------------------------------------------

# auth-param = token BWS "=" BWS ( token / quoted-string )   (RFC 9110 §11.2)
_PARAM = re.compile(
    r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|$)', re.S
)
_DIGEST_REQUIRED = ("username", "realm", "nonce", "uri", "response")


def _parse_params(text: str) -> dict[str, str] | None:
    params: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _PARAM.match(text, pos)
        if m is None or m.end() == pos:
            return None
        key, value = m.group(1).lower(), m.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.S)
        params[key] = value
        pos = m.end()
    return params


def _parseDigestAuthorization(auth_params: str) -> dict[str, str] | None:
    params = _parse_params(auth_params)
    if params is None or not all(key in params for key in _DIGEST_REQUIRED):
        return None
    # qop requires cnonce and nc, and they require it (RFC 2617 §3.2.2)
    if ("qop" in params) != ("cnonce" in params) or ("qop" in params) != ("nc" in params):
        return None
    return params


def _parseBasicAuthorization(auth_params: str) -> dict[str, str] | None:
    try:
        decoded = base64.b64decode(auth_params.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = decoded.decode("utf-8")  # RFC 7617 §2.1: UTF-8 is what clients send
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")
    username, sep, password = text.partition(":")
    if not sep:
        return None
    return {"username": username, "password": password}


AUTH_SCHEMES: dict[str, Callable[[str], dict[str, str] | None]] = {
    "basic": _parseBasicAuthorization,
    "digest": _parseDigestAuthorization,
}


def parseAuthorization(credentials: str) -> dict[str, str] | None:
    """Parse an ``Authorization`` header value.

    Args:
        credentials: e.g. ``Basic dXNlcjpwYXNz`` or ``Digest username="u", ...``.

    Returns:
        The parameters plus ``auth_scheme`` (lower-case); Basic gives
        ``username`` and ``password``. ``None`` when the scheme is unknown or
        the parameters are malformed or incomplete.
    """
    scheme, sep, auth_params = str(credentials).strip().partition(" ")
    if not sep:
        return None
    scheme = scheme.lower()
    parser = AUTH_SCHEMES.get(scheme)
    if parser is None:
        return None
    params = parser(auth_params)
    if params is None or "auth_scheme" in params:
        return None
    params["auth_scheme"] = scheme
    return params


# -- checking responses ------------------------------------------------------------


def _A1(params: Mapping[str, str], password: str) -> str:
    algorithm = params.get("algorithm", MD5)
    H = DIGEST_AUTH_ENCODERS[algorithm]
    a1 = f"{params['username']}:{params['realm']}:{password}"
    if algorithm == MD5_SESS:
        # RFC 2617 §3.2.2.2: A1 = H(user:realm:passwd) ":" nonce ":" cnonce
        return f"{H(a1)}:{params['nonce']}:{params['cnonce']}"
    return a1


def _A2(params: Mapping[str, str], method: str, kwargs: Mapping[str, Any]) -> str:
    # RFC 2617 §3.2.2.3: A2 = method ":" uri [":" H(entity-body)] for auth-int
    qop = params.get("qop", AUTH)
    if qop == AUTH_INT:
        H = DIGEST_AUTH_ENCODERS[params.get("algorithm", MD5)]
        return f"{method}:{params['uri']}:{H(kwargs.get('entity_body', b''))}"
    return f"{method}:{params['uri']}"


def md5SessionKey(params: Mapping[str, str], password: str) -> str:
    """A1 for ``MD5-sess``: ``H(username:realm:password):nonce:cnonce``.

    Args:
        params: parsed Digest parameters with ``username``, ``realm``, ``nonce``, ``cnonce``.
        password: the user's password.
    """
    keys = ("username", "realm", "nonce", "cnonce")
    session = {key: params[key] for key in keys}
    session["algorithm"] = MD5_SESS
    return _A1(session, password)


def _computeDigestResponse(
    auth_map: Mapping[str, str], password: str, method: str = "GET", A1: str | None = None,
    **kwargs: Any,
) -> str:  # fmt: skip
    algorithm = auth_map.get("algorithm", MD5)
    H = DIGEST_AUTH_ENCODERS[algorithm]
    qop = auth_map.get("qop")
    H_A2 = H(_A2(auth_map, method, kwargs))
    H_A1 = H(A1) if algorithm == MD5_SESS and A1 is not None else H(_A1(auth_map, password))
    # RFC 2617 §3.2.2.1: request-digest = KD(H(A1), nonce:nc:cnonce:qop:H(A2)),
    # or KD(H(A1), nonce:H(A2)) without qop (RFC 2069 compatibility)
    if qop in SUPPORTED_QOP:
        data = f"{auth_map['nonce']}:{auth_map['nc']}:{auth_map['cnonce']}:{qop}:{H_A2}"
    else:
        data = f"{auth_map['nonce']}:{H_A2}"
    return H(f"{H_A1}:{data}")


def _checkDigestResponse(
    auth_map: Mapping[str, str], password: str | None, method: str = "GET",
    A1: str | None = None, **kwargs: Any,
) -> bool:  # fmt: skip
    if password is None or auth_map.get("realm") != kwargs.get("realm"):
        return False
    if auth_map.get("algorithm", MD5) not in SUPPORTED_ALGORITHM:
        return False
    if "qop" in auth_map and auth_map["qop"] not in SUPPORTED_QOP:
        return False
    kwargs.pop("encrypt", None)
    kwargs.pop("realm", None)
    expected = _computeDigestResponse(auth_map, password, method, A1, **kwargs)
    return _same(expected, auth_map.get("response"))


def _checkBasicResponse(
    auth_map: Mapping[str, str], password: str | None, method: str = "GET",
    encrypt: Callable[..., Any] | None = None, **kwargs: Any,
) -> bool:  # fmt: skip
    if password is None:
        return False
    if encrypt is None:
        return _same(auth_map["password"], password)
    try:
        candidate = encrypt(auth_map["password"], auth_map["username"])
    except TypeError:
        candidate = encrypt(auth_map["password"])
    return _same(candidate, password)


AUTH_RESPONSES: dict[str, Callable[..., bool]] = {
    "basic": _checkBasicResponse,
    "digest": _checkDigestResponse,
}


def checkResponse(
    auth_map: Mapping[str, str],
    password: str | None,
    method: str = "GET",
    encrypt: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> bool:
    """Whether the credentials in ``auth_map`` match ``password``.

    Digest recomputes the RFC 2617 response (qop ``auth``/``auth-int``, MD5 and
    MD5-sess) and requires ``auth_map['realm'] == kwargs['realm']``; Basic
    compares ``encrypt(password, username)`` (or ``encrypt(password)``) with
    the stored value, or the plain password without ``encrypt``.

    Args:
        auth_map: what `parseAuthorization` returned.
        password: the stored password (Digest: plain text); ``None`` never matches.
        method: the request method (Digest).
        encrypt: Basic only: turns the sent password into the stored form.
        **kwargs: ``realm`` (Digest), ``entity_body`` (``auth-int``), ``A1``.

    Returns:
        True when they match.
    """
    checker = AUTH_RESPONSES[auth_map["auth_scheme"]]
    return checker(auth_map, password, method=method, encrypt=encrypt, **kwargs)
