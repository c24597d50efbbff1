"""XML-RPC over HTTP POST: a call becomes an event named after its method (web.md §11.3).

``XMLRPC`` claims the requests for its path at priority 0.2 (before the
``Dispatcher``), decodes the call with ``xmlrpc.client.loads``, fires
``rpc`` under the method's name on ``rpc_channel`` and waits for it; the
handlers' result is the response. Errors are XML-RPC faults, never
tracebacks: code 1 and ``"<ExceptionClass>: <message>"`` when the method
raised (as 3.2.5); for calls that never ran, the codes of the XML-RPC fault
code interoperability spec: -32700 (not well-formed), -32600 (not a call),
-32601 (no such method), -32602 (arguments the method does not take).
"""

from __future__ import annotations

import logging
import xmlrpc.client
from collections.abc import Generator
from typing import Any

from ...core import BaseComponent as BaseComponent, Event as Event, handler as handler
from ._rpc import INVALID_REQUEST, PARSE_ERROR, RPCDispatcher

__all__ = ["XMLRPC", "BaseComponent", "Event", "handler", "rpc"]

log = logging.getLogger(__name__)

# 3.2.5's code for every fault; ours for a method that raised.
APPLICATION_ERROR = 1


class rpc(Event):
    """An XML-RPC call; `XMLRPC` fires it under the method's name."""


class XMLRPC(RPCDispatcher):
    """Answer XML-RPC calls POSTed to ``path`` with the handlers of ``rpc_channel``.

    ``XMLRPC(path=None, encoding="utf-8", rpc_channel="*", **kwargs)``: the
    arguments of `RPCDispatcher`.
    """

    content_type = "text/xml"

    def _serve(self, req: Any, res: Any) -> Generator[Any, Any, None]:
        try:
            params, method = xmlrpc.client.loads(req.body.read())
        except Exception as exc:  # ExpatError, ValueError (a bad <int>), ResponseError...
            yield self._fault(PARSE_ERROR, f"parse error: {type(exc).__name__}: {exc}")
            return
        if not isinstance(method, str):
            yield self._fault(INVALID_REQUEST, "not a method call")
            return
        args = list(params)
        refusal = self._refusal(method, args, {})
        if refusal is not None:
            yield self._fault(*refusal)
            return
        try:
            value = yield self.call(rpc.create(method, *args), self.rpc_channel)
            body = xmlrpc.client.dumps(
                (value.outcome(),), methodresponse=True, encoding=self.encoding, allow_none=True
            )
        except Exception as exc:
            log.info("%s: XML-RPC %r failed: %r", req.remote.ip, method, exc)
            yield self._fault(APPLICATION_ERROR, f"{type(exc).__name__}: {exc}")
            return
        yield body.encode(self.encoding, "xmlcharrefreplace")

    def _fault(self, code: int, message: str) -> bytes:
        fault = xmlrpc.client.Fault(code, message)
        text = xmlrpc.client.dumps(fault, methodresponse=True, encoding=self.encoding)
        return text.encode(self.encoding, "xmlcharrefreplace")
