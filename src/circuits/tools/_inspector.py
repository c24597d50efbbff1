"""``Inspector``: let ``circuits.sniff`` and ``python -m circuits inspect`` see a live app.

Theory of operation. The app registers one ``Inspector``; once the loop has
started it listens on a UNIX socket (mode 0600) from its own thread, so
clients never touch the event loop. Each client sends one JSON line:

* ``{"cmd": "tree", "format": "ascii" | "dot"}`` -> ``{"text": ...}`` and close;
* ``{"cmd": "sniff", "names": [...], "channels": [...]}`` -> ``{"ok": true}``,
  then ``{"event": {...}}`` lines (and ``{"dropped": N}`` after an overflow)
  until the client disconnects.

Errors come back as ``{"error": "..."}``. Events are observed like
``Debugger`` does (a catch-all handler with a high priority), but that handler
is only registered while at least one sniffer is attached, so an app nobody
sniffs pays nothing. The handler only formats the event and ``put_nowait``\\ s it
into each sniffer's bounded queue; a per-client thread does the socket writes,
so a slow sniffer loses events (counted and reported) instead of blocking the app.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import reprlib
import socket
import stat
import threading
import time
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler, reprhandler
from . import graph_ascii, walk

__all__ = ["Inspector", "default_socket_dir", "default_socket_path"]

log = logging.getLogger(__name__)

# Events queued per sniffer before new ones are dropped: about a second of a
# busy app's traffic, small enough that a stalled client costs little memory.
SNIFF_QUEUE_EVENTS = 1000
# An event's args are shown as a repr cut to this many characters.
ARGS_REPR_MAX_CHARS = 200
# The longest request line a client may send.
MAX_REQUEST_BYTES = 4096
# How often a sniffer's writer checks for a disconnected client when idle.
SNIFF_POLL_S = 0.2
# How long a tree request waits for the loop thread to draw it before the
# Inspector's own thread does (the loop is then busy or blocked: worth saying).
TREE_LOOP_WAIT_S = 1.0
# Priority of the catch-all handler: above Debugger's 101, so events are seen
# before the handlers that react to them.
SNIFF_PRIORITY = 1000.0

_repr = reprlib.Repr()
_repr.maxstring = ARGS_REPR_MAX_CHARS
_repr.maxother = ARGS_REPR_MAX_CHARS


def default_socket_dir() -> str:
    """The directory of default Inspector sockets: ``$XDG_RUNTIME_DIR`` or ``/tmp``."""
    return os.environ.get("XDG_RUNTIME_DIR") or "/tmp"


def default_socket_path(pid: int | None = None) -> str:
    """The default socket path of process ``pid`` (default: this one)."""
    return os.path.join(
        default_socket_dir(), f"circuits-{os.getpid() if pid is None else pid}.sock"
    )


class _inspector_tree(Event):
    """Draw the tree in the loop thread: ``(dot, drawn, done)``."""


class _Sniffer:
    """One attached sniff client: its filters, its bounded queue and its drop count."""

    def __init__(self, names: set[str], channels: set[str]) -> None:
        self.names = names
        self.channels = channels
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue(SNIFF_QUEUE_EVENTS)
        self.dropped = 0  # written by the loop thread, read and reset by the writer

    def wants(self, name: str, channels: list[str]) -> bool:
        if self.names:
            if name not in self.names:
                return False
        elif name in ("generate_events", "_inspector_tree"):  # the loop's and ours: noise
            return False
        return not self.channels or any(c in self.channels for c in channels)


class Inspector(BaseComponent):
    """Serve the app's component tree and a live event feed on a UNIX socket.

    Register it once (``Inspector().register(app)``); it listens from
    ``started`` (or from registration into a running tree) until ``stopped``.

    Args:
        path: the socket path (default: ``default_socket_path()``).

    Attributes:
        listening: set once the socket accepts clients.
    """

    channel = "*"

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self.path = path if path is not None else default_socket_path()
        self.listening = threading.Event()
        self._sock: socket.socket | None = None
        self._sniffers: list[_Sniffer] = []
        self._sniff_lock = threading.Lock()
        self._catch_all: Any = None

    # -- lifecycle ---------------------------------------------------------

    @handler("started", channel="*")
    def _on_started(self, *args: Any) -> None:
        self.listen()

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self and self.root.running:
            self.listen()

    @handler("stopped", channel="*")
    def _on_stopped(self, *args: Any) -> None:
        self.close()

    def listen(self) -> None:
        """Open the socket (mode 0600) and start accepting clients; idempotent.

        Raises:
            OSError: if the path is taken by a live socket or cannot be bound.
        """
        if self._sock is not None:
            return
        _remove_stale(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(self.path)
            # Nobody can connect before listen(), so this chmod closes no race.
            os.chmod(self.path, 0o600)
            sock.listen()
        except OSError:
            sock.close()
            raise
        self._sock = sock
        threading.Thread(target=self._accept, args=(sock,), name="Inspector", daemon=True).start()
        self.listening.set()
        log.debug("inspector listening on %s", self.path)

    def close(self) -> None:
        """Stop accepting, detach every sniffer and remove the socket file."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self.listening.clear()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with self._sniff_lock:
            self._sniffers.clear()
            self._set_catch_all(False)

    @property
    def sniffing(self) -> bool:
        """Whether the catch-all handler is registered (some sniffer is attached)."""
        return self._catch_all is not None

    # -- serving (Inspector and per-client threads) -------------------------

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed
            threading.Thread(
                target=self._serve, args=(conn,), name="Inspector client", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = _read_request(conn)
                cmd = request.get("cmd")
                if cmd == "tree":
                    fmt = request.get("format", "ascii")
                    if fmt not in ("ascii", "dot"):
                        raise ValueError(f"format must be 'ascii' or 'dot', not {fmt!r}")
                    _send(conn, {"text": self.tree(dot=fmt == "dot")})
                elif cmd == "sniff":
                    self._sniff(conn, request)
                else:
                    raise ValueError(f"cmd must be 'tree' or 'sniff', not {cmd!r}")
            except (ValueError, TypeError) as exc:
                with contextlib.suppress(OSError):
                    _send(conn, {"error": str(exc)})
            except OSError as exc:
                log.debug("inspector client gone: %s", exc)

    def tree(self, dot: bool = False) -> str:
        """The app's component tree and handler table (ASCII), or a Graphviz digraph.

        From another thread, the loop thread draws it, so that the component
        reprs name the thread that runs them; if the loop does not get to it
        within `TREE_LOOP_WAIT_S` (a handler is blocking it), this thread
        draws it and says so.
        """
        root = self.root
        if root.running and threading.get_ident() != root._loop_ident:
            done = threading.Event()
            drawn: list[str] = []
            self.fire(_inspector_tree(dot, drawn, done), self)
            if done.wait(TREE_LOOP_WAIT_S):
                return drawn[0]
            note = f"the loop did not answer within {TREE_LOOP_WAIT_S} s: busy or blocked\n"
            note = f"// {note}" if dot else f"({note[:-1]})\n"
        else:
            note = ""
        with root._lock:
            return note + (_tree_dot(root) if dot else _tree_ascii(root))

    @handler("_inspector_tree")
    def _on_tree(self, dot: bool, drawn: list[str], done: threading.Event) -> None:
        root = self.root
        drawn.append(_tree_dot(root) if dot else _tree_ascii(root))
        done.set()

    def _sniff(self, conn: socket.socket, request: dict[str, Any]) -> None:
        names = request.get("names") or []
        channels = request.get("channels") or []
        if not all(isinstance(x, str) for x in [*names, *channels]):
            raise ValueError("names and channels must be lists of strings")
        sniffer = _Sniffer(set(names), set(channels))
        with self._sniff_lock:
            self._sniffers.append(sniffer)
            self._set_catch_all(True)
        try:
            _send(conn, {"ok": True})
            while self._sock is not None:
                if sniffer.dropped:
                    dropped, sniffer.dropped = sniffer.dropped, 0
                    _send(conn, {"dropped": dropped})
                try:
                    item = sniffer.queue.get(timeout=SNIFF_POLL_S)
                except queue.Empty:
                    if _peer_closed(conn):
                        return
                    continue
                _send(conn, {"event": item})
        finally:
            with self._sniff_lock:
                with contextlib.suppress(ValueError):
                    self._sniffers.remove(sniffer)
                self._set_catch_all(bool(self._sniffers))

    def _set_catch_all(self, on: bool) -> None:
        """Register the catch-all handler on the first sniffer, remove it after the last."""
        if on and self._catch_all is None:
            self._catch_all = self.addHandler(handler(priority=SNIFF_PRIORITY)(_observe))
        elif not on and self._catch_all is not None:
            method, self._catch_all = self._catch_all, None
            self.removeHandler(method, "*")

    def _publish(self, event: Any) -> None:
        channels = [str(c) for c in event.channels]
        with self._sniff_lock:
            sniffers = [s for s in self._sniffers if s.wants(event.name, channels)]
        if not sniffers:
            return
        args = _repr.repr(tuple(event.args))
        if event.kwargs:
            args = f"{args} {_repr.repr(event.kwargs)}"
        item = {
            "time": time.time(),
            "name": event.name,
            "channels": channels,
            "args": args[:ARGS_REPR_MAX_CHARS],
        }
        for s in sniffers:
            try:
                s.queue.put_nowait(item)
            except queue.Full:
                s.dropped += 1


def _observe(self: Inspector, event: Any, *args: Any, **kwargs: Any) -> None:
    """The catch-all handler (bound by ``addHandler`` while someone sniffs)."""
    self._publish(event)


def _remove_stale(path: str) -> None:
    """Unlink a socket file nobody listens on (a crashed app's); refuse a live one."""
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            raise FileExistsError(f"{path!r} exists and is not a socket")
    except FileNotFoundError:
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
    else:
        raise FileExistsError(f"{path!r} is in use by another inspector")
    finally:
        probe.close()


def _read_request(conn: socket.socket) -> dict[str, Any]:
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(MAX_REQUEST_BYTES)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError(f"request longer than {MAX_REQUEST_BYTES} bytes")
    try:
        request = json.loads(data.split(b"\n", 1)[0])
    except json.JSONDecodeError:
        raise ValueError(f"request is not a JSON line: {data[:80]!r}") from None
    if not isinstance(request, dict):
        raise ValueError(f"request must be a JSON object, not {request!r}")
    return request


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _peer_closed(conn: socket.socket) -> bool:
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _label(node: Any) -> str:
    # The class name, not ``node.name``: a component may define ``name`` for
    # itself (``Sessions.name`` is its cookie's name).
    name = type(node).__name__
    return f"{name}/{node.channel}" if hasattr(node, "channel") else name


def _tree_ascii(root: Any) -> str:
    lines = ["Components:", graph_ascii(root), "", "Handlers:"]
    for node in walk(root, lambda d, n: n):
        entries = [
            (name, reprhandler(h))
            for name, hs in sorted(node._handlers.items())
            for h in sorted(hs, key=reprhandler)
        ]
        entries += [("*", reprhandler(h)) for h in sorted(node._globals, key=reprhandler)]
        if entries:
            lines.append(f" {_label(node)}")
            lines.extend(f"  {name}: {text}" for name, text in entries)
    return "\n".join(lines) + "\n"


def _tree_dot(root: Any) -> str:
    nodes = list(walk(root, lambda d, n: n))
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    lines = [f"digraph {json.dumps(root.name)} {{"]
    lines.extend(f"  {ids[id(n)]} [label={json.dumps(_label(n))}];" for n in nodes)
    for n in nodes:
        lines.extend(f"  {ids[id(n)]} -> {ids[id(c)]};" for c in list(n.components) if id(c) in ids)
    lines.append("}")
    return "\n".join(lines) + "\n"
