"""URLs as byte fields with normalising operations (``sanitize``, ``canonical``, ``equiv``).

``parse_url(url)`` splits with ``urllib.parse``; every field is kept as bytes
in the parse encoding. Default ports (80, 443) are dropped for any scheme.
Unlike 3.2.5, ``str(url)`` is text (3.2.5 returned bytes, so ``str()`` raised).
"""

from __future__ import annotations

import codecs
from urllib.parse import quote_from_bytes, unquote_to_bytes, urljoin, urlparse

__all__ = ["ASCII", "IDNA", "PORTS", "URL", "UTF8", "W1252", "parse_url"]

IDNA = codecs.lookup("idna")
UTF8 = codecs.lookup("utf-8")
ASCII = codecs.lookup("ascii")
W1252 = codecs.lookup("windows-1252")

PORTS = {"http": 80, "https": 443}
_DEFAULT_PORTS = {str(port).encode() for port in PORTS.values()}
# RFC 3986 §3.3 pchar minus unreserved: kept as is by escape().
_PATH_SAFE = b"/!$&'()*+,;=:@"


def _join_nonempty(value: bytes, sep: bytes) -> bytes:
    return sep.join(part for part in value.split(sep) if part)


class URL:
    """A URL split into bytes fields.

    Args:
        scheme: e.g. ``b'http'``.
        host: the host (with userinfo, if any).
        port: the port digits, or ``None``.
        path: the path; empty becomes ``b'/'``.
        params: ``;``-separated path parameters.
        query: ``&``-separated query.
        fragment: the fragment.
        encoding: the encoding of the fields.
    """

    def __init__(
        self,
        scheme: bytes,
        host: bytes,
        port: bytes | None,
        path: bytes,
        params: bytes = b"",
        query: bytes = b"",
        fragment: bytes = b"",
        encoding: str = "utf-8",
    ) -> None:
        self._scheme = scheme.lower()
        self._host = host
        self._port = None if port in _DEFAULT_PORTS else port
        self._path = path or b"/"
        self._params = _join_nonempty(params, b";")
        self._query = _join_nonempty(query.lstrip(b"?"), b"&")
        self._fragment = fragment
        self._encoding = encoding

    @classmethod
    def parse(cls, url: str | bytes, encoding: str = "utf-8") -> URL:
        """Parse ``url`` (str is encoded with ``encoding``).

        Raises:
            ValueError: the port is not a number.
        """
        raw = url.encode(encoding) if isinstance(url, str) else bytes(url)
        # urlparse refuses non-ASCII bytes; latin-1 maps each byte to one code point and back
        text = urlparse(raw.decode("latin-1"))
        scheme, netloc, path, params, query, fragment = (field.encode("latin-1") for field in text)
        userinfo, at, hostport = netloc.rpartition(b"@")
        host, port = hostport, None
        # a port follows the last ":" unless that ":" is inside an IPv6 literal
        head, colon, tail = hostport.rpartition(b":")
        if colon and b"]" not in tail:
            host, port = head, tail or None
            if port is not None and not port.isdigit():
                raise ValueError(f"URL {url!r} has a non-numeric port {port!r}")
        host = userinfo + at + host
        return cls(
            scheme,
            host,
            port,
            path,
            params,
            query,
            fragment,
            encoding,
        )

    def _copy(self) -> URL:
        return URL(*self._fields(), self._encoding)

    def _fields(self) -> tuple[bytes, bytes, bytes | None, bytes, bytes, bytes, bytes]:
        """The constructor's arguments bar ``encoding``, in its order."""
        return (
            self._scheme,
            self._host,
            self._port,
            self._path,
            self._params,
            self._query,
            self._fragment,
        )

    def canonical(self) -> URL:
        """Sort the query arguments and the parameters; returns ``self``."""
        self._query = b"&".join(sorted(self._query.split(b"&"))) if self._query else b""
        self._params = b";".join(sorted(self._params.split(b";"))) if self._params else b""
        return self

    def defrag(self) -> URL:
        """Drop the fragment; returns ``self``."""
        self._fragment = b""
        return self

    def deparam(self, params: list[str] | list[bytes]) -> URL:
        """Remove the query arguments and parameters named in ``params``; returns ``self``."""
        names = {(p.encode(self._encoding) if isinstance(p, str) else p).lower() for p in params}

        def keep(value: bytes, sep: bytes) -> bytes:
            parts = value.split(sep) if value else []
            return sep.join(p for p in parts if p.partition(b"=")[0].lower() not in names)

        self._query = keep(self._query, b"&")
        self._params = keep(self._params, b";")
        return self

    def abspath(self) -> URL:
        """Collapse ``//`` and resolve ``.`` and ``..`` in the path; returns ``self``."""
        segments = self._path.split(b"/")
        directory = segments[-1] in (b"", b".", b"..")
        out: list[bytes] = []
        for segment in segments:
            if segment in (b"", b"."):
                continue
            if segment == b"..":
                if out:
                    out.pop()
            else:
                out.append(segment)
        path = b"/".join(out)
        if self._path.startswith(b"/") or not path:
            path = b"/" + path
        if directory and not path.endswith(b"/"):
            path += b"/"
        self._path = path
        return self

    def lower(self) -> URL:
        """Lower-case the host; returns ``self``."""
        self._host = self._host.lower()
        return self

    def escape(self) -> URL:
        """Percent-encode the path consistently (``quote(unquote(path))``); returns ``self``."""
        self._path = quote_from_bytes(unquote_to_bytes(self._path), safe=_PATH_SAFE).encode()
        return self

    def unescape(self) -> URL:
        """Percent-decode the path; returns ``self``."""
        self._path = unquote_to_bytes(self._path)
        return self

    def sanitize(self) -> URL:
        """`abspath`, `escape` and `lower`; returns ``self``."""
        return self.abspath().escape().lower()

    def _require_absolute(self, what: str) -> None:
        if not self.absolute():
            raise TypeError(f"cannot {what} the relative URL {self.unicode()!r}")

    def punycode(self) -> URL:
        """Encode the host with IDNA; returns ``self``.

        Raises:
            TypeError: the URL is relative.
            ValueError: the host is not a valid IDNA name.
        """
        self._require_absolute("punycode")
        try:
            self._host = self._host.decode(self._encoding).encode("idna")
        except UnicodeError as exc:
            raise ValueError(f"host {self._host!r} is not a valid IDNA name: {exc}") from None
        return self

    def unpunycode(self) -> URL:
        """Decode an IDNA host; returns ``self``.

        Raises:
            TypeError: the URL is relative.
            ValueError: the host is not valid IDNA.
        """
        self._require_absolute("unpunycode")
        try:
            self._host = self._host.decode("idna").encode(self._encoding)
        except UnicodeError as exc:
            raise ValueError(f"host {self._host!r} is not valid IDNA: {exc}") from None
        return self

    def absolute(self) -> bool:
        """Whether the URL has a host."""
        return bool(self._host)

    def encode(self, encoding: str) -> bytes:
        """The URL as bytes in ``encoding``."""
        out = b""
        if self._scheme:
            out += self._scheme + b":"
        if self._host:
            out += b"//" + self._host
            if self._port:
                out += b":" + self._port
        out += self._path
        if self._params:
            out += b";" + self._params
        if self._query:
            out += b"?" + self._query
        if self._fragment:
            out += b"#" + self._fragment
        if encoding.lower() != self._encoding.lower():
            out = out.decode(self._encoding).encode(encoding)
        return out

    def utf8(self) -> bytes:
        """The URL as UTF-8 bytes."""
        return self.encode("utf-8")

    def unicode(self) -> str:
        """The URL as text."""
        return self.utf8().decode("utf-8")

    def relative(self, path: str | bytes, encoding: str = "utf-8") -> URL:
        """A new URL: ``path`` resolved against this one (``urljoin``)."""
        ref = path.encode(encoding) if isinstance(path, str) else path
        return URL.parse(urljoin(self.encode(encoding), ref), encoding)

    def __call__(self, path: str | bytes, encoding: str = "utf-8") -> str:
        """``relative(path).unicode()``: handy for building links."""
        return self.relative(path, encoding).unicode()

    def _coerce(self, other: object) -> URL | None:
        if isinstance(other, URL):
            return other
        if isinstance(other, str | bytes):
            return URL.parse(other, self._encoding)
        return None

    def equiv(self, other: URL | str | bytes) -> bool:
        """Whether both URLs are equal once sanitised and made canonical."""
        that = self._coerce(other)
        if that is None:
            return False
        return self._copy().sanitize().canonical()._fields() == (
            that._copy().sanitize().canonical()._fields()
        )

    def __eq__(self, other: object) -> bool:
        that = self._coerce(other)
        if that is None:
            return NotImplemented
        return self._fields() == that._fields()

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.unicode()

    def __bytes__(self) -> bytes:
        return self.utf8()

    def __repr__(self) -> str:
        return f'<url.URL object "{self.utf8()!r}" >'


def parse_url(url: str | bytes, encoding: str = "utf-8") -> URL:
    """Parse ``url`` into a `URL` (``URL.parse(url, encoding)``)."""
    return URL.parse(url, encoding)
