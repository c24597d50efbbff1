"""Name-based virtual hosting: the ``Host`` header picks a path prefix (web.md §11.2).

``VirtualHosts`` runs at priority 1.0, before ``Static`` and the
``Dispatcher``, and rewrites ``request.path`` from ``/x`` to ``/<prefix>/x``
when the request's host is in its table; controllers for a site then live
under that prefix (a controller on channel ``/site1``, say). A host not in
the table is left alone.

Lookup: the host exactly as sent (``example.com:8000``, as 3.2.5), then
lower-cased without the port. ``X-Forwarded-Host`` (its first entry) is
used instead of ``Host`` when the request comes from one of
``trusted_gateways``, or from anyone when that is ``None`` (3.2.5, where the
argument was ignored). Trusting it gives a client nothing it could not get
by sending that ``Host`` itself: both only choose among the configured
sites.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ...core import BaseComponent as BaseComponent, Event, handler as handler

__all__ = ["BaseComponent", "VirtualHosts", "handler"]

log = logging.getLogger(__name__)


class VirtualHosts(BaseComponent):
    """Map request hosts to path prefixes.

    Args:
        domains: host name (``"site1.example.com"``, optionally with
            ``:port``) -> path prefix (``"site1"``).
        trusted_gateways: addresses of reverse proxies whose ``X-Forwarded-Host``
            is believed; ``None`` believes anyone's (3.2.5).
        **kwargs: passed to `circuits.core.BaseComponent` (``channel``).
    """

    channel = "web"

    def __init__(
        self,
        domains: Mapping[str, str],
        trusted_gateways: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.domains = domains
        self.trusted_gateways = None if trusted_gateways is None else frozenset(trusted_gateways)
        self._lower = {name.lower(): prefix for name, prefix in domains.items()}

    @handler("request", priority=1.0)
    def _on_request(self, event: Event, request: Any, response: Any, *args: Any) -> None:
        domain = self._host(request)
        if not domain:
            return
        prefix = self.domains.get(domain)
        if prefix is None:
            prefix = self._lower.get(_without_port(domain).lower())
        if prefix is None:
            return
        # 3.2.5 used urljoin('/<prefix>/', path): the same for every path the
        # HTTP component lets through, except one whose first segment looks
        # like a scheme ("/http:x"), which urljoin took for an absolute URL.
        rest = request.path.strip("/")
        base = prefix.strip("/")
        request.path = f"/{base}/{rest}" if base else f"/{rest}"

    def _host(self, request: Any) -> str:
        headers = request.headers
        forwarded = headers.get("X-Forwarded-Host")
        if forwarded and (
            self.trusted_gateways is None or request.remote.ip in self.trusted_gateways
        ):
            return str(forwarded).split(",")[0].strip().lower()
        return str(headers.get("Host", ""))


def _without_port(host: str) -> str:
    if host.startswith("["):  # an IPv6 literal: [::1]:8000
        return host[: host.find("]") + 1] if "]" in host else host
    return host.partition(":")[0]
