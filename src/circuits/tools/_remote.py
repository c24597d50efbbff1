"""Client side of the ``Inspector`` protocol: find an app's socket, send a request.

Used by the ``circuits.sniff`` and ``python -m circuits inspect`` commands.
"""

from __future__ import annotations

import glob
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

from ._inspector import default_socket_dir, default_socket_path

__all__ = ["InspectorError", "connect", "find_socket", "lines", "request"]

# How long a client waits for the app to answer a tree request.
REQUEST_TIMEOUT_S = 10.0


class InspectorError(Exception):
    """No app to talk to, several candidates, or an error answer."""


def _alive(path: str) -> bool:
    """Whether the pid in ``circuits-<pid>.sock`` is a running process (True if unknown)."""
    stem = os.path.basename(path)[len("circuits-") : -len(".sock")]
    if not stem.isdigit():
        return True
    try:
        os.kill(int(stem), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_socket(target: str | None) -> str:
    """Resolve a socket path, a PID, or nothing (the only app running) to a socket path.

    Raises:
        InspectorError: if the socket does not exist, or no/several apps are found.
    """
    if target is not None:
        path = default_socket_path(int(target)) if target.isdigit() else target
        if not os.path.exists(path):
            raise InspectorError(
                f"no inspector socket at {path!r}; does the app register circuits.tools.Inspector?"
            )
        return path
    dirs = dict.fromkeys([default_socket_dir(), "/tmp"])
    found = sorted(p for d in dirs for p in glob.glob(os.path.join(d, "circuits-*.sock")))
    found = [p for p in found if _alive(p)]
    if not found:
        raise InspectorError(
            f"no inspector socket found in {', '.join(dirs)}; register "
            "circuits.tools.Inspector in the app, or pass its socket path or PID"
        )
    if len(found) > 1:
        raise InspectorError(f"several apps found, pass one socket path or PID: {', '.join(found)}")
    return found[0]


def connect(path: str, message: dict[str, Any]) -> socket.socket:
    """Connect to ``path`` and send ``message`` as one JSON line.

    Raises:
        InspectorError: if nobody listens there.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(REQUEST_TIMEOUT_S)
    try:
        sock.connect(path)
        sock.sendall(json.dumps(message).encode() + b"\n")
    except OSError as exc:
        sock.close()
        raise InspectorError(f"cannot talk to the app at {path!r}: {exc}") from exc
    return sock


def lines(sock: socket.socket) -> Iterator[dict[str, Any]]:
    """Yield the JSON answers on ``sock`` until it closes; raise an error answer.

    Raises:
        InspectorError: on an ``{"error": ...}`` answer.
    """
    with sock.makefile("rb") as f:
        for raw in f:
            message: dict[str, Any] = json.loads(raw)
            if "error" in message:
                raise InspectorError(f"the app answered: {message['error']}")
            yield message


def request(path: str, message: dict[str, Any]) -> dict[str, Any]:
    """Send one request and return its single answer.

    Raises:
        InspectorError: if the app cannot be reached or answers an error.
    """
    with connect(path, message) as sock:
        for answer in lines(sock):
            return answer
    raise InspectorError(f"the app at {path!r} closed the connection without answering")
