"""The HTTP/1.1 grammar (RFC 9110, RFC 9112, RFC 3986) as compiled regexes.

Each pattern sits beside the ABNF it implements; callers use ``fullmatch``.
Everything is bytes: HTTP heads are octets (RFC 9112 §2.2), and obs-text
(%x80-FF) is allowed only where the grammar allows it.
"""

from __future__ import annotations

import re

__all__ = [
    "ABSOLUTE_FORM",
    "AUTHORITY_FORM",
    "CHUNK_LINE",
    "FIELD_BLOCK",
    "FIELD_LINE",
    "FIELD_VALUE",
    "HOST",
    "HTTP_VERSION",
    "ORIGIN_FORM",
    "REASON_PHRASE",
    "SIMPLE_REQUEST_HEAD",
    "STATUS_LINE",
    "TOKEN",
]

# RFC 9110 §5.6.2
#   token = 1*tchar
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TCHAR = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
TOKEN = re.compile(_TCHAR + rb"+")

# RFC 9110 §5.5
#   field-value   = *field-content
#   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
#   field-vchar   = VCHAR / obs-text
# Leading and trailing whitespace (OWS) is stripped before matching, so
# "no CTLs but HTAB" is the whole rule: CR, LF and NUL never match.
FIELD_VALUE = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")

# A whole block of field lines as we write them ("name: value" CRLF each,
# values without surrounding whitespace), checked in one match; a block that
# fails is checked field by field for a precise error.
_FIELD_VCHAR = rb"[\x21-\x7e\x80-\xff]"
FIELD_BLOCK = re.compile(
    rb"(?:"
    + _TCHAR
    + rb"+: (?:"
    + _FIELD_VCHAR
    + rb"(?:[\t \x21-\x7e\x80-\xff]*"
    + _FIELD_VCHAR
    + rb")?)?\r\n)*"
)

# RFC 9112 §2.3
#   HTTP-version = HTTP-name "/" DIGIT "." DIGIT ; HTTP-name = %s"HTTP"
HTTP_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")

# RFC 9112 §4
#   status-line   = HTTP-version SP status-code SP [ reason-phrase ]
#   status-code   = 3DIGIT
#   reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# The SP before an empty reason is optional here: servers omit it, and
# RFC 9112 §4 tells clients to ignore the reason anyway.
REASON_PHRASE = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")
STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([\t \x21-\x7e\x80-\xff]*))?")

# RFC 3986 §2-3, used by the request-target forms of RFC 9112 §3.2
#   pchar       = unreserved / pct-encoded / sub-delims / ":" / "@"
#   unreserved  = ALPHA / DIGIT / "-" / "." / "_" / "~"
#   pct-encoded = "%" HEXDIG HEXDIG
#   sub-delims  = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
#   query       = *( pchar / "/" / "?" )
_UNRESERVED = rb"-._~0-9A-Za-z"
_SUB_DELIMS = rb"!$&'()*+,;="
_PCT = rb"%[0-9A-Fa-f]{2}"
_PCHAR = rb"(?:[" + _UNRESERVED + _SUB_DELIMS + rb":@]|" + _PCT + rb")"
_SEGMENTS = rb"(?:[" + _UNRESERVED + _SUB_DELIMS + rb":@/]|" + _PCT + rb")*"
_QUERY = rb"(?:\?(?:[" + _UNRESERVED + _SUB_DELIMS + rb":@/?]|" + _PCT + rb")*)?"
#   host        = IP-literal / IPv4address / reg-name
#   IP-literal  = "[" ( IPv6address / IPvFuture ) "]"  (checked loosely: hex, ":" and ".")
#   reg-name    = *( unreserved / pct-encoded / sub-delims )
#   port        = *DIGIT
_REG_NAME = rb"(?:[" + _UNRESERVED + _SUB_DELIMS + rb"]|" + _PCT + rb")*"
_HOST = rb"(?:\[[0-9A-Fa-f:.]+\]|" + _REG_NAME + rb")"
_PORT = rb"[0-9]*"

# RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ]
#   absolute-path = 1*( "/" segment )
ORIGIN_FORM = re.compile(rb"/" + _SEGMENTS + _QUERY)

# RFC 9112 §3.2.2: absolute-form = absolute-URI
#   absolute-URI = scheme ":" hier-part [ "?" query ]
#   scheme       = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
#   hier-part    = "//" authority path-abempty / path-absolute / ...
# Only the "//" authority form: the target URI of an HTTP request is an http(s)
# URI (RFC 9110 §4.2), so "a:80" (scheme "a") is refused rather than guessed
# at. RFC 9110 §4.2.1: a recipient MUST reject an http URI with an empty host.
# RFC 9110 §4.2.4: userinfo in an http(s) URI from an untrusted source should
# be treated as an error, so the authority has none.
_HOST_NONEMPTY = (
    rb"(?:\[[0-9A-Fa-f:.]+\]|(?:[" + _UNRESERVED + _SUB_DELIMS + rb"]|" + _PCT + rb")+)"
)
ABSOLUTE_FORM = re.compile(
    rb"[A-Za-z][-+.0-9A-Za-z]*://"
    + _HOST_NONEMPTY
    + rb"(?::"
    + _PORT
    + rb")?(?:/"
    + _SEGMENTS
    + rb")?"
    + _QUERY
)

# RFC 9112 §3.2.3: authority-form = uri-host ":" port (CONNECT only)
AUTHORITY_FORM = re.compile(_HOST_NONEMPTY + rb":[0-9]+")

# RFC 9110 §7.2: Host = uri-host [ ":" port ]
HOST = re.compile(_HOST + rb"(?::" + _PORT + rb")?")

# RFC 9112 §7.1 and §7.1.1
#   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
#   chunk-size     = 1*HEXDIG
#   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
#   chunk-ext-name = token
#   chunk-ext-val  = token / quoted-string
# RFC 9110 §5.6.4
#   quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE
#   qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
#   quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
# No whitespace after the size unless an extension follows; "0x5" fails at "x".
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
CHUNK_LINE = re.compile(
    rb"([0-9A-Fa-f]+)"
    rb"(?:[ \t]*;[ \t]*" + _TCHAR + rb"+(?:[ \t]*=[ \t]*(?:" + _TCHAR + rb"+|" + _QUOTED + rb"))?)*"
)

# A request head in its most common shape, validated in one match: a token
# method, an origin-form target, HTTP/1.0 or 1.1, and well-formed field lines
# (RFC 9112 §2.1, §3, §5). Heads that do not match take the general path,
# which gives the precise error or accepts the rarer forms (absolute-form
# targets, leading empty lines, ...). FIELD_LINE then splits the fields.
_VCHAR = rb"[\x21-\x7e\x80-\xff]"
_STRIPPED_VALUE = rb"(?:" + _VCHAR + rb"(?:[\t \x21-\x7e\x80-\xff]*" + _VCHAR + rb")?)?"
SIMPLE_REQUEST_HEAD = re.compile(
    rb"(" + _TCHAR + rb"+) (/" + _SEGMENTS + _QUERY + rb") HTTP/1\.([01])\r\n"
    rb"((?:" + _TCHAR + rb"+:[\t ]*" + _STRIPPED_VALUE + rb"[\t ]*\r\n)*)\r\n"
)
FIELD_LINE = re.compile(rb"(" + _TCHAR + rb"+):[\t ]*(" + _STRIPPED_VALUE + rb")[\t ]*\r\n")
