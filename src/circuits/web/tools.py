"""Request and response tools: serving files, caching headers, conditional requests, auth, gzip.

Functions take the ``(request, response)`` pair of a ``request`` handler and
either change the response (returning ``None`` or the response) or return an
error event (``httperror``/``redirect``/``unauthorized``) for the handler to
return as its value (web.md §15).

Files are never read whole: ``serve_file`` hands the open file to the
response with its ``Content-Length`` (the HTTP component streams it, or sends
it with ``sendfile``), and a ``Range`` request reads only the bytes asked for.

Differences from 3.2.5:

* ``serve_file``: range stops are clamped to the file (``get_ranges``); a
  multi-range answer carries its exact ``Content-Length``; the
  ``Content-Disposition`` file name is escaped (RFC 6266, with ``filename*``
  for non-ASCII names); a refused range set (``RangeUnsatisfiable``) gets a
  ``Content-Range: bytes */len`` too; a HEAD request does not open a body.
* ``validate_etags(autotags=True)`` tags list bodies with the MD5 of the
  joined body (3.2.5 crashed); streamed bodies get no automatic tag.
  ``If-None-Match`` uses the weak comparison (RFC 9110 §13.1.2).
* ``validate_since`` compares dates, not strings: ``If-Modified-Since`` at or
  after ``Last-Modified`` gives 304 and ``If-Unmodified-Since`` before it 412
  (equal strings behave as in 3.2.5); an unparsable date is ignored.
* ``check_auth``: the default encoder hashes ``str`` passwords (UTF-8), so
  Basic auth works with it; Digest nonces must be ones we issued and recent,
  and a replayed Digest request (a nonce count used before) is refused.
  ``basic_auth``/``digest_auth`` return the 400 of a malformed
  ``Authorization`` instead of treating it as authorised.
* ``gzip`` leaves partial (206) and already encoded responses alone, and a
  streamed body is compressed chunk by chunk.
* ``ReverseProxy`` believes the forwarding headers only from trusted peers
  (loopback by default) and takes the address its proxy saw.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import mimetypes
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote

from circuits.core.components import BaseComponent as BaseComponent
from circuits.core.handlers import handler as handler

from . import _httpauth
from .errors import (
    httperror as httperror,
    notfound as notfound,
    redirect as redirect,
    unauthorized as unauthorized,
)
from .exceptions import RangeUnsatisfiable
from .utils import compress as compress, get_ranges as get_ranges

if TYPE_CHECKING:
    from .headers import AcceptElement
    from .wrappers import Request, Response
from .wrappers import Host as Host, formatdate

__all__ = [
    "BaseComponent",
    "Host",
    "ReverseProxy",
    "basic_auth",
    "check_auth",
    "compress",
    "digest_auth",
    "expires",
    "get_ranges",
    "gzip",
    "handler",
    "httperror",
    "notfound",
    "redirect",
    "serve_download",
    "serve_file",
    "unauthorized",
    "validate_etags",
    "validate_since",
]

log = logging.getLogger(__name__)

mimetypes.init()
mimetypes.add_type("image/x-dwg", ".dwg")
mimetypes.add_type("image/x-icon", ".ico")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/xhtml+xml", ".xhtml")

# A range up to this size is read into memory and sent with its length; a
# larger one is streamed in _RANGE_CHUNK_BYTES reads.
_SMALL_RANGE_BYTES = 64 * 1024
_RANGE_CHUNK_BYTES = 64 * 1024
_ONE_YEAR_S = 365 * 24 * 3600
# Characters a quoted-string file name cannot carry as is: controls (they would
# corrupt the header), and nothing outside ASCII (that goes in filename*).
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]|[^\x00-\x7f]")


# -- caching -------------------------------------------------------------------------


def expires(
    request: Request, response: Response, secs: float | timedelta = 0, force: bool = False
) -> None:
    """Set ``Expires`` (and for ``secs == 0`` the no-cache headers) on the response.

    Args:
        request: the request (its protocol decides ``Cache-Control``).
        response: the response.
        secs: seconds (or a ``timedelta``) from the response time; 0 means "do not cache".
        force: set the headers even when ``Etag``, ``Last-Modified``, ``Age`` or
            ``Expires`` is already there, and overwrite existing ones.
    """
    headers = response.headers
    if not force and any(key in headers for key in ("Etag", "Last-Modified", "Age", "Expires")):
        return
    if isinstance(secs, timedelta):
        secs = secs.total_seconds()
    if secs == 0:
        if force or "Pragma" not in headers:
            headers["Pragma"] = "no-cache"
        if tuple(request.protocol) >= (1, 1) and (force or "Cache-Control" not in headers):
            headers["Cache-Control"] = "no-cache, must-revalidate"
        expiry = formatdate(response.time - _ONE_YEAR_S)
    else:
        expiry = formatdate(response.time + secs)
    if force or "Expires" not in headers:
        headers["Expires"] = expiry


# -- serving files -------------------------------------------------------------------


def _content_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "text/plain"


def _disposition(disposition: str, name: str) -> str:
    # RFC 6266 §4.1/§4.3: a quoted-string ASCII fallback, plus filename* (RFC
    # 8187) when the name is not plain ASCII.
    fallback = _UNSAFE_NAME.sub("_", name).replace("\\", "\\\\").replace('"', '\\"')
    value = f'{disposition}; filename="{fallback}"'
    if _UNSAFE_NAME.search(name):
        value += f"; filename*=UTF-8''{quote(name, safe='', errors='surrogateescape')}"
    return value


def _open_regular(path: str) -> tuple[IO[bytes], os.stat_result] | None:
    """Open ``path`` for reading if it is a regular file; ``None`` otherwise.

    O_NONBLOCK keeps a FIFO from blocking the loop in ``open``; the file type
    is then checked on the open descriptor, so it cannot be swapped in between.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def _chunks(f: IO[bytes], start: int, stop: int) -> Iterator[bytes]:
    """Yield the bytes ``start:stop`` of ``f`` in bounded reads (fewer if it is shorter)."""
    f.seek(start)
    left = stop - start
    while left > 0:
        chunk = f.read(min(left, _RANGE_CHUNK_BYTES))
        if not chunk:
            break
        left -= len(chunk)
        yield chunk


def _read_range(f: IO[bytes], start: int, stop: int) -> Iterator[bytes]:
    """Yield the bytes ``start:stop`` of ``f`` in bounded reads, then close it."""
    try:
        yield from _chunks(f, start, stop)
    finally:
        f.close()


def _multipart(
    f: IO[bytes], ranges: list[tuple[int, int]], ctype: str, length: int, boundary: str
) -> tuple[int, Iterator[bytes]]:
    """The ``multipart/byteranges`` body (RFC 9110 §14.6) and its exact length."""
    heads = [
        (
            f"--{boundary}\r\nContent-type: {ctype}\r\n"
            f"Content-range: bytes {start}-{stop - 1}/{length}\r\n\r\n"
        ).encode("latin-1")
        for start, stop in ranges
    ]
    tail = f"--{boundary}--\r\n".encode("latin-1")
    total = 2 + sum(
        len(h) + (stop - start) + 2 for h, (start, stop) in zip(heads, ranges, strict=True)
    )
    total += len(tail)

    def body() -> Iterator[bytes]:
        try:
            yield b"\r\n"
            for head, (start, stop) in zip(heads, ranges, strict=True):
                yield head
                yield from _chunks(f, start, stop)
                yield b"\r\n"
            yield tail
        finally:
            f.close()

    return total, body()


def serve_file(
    request: Request,
    response: Response,
    path: str,
    type: str | None = None,
    disposition: str | None = None,
    name: str | None = None,
) -> Any:
    """Answer with the file at ``path``, honouring conditional and ``Range`` requests.

    Args:
        request: the request.
        response: the response to fill in.
        path: an absolute path.
        type: the ``Content-Type``; guessed from the extension (``text/plain``
            when unknown) when ``None``.
        disposition: e.g. ``attachment``; adds ``Content-Disposition``.
        name: the file name for ``Content-Disposition``; the basename by default.

    Returns:
        The response; or ``notfound`` (no such regular file), a 304 ``redirect``
        or 412 ``httperror`` (conditional request), a 416 ``httperror``
        (no satisfiable range).

    Raises:
        ValueError: ``path`` is not absolute.
        RangeUnsatisfiable: several ranges of very unequal lengths (answered
            with 416 by the HTTP component).
    """
    if not os.path.isabs(path):
        raise ValueError(f"serve_file needs an absolute path, not {path!r}")
    opened = _open_regular(path)
    if opened is None:
        return notfound(request, response)
    f, st = opened
    try:
        return _serve_open(request, response, path, f, st, type, disposition, name)
    except BaseException:
        f.close()
        raise


def _serve_open(
    request: Request, response: Response, path: str, f: IO[bytes], st: os.stat_result,
    type: str | None, disposition: str | None, name: str | None,
) -> Any:  # fmt: skip
    headers = response.headers
    headers["Last-Modified"] = formatdate(st.st_mtime)
    error = validate_since(request, response)
    if error is not None:
        f.close()
        return error
    ctype = type or _content_type(path)
    headers["Content-Type"] = ctype
    if disposition is not None:
        headers["Content-Disposition"] = _disposition(
            disposition, os.path.basename(path) if name is None else name
        )
    length = st.st_size
    if tuple(request.protocol) >= (1, 1):
        headers["Accept-Ranges"] = "bytes"
        try:
            ranges = get_ranges(request.headers.get("Range"), length)
        except RangeUnsatisfiable:
            headers["Content-Range"] = f"bytes */{length}"
            raise
        if ranges == []:
            headers["Content-Range"] = f"bytes */{length}"
            f.close()
            return httperror(request, response, 416)
        if ranges:
            response.status = 206
            if len(ranges) == 1:
                start, stop = ranges[0]
                headers["Content-Range"] = f"bytes {start}-{stop - 1}/{length}"
                headers["Content-Length"] = str(stop - start)
                if request.method == "HEAD":
                    f.close()
                    response.body = iter(())
                elif stop - start <= _SMALL_RANGE_BYTES:
                    with f:
                        f.seek(start)
                        response.body = f.read(stop - start)
                else:
                    response.body = _read_range(f, start, stop)
                    response.stream = True
                return response
            boundary = secrets.token_hex(16)
            headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
            total, body = _multipart(f, ranges, ctype, length, boundary)
            headers["Content-Length"] = str(total)
            if request.method == "HEAD":
                f.close()
                response.body = iter(())
            else:
                response.body = body
                response.stream = True
            return response
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        # Nothing is sent; a non-list body keeps the Content-Length above.
        f.close()
        response.body = iter(())
    else:
        response.body = f  # streamed (or sent with sendfile) by the HTTP component
    return response


def serve_download(request: Request, response: Response, path: str, name: str | None = None) -> Any:
    """`serve_file` as an ``application/x-download`` attachment named ``name``."""
    return serve_file(request, response, path, "application/x-download", "attachment", name)


# -- conditional requests ------------------------------------------------------------


def _etag_list(request: Request, header: str) -> list[str]:
    value = request.headers.get(header)
    if not value:
        return []
    return [tag.strip() for tag in str(value).split(",") if tag.strip()]


def _weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _joined_body(response: Response) -> bytes | None:
    body = response.body
    if isinstance(body, bytes):
        return body
    if not isinstance(body, list):
        return None  # a streamed body: tagging it would mean reading it all
    return b"".join(
        item.encode(response.encoding) if isinstance(item, str) else bytes(item)
        for item in body
        if item is not None
    )


def validate_etags(request: Request, response: Response, autotags: bool = False) -> Any:
    """Answer ``If-Match``/``If-None-Match`` against the response's ``ETag`` (once per response).

    Args:
        request: the request.
        response: the response; ``response.ETag`` records that this ran.
        autotags: give a 200 response without ``ETag`` one: the quoted MD5 of its body.

    Returns:
        ``None``, a 412 ``httperror``, or a 304 ``redirect`` (GET/HEAD matching ``If-None-Match``).
    """
    if hasattr(response, "ETag"):
        return None
    status = int(response.status)
    etag = response.headers.get("ETag")
    if not etag and autotags and status == 200:
        body = _joined_body(response)
        if body is not None:
            etag = f'"{hashlib.md5(body).hexdigest()}"'
            response.headers["ETag"] = etag
    response.ETag = etag  # type: ignore[attr-defined]  # 3.2.5's marker: validated once
    if 200 <= status <= 299:
        conditions = _etag_list(request, "If-Match")
        # RFC 9110 §13.1.1: If-Match uses the strong comparison
        if conditions and not (conditions == ["*"] or (etag and etag in conditions)):
            return httperror(request, response, 412)
        conditions = _etag_list(request, "If-None-Match")
        if conditions == ["*"] or (etag and _weak(etag) in map(_weak, conditions)):
            if request.method in ("GET", "HEAD"):
                return redirect(request, response, [], 304)
            return httperror(request, response, 412)
    return None


def _date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _not_after(a: str, b: str) -> bool | None:
    """Whether date ``a`` <= date ``b`` (equal strings: yes); ``None`` when unparsable."""
    if a == b:
        return True
    ta, tb = _date(a), _date(b)
    if ta is None or tb is None:
        return None
    return ta <= tb


def validate_since(request: Request, response: Response) -> Any:
    """Answer ``If-Unmodified-Since``/``If-Modified-Since`` against ``Last-Modified``.

    Returns:
        ``None``; a 412 ``httperror`` (modified since ``If-Unmodified-Since``,
        or a non-GET/HEAD request not modified since ``If-Modified-Since``);
        or a 304 ``redirect`` (GET/HEAD not modified since ``If-Modified-Since``).
    """
    lastmod = response.headers.get("Last-Modified")
    if not lastmod:
        return None
    status = int(response.status)
    since = request.headers.get("If-Unmodified-Since")
    modified = since and _not_after(lastmod, str(since)) is False
    if modified and (200 <= status <= 299 or status == 412):
        return httperror(request, response, 412)
    since = request.headers.get("If-Modified-Since")
    unmodified = since and _not_after(lastmod, str(since))
    if unmodified and (200 <= status <= 299 or status == 304):
        if request.method in ("GET", "HEAD"):
            return redirect(request, response, [], 304)
        return httperror(request, response, 412)
    return None


# -- authentication ------------------------------------------------------------------


def _password_for(users: Any, username: str) -> Any:
    if not callable(users):
        if not isinstance(users, dict):
            raise ValueError(f"users must be a dict or a callable, not {users!r}")
        return users.get(username)
    try:
        table = users()
    except TypeError:
        return users(username)  # a lookup function: username -> password
    if not isinstance(table, dict):
        raise ValueError(f"users() must return a dict, not {table!r}")
    return table.get(username)


def check_auth(
    request: Request,
    response: Response,
    realm: str,
    users: dict[str, str] | Callable[..., Any],
    encrypt: Callable[..., Any] | None = None,
) -> Any:
    """Check the request's ``Authorization`` against ``users``.

    Args:
        request: the request; ``request.login`` becomes the user name or ``False``.
        response: the response (for the 400 error).
        realm: the realm a Digest response must name.
        users: ``{user: password}``, a callable returning that dict, or a
            callable ``username -> password``. Basic: the stored form is
            ``encrypt(password)``; Digest: plain text.
        encrypt: Basic only; default MD5 hex digest of the UTF-8 password.

    Returns:
        True when authenticated, False when not (or no ``Authorization``), or
        a 400 ``httperror`` when the header cannot be parsed.

    Raises:
        ValueError: ``users`` is neither a dict nor gives one.
    """
    return _authenticate(request, response, realm, users, encrypt)[0]


def _authenticate(
    request: Request, response: Response, realm: str, users: Any, encrypt: Callable[..., Any] | None
) -> tuple[Any, bool]:
    """`check_auth`'s result, and whether it failed only because of the Digest nonce.

    (It expired, we did not issue it, or the request is a replay.)
    """
    credentials = request.headers.get("Authorization")
    if not credentials:
        return False, False
    auth_map = _httpauth.parseAuthorization(str(credentials))
    if auth_map is None:
        return httperror(request, response, 400), False
    if encrypt is None:
        encrypt = _httpauth.DIGEST_AUTH_ENCODERS[_httpauth.MD5]
    username = auth_map["username"]
    password = _password_for(users, username)
    ok = _httpauth.checkResponse(
        auth_map, password, method=request.method, encrypt=encrypt, realm=realm
    )
    stale = False
    if ok and auth_map["auth_scheme"] == "digest":
        # The right password with a nonce we did not issue (or issued too
        # long ago), or a replay (RFC 7616 §3.4: an nc not above the last one
        # accepted for this nonce; a request without qop has no nc and is
        # accepted once per nonce): refuse, and say "stale". RFC 7616 §3.3
        # sets stale=true for "a valid digest for that nonce" whose nonce is
        # not good any more, which is the case here. The client retries with
        # the fresh nonce without asking its user; a replaying attacker,
        # holding a captured digest and not the password, learns nothing
        # from the flag and cannot answer the fresh nonce. Without it, a
        # client whose requests on one nonce arrive out of order (several
        # connections) would ask its user for the password again.
        # The count is recorded only here, after the digest matched, so a
        # client without the password cannot use up counts.
        nonce = auth_map["nonce"]
        ok = _httpauth.validate_nonce(nonce, realm) and _httpauth.record_nonce_count(
            nonce, auth_map["nc"] if "qop" in auth_map else None
        )
        stale = not ok
    request.login = username if ok else False
    return bool(ok), stale


def basic_auth(
    request: Request,
    response: Response,
    realm: str,
    users: dict[str, str] | Callable[..., Any],
    encrypt: Callable[..., Any] | None = None,
) -> Any:
    """``None`` when the request is authenticated, else a 401 with a Basic challenge.

    A malformed ``Authorization`` header gives its 400 ``httperror``.
    """
    result = check_auth(request, response, realm, users, encrypt)
    if result is True:
        return None
    if isinstance(result, httperror):
        return result
    response.headers["WWW-Authenticate"] = _httpauth.basicAuth(realm)
    return unauthorized(request, response)


def digest_auth(
    request: Request, response: Response, realm: str, users: dict[str, str] | Callable[..., Any]
) -> Any:
    """``None`` when the request is authenticated, else a 401 with a Digest challenge.

    Passwords in ``users`` are plain text. A malformed ``Authorization``
    header gives its 400 ``httperror``.
    """
    result, stale = _authenticate(request, response, realm, users, None)
    if result is True:
        return None
    if isinstance(result, httperror):
        return result
    challenge = _httpauth.digestAuth(realm)
    # RFC 7616 §3.3: stale=true - the credentials were right, only the nonce
    # was not; a client retries with the new nonce instead of asking the user.
    response.headers["WWW-Authenticate"] = challenge + (", stale=true" if stale else "")
    return unauthorized(request, response)


# -- compression ---------------------------------------------------------------------


def gzip(
    response: Response,
    level: int = 4,
    mime_types: tuple[str, ...] | list[str] = ("text/html", "text/plain"),
) -> Any:
    """Gzip the response body when the client accepts it and the type is in ``mime_types``.

    Adds ``Vary: Accept-Encoding`` and ``Content-Encoding: gzip`` and drops
    ``Content-Length`` (the compressed body is chunked, or ends with the
    connection). A streamed body is compressed as it is sent.

    Args:
        response: the response, before it is written (a ``response`` handler
            with priority above 0, or the request handler itself).
        level: the zlib level.
        mime_types: the ``Content-Type`` values (without parameters) to compress.

    Returns:
        The response, or a 406 ``httperror`` when ``Accept-Encoding`` allows
        neither identity nor gzip.
    """
    request = response.request
    body = response.body
    if not body or getattr(request, "cached", False):
        return response
    headers = response.headers
    if "Content-Encoding" in headers or "Content-Range" in headers or int(response.status) == 206:
        return response  # already encoded, or a byte range of the unencoded file
    # Accept-* fields parse into AcceptElements (with a qvalue)
    acceptable = cast("list[AcceptElement]", request.headers.elements("Accept-Encoding"))
    if not acceptable:
        return response
    for coding in acceptable:
        if coding.value == "identity" and coding.qvalue != 0:
            return response
        if coding.value in ("gzip", "x-gzip"):
            if coding.qvalue == 0:
                return response
            # no Content-Type yet means prepare()'s default, text/html
            ctype = str(headers.get("Content-Type", "text/html")).split(";")[0].strip()
            if ctype in mime_types:
                vary = [v.strip() for v in str(headers.get("Vary", "")).split(",") if v.strip()]
                if "accept-encoding" not in (v.lower() for v in vary):
                    vary.append("Accept-Encoding")
                headers["Vary"] = ", ".join(vary)
                headers["Content-Encoding"] = "gzip"
                headers.pop("Content-Length", None)
                response.body = compress(body, level)
            return response
    return httperror(request, response, 406, description="identity, gzip")


# -- reverse proxies -----------------------------------------------------------------


_CLASS_DEFAULT: Any = object()  # "keep the class attribute"


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


class ReverseProxy(BaseComponent):
    """Take the client address from a reverse proxy's headers (``req.remote``).

    Args:
        headers: the headers to look at, first present wins; default
            ``('X-Real-IP', 'X-Forwarded-For')``.
        trusted: addresses of the proxies whose headers are believed; default
            loopback only. ``None`` believes any peer (3.2.5's behaviour: any
            client can then claim any address).

    ``X-Forwarded-For`` contributes its last entry: the address the trusted
    proxy itself saw. Values that are not IP addresses are ignored.
    """

    headers: tuple[str, ...] = ("X-Real-IP", "X-Forwarded-For")
    trusted: tuple[str, ...] | None = ("127.0.0.1", "::1")

    def init(
        self, headers: Iterable[str] | None = None, trusted: Any = _CLASS_DEFAULT, **kwargs: Any
    ) -> None:
        if headers is not None:
            self.headers = tuple(headers)
        if trusted is not _CLASS_DEFAULT:
            self.trusted = None if trusted is None else tuple(str(t) for t in trusted)

    @handler("request", priority=1)
    def _on_request(self, req: Any, *args: Any) -> None:
        if self.trusted is not None and _address(str(req.remote.ip or "")) not in {
            _address(t) for t in self.trusted
        }:
            return
        for name in self.headers:
            value = req.headers.get(name)
            if not value:
                continue
            ip = _address(str(value).split(",")[-1])
            if ip is not None:
                req.remote = Host(ip, "", ip)
            return
