"""Serve files (and optionally directory listings) from a document root (web.md §11.5).

``Static`` handles ``request`` on the web channel at priority 0.9, before the
``Dispatcher``: a path under its prefix that names a file in the document
root is answered with `circuits.web.tools.serve_file`; a missing one falls
through (usually to a 404 from the Dispatcher).

Containment, unlike 3.2.5 (which compared against the docroot's *parent*
as a string prefix, so ``/static/..%2fsecret.txt`` escaped): the rest of the
path is percent-decoded, split on ``/`` and refused if a segment is ``..``
or ``.``, or if it holds a backslash or NUL; then the real path (symbolic
links resolved) must be the real docroot or lie inside it. A symbolic link
inside the docroot that leads out of it is refused unless the component was
built with ``follow_external_symlinks=True`` (then only the path as written
must stay inside). A refused path is answered 404 directly, so it cannot
reach a controller either.

Other differences: the prefix must end at a segment boundary (``/static``
does not serve ``/staticfoo``); listings are sorted by name, leave out
hidden entries, entries that could not be served (links out of the root,
names that are not UTF-8), and escape names and links.
"""

from __future__ import annotations

import html
import logging
import os
from string import Template
from typing import Any
from urllib.parse import quote, unquote

from ...core import BaseComponent as BaseComponent, Event, handler as handler
from ..errors import notfound
from ..tools import _content_type, serve_file as serve_file

__all__ = ["DEFAULT_DIRECTORY_INDEX_TEMPLATE", "BaseComponent", "Static", "handler", "serve_file"]

log = logging.getLogger(__name__)

DEFAULT_DIRECTORY_INDEX_TEMPLATE = """\
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
    <head>
        <meta http-equiv="Content-Type" content="text/html; charset=utf-8"></meta>
        <title>Index of $directory</title>
    </head>
    <body>
        <h1>Index of $directory</h1>
        <ul>
            $url_up
            $listing
        </ul>
    </body>
</html>
"""

_REFUSED_SEGMENTS = ("..", ".")


class Static(BaseComponent):
    """Serve the files under ``docroot`` at URL prefix ``path``.

    Args:
        path: the URL prefix (``"/static"``); ``None`` serves every path.
        docroot: the directory served; the current directory by default.
        defaults: the files tried, in order, for a directory.
        dirlisting: answer a directory without a default file with an HTML listing.
        follow_external_symlinks: serve symbolic links inside the docroot that
            point outside it. Off by default: such a link is answered 404.
        **kwargs: passed to `circuits.core.BaseComponent` (``channel``).
    """

    channel = "web"

    def __init__(
        self,
        path: str | None = None,
        docroot: str | os.PathLike[str] | None = None,
        defaults: tuple[str, ...] | list[str] = ("index.html", "index.xhtml"),
        dirlisting: bool = False,
        follow_external_symlinks: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.docroot = os.path.abspath(os.fspath(docroot) if docroot is not None else os.getcwd())
        self.defaults = defaults
        self.dirlisting = dirlisting
        self.follow_external_symlinks = follow_external_symlinks

    @handler("request", priority=0.9)
    def _on_request(self, event: Event, request: Any, response: Any, peer_cert: Any = None) -> Any:
        rest = self._rest(request.path)
        if rest is None:
            return None
        segments = _segments(rest)
        if segments is None:
            log.info("%r: refused static path %r", request.remote.ip, request.path)
            event.stop()
            return notfound(request, response)
        location = os.path.join(self.docroot, *segments)
        real = self._contained(location)
        if real is None:
            log.info("%r: static path %r leads out of the docroot", request.remote.ip, request.path)
            event.stop()
            return notfound(request, response)
        if not os.path.exists(real):
            return None  # not ours: the Dispatcher may know it
        if os.path.isfile(real):
            return self._serve(event, request, response, real, location)
        if not os.path.isdir(real):
            return None
        for name in self.defaults:
            candidate = self._contained(os.path.join(location, name))
            if candidate is not None and os.path.isfile(candidate):
                return self._serve(event, request, response, candidate, candidate)
        if not self.dirlisting:
            return None
        response.cookie.clear()
        event.stop()
        return self._listing(real, segments)

    def _rest(self, path: str) -> str | None:
        """The part of ``path`` under our prefix (still percent-encoded), ``None`` if not ours."""
        if self.path is None:
            return path
        prefix = self.path.rstrip("/")
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :]
        return None

    def _contained(self, location: str) -> str | None:
        """The real path of ``location`` if it may be served, else ``None``."""
        root = os.path.realpath(self.docroot)
        inside = os.path.join(root, "")  # with the trailing separator
        real = os.path.realpath(location)
        if real == root or real.startswith(inside):
            return real
        if self.follow_external_symlinks:
            # Only the path as written (links not resolved) must stay inside.
            written = os.path.normpath(location)
            docroot = os.path.normpath(self.docroot)
            if written == docroot or written.startswith(os.path.join(docroot, "")):
                return real
        return None

    def _serve(self, event: Event, request: Any, response: Any, real: str, shown: str) -> Any:
        response.cookie.clear()  # request cookies are not echoed with static files
        event.stop()
        # The type follows the name asked for, the bytes the resolved file.
        return serve_file(request, response, real, type=_content_type(shown))

    def _listing(self, real: str, segments: list[str]) -> str:
        prefix = (self.path or "").rstrip("/")
        directory = prefix + "/" + "/".join(segments)
        if segments:
            directory = directory.rstrip("/") + "/"
        if segments:
            up = prefix + "/" + "/".join(segments[:-1])
            url_up = f'<li><a href="{_href(up)}">..</a></li>'
        else:
            url_up = ""
        items = []
        for name in sorted(os.listdir(real)):
            if name.startswith(".") or not _is_text(name):
                continue
            entry = os.path.join(real, name)
            target = self._contained(entry)
            if target is None:
                continue
            slash = "/" if os.path.isdir(target) else ""
            url = directory + name + slash
            items.append(f'<li><a href="{_href(url)}">{html.escape(name + slash)}</a></li>')
        return Template(DEFAULT_DIRECTORY_INDEX_TEMPLATE).safe_substitute(
            directory=html.escape(directory),
            url_up=url_up,
            listing="\n            ".join(items),
        )


def _href(url: str) -> str:
    return html.escape(quote(url, safe="/"), quote=True)


def _is_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes from the file system (surrogates)
        return False
    return True


def _segments(rest: str) -> list[str] | None:
    """Decode the rest of the path into file-name segments; ``None`` if it must be refused."""
    if "\\" in rest or "\x00" in rest or not _is_text(rest):
        return None
    try:
        decoded = unquote(rest, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\\" in decoded or "\x00" in decoded:
        return None
    segments = [part for part in decoded.split("/") if part]
    if any(part in _REFUSED_SEGMENTS for part in segments):
        return None
    return segments
