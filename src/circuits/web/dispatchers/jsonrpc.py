"""JSON-RPC over HTTP POST: a call becomes an event named after its method (web.md §11.4).

``JSONRPC`` claims the requests for its path at priority 0.2 (before the
``Dispatcher``), fires ``rpc`` under the method's name on ``rpc_channel``,
waits for it and answers with the handlers' result. Two dialects, told
apart by the request:

* **3.2.5** (an object without ``"jsonrpc"``): ``{"id", "method",
  "params"}`` in; ``{"id", "version": "1.1", "result", "error": null}`` out,
  or on any error ``{"id": -1, "version": "1.1", "error": {"name":
  "JSONRPCError", "code": 100, "message": "<Exc>: <msg>"}}``.
* **JSON-RPC 2.0** (``"jsonrpc": "2.0"``, or a batch array): replies and
  error objects as that specification says (codes -32700 parse error, -32600
  invalid request, -32601 method not found, -32602 invalid params, -32603
  internal error, the exception's class and message in ``data``);
  notifications get no reply, a request of notifications only gets ``204``.

No reply ever holds a traceback; failures of the method are logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from typing import Any

from ...core import BaseComponent as BaseComponent, Event as Event, handler as handler
from ._rpc import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RPCDispatcher

__all__ = ["JSONRPC", "BaseComponent", "Event", "handler", "rpc"]

log = logging.getLogger(__name__)

# https://www.jsonrpc.org/specification §5.1; the others are in ._rpc
INTERNAL_ERROR = -32603
_MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
}

_Reply = dict[str, Any] | None


class rpc(Event):
    """A JSON-RPC call; `JSONRPC` fires it under the method's name."""


class _CallError(Exception):
    """A call refused before or after it ran: a JSON-RPC error code and message."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class JSONRPC(RPCDispatcher):
    """Answer JSON-RPC calls POSTed to ``path`` with the handlers of ``rpc_channel``.

    ``JSONRPC(path=None, encoding="utf-8", rpc_channel="*", **kwargs)``: the
    arguments of `RPCDispatcher`.
    """

    content_type = "application/json"

    def _serve(self, req: Any, res: Any) -> Generator[Any, Any, None]:
        try:
            data = json.loads(req.body.read().decode(self.encoding))
        except Exception:  # not text, not JSON, or nested past the recursion limit
            yield self._dump(_error(None, PARSE_ERROR))
            return
        if isinstance(data, dict) and "jsonrpc" not in data:
            reply: Any = yield from self._call_3_2_5(req, data)
        elif isinstance(data, list) and data:
            replies = []
            for item in data:
                one = yield from self._call_2_0(req, item)
                if one is not None:
                    replies.append(one)
            reply = replies or None
        elif isinstance(data, list):
            reply = _error(None, INVALID_REQUEST)
        else:
            reply = yield from self._call_2_0(req, data)
        if reply is None:  # notifications only
            res.status = 204
            yield b""
            return
        yield self._dump(reply)

    def _dump(self, reply: Any) -> bytes:
        return json.dumps(reply).encode(self.encoding)

    def _run(self, req: Any, method: Any, params: Any) -> Generator[Any, Any, Any]:
        """Fire the call and return its result; raise `_CallError` if refused or failed."""
        if not isinstance(method, str):
            raise _CallError(INVALID_REQUEST, "method must be a string")
        if isinstance(params, dict):
            args, kwargs = [], {str(k): v for k, v in params.items()}
        elif isinstance(params, list):
            args, kwargs = params, {}
        else:
            raise _CallError(INVALID_REQUEST, "params must be an array or an object")
        refusal = self._refusal(method, args, kwargs)
        if refusal is not None:
            raise _CallError(*refusal)
        value = yield self.call(rpc.create(method, *args, **kwargs), self.rpc_channel)
        try:
            result = value.outcome()
            json.dumps(result)
        except Exception as exc:
            log.info("%s: JSON-RPC %r failed: %r", req.remote.ip, method, exc)
            raise _CallError(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}") from None
        return result

    def _call_3_2_5(self, req: Any, data: dict[str, Any]) -> Generator[Any, Any, _Reply]:
        try:
            result = yield from self._run(req, data.get("method"), data.get("params", {}))
        except _CallError as exc:
            return {
                "id": -1,
                "version": "1.1",
                "error": {"name": "JSONRPCError", "code": 100, "message": _legacy_message(exc)},
            }
        return {"id": data.get("id"), "version": "1.1", "result": result, "error": None}

    def _call_2_0(self, req: Any, item: Any) -> Generator[Any, Any, _Reply]:
        if not isinstance(item, dict) or item.get("jsonrpc") != "2.0":
            return _error(None, INVALID_REQUEST)
        notification = "id" not in item
        rid = item.get("id")
        if not (rid is None or (isinstance(rid, str | int | float) and not isinstance(rid, bool))):
            return _error(None, INVALID_REQUEST)
        try:
            result = yield from self._run(req, item.get("method"), item.get("params", []))
        except _CallError as exc:
            if notification:
                return None
            return _error(rid, exc.code, str(exc))
        if notification:
            return None
        return {"jsonrpc": "2.0", "result": result, "id": rid}


def _error(rid: Any, code: int, data: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": _MESSAGES[code]}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": rid}


def _legacy_message(exc: _CallError) -> str:
    # 3.2.5 showed "<ExceptionClass>: <message>"; a method's own failure
    # already reads so, a refusal gets a class name that says what it was.
    if exc.code == INTERNAL_ERROR:
        return str(exc)
    names = {METHOD_NOT_FOUND: "MethodNotFound", INVALID_PARAMS: "InvalidParams"}
    return f"{names.get(exc.code, 'InvalidRequest')}: {exc}"
