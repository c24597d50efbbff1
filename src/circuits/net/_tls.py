"""TLS for the socket components: contexts, wrapping, non-blocking handshakes.

Theory of operation
-------------------
3.2.5 ran every handshake in a helper that blocked in ``select()`` without a
timeout until the peer answered, freezing the whole loop (a circuits TLS
client and server in one process deadlocked). Here a handshake is a state
of the connection instead: the socket is wrapped with
``do_handshake_on_connect=False``, :func:`handshake_step` is called once,
and while OpenSSL wants to read (or write) the component watches the socket
for that and calls it again from its ``_read``/``_write`` handler. Only when
it completes does the connection become visible (server ``connect``, client
``connected``); a failure is an ``error`` event for that one connection.

Server contexts are built once, at construction, so that a certificate that
cannot be loaded is reported there rather than at the first peer.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Generator
from typing import Any

__all__ = ["do_handshake", "handshake_step", "make_context", "server_context", "wrap_socket"]


def make_context(
    keyfile: str | None = None,
    certfile: str | None = None,
    ca_certs: str | None = None,
    purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH,
    verify_mode: ssl.VerifyMode | int | None = None,
    minimum_version: int = ssl.PROTOCOL_TLS,
    check_hostname: bool | None = None,
) -> ssl.SSLContext:
    """Build the ``SSLContext`` that :func:`wrap_socket` uses (same arguments)."""
    if minimum_version != ssl.PROTOCOL_TLS:
        context = ssl.SSLContext(minimum_version)
        if purpose == ssl.Purpose.SERVER_AUTH:
            context.verify_mode = ssl.CERT_REQUIRED
            context.check_hostname = True
        if ca_certs:
            context.load_verify_locations(ca_certs)
    else:
        context = ssl.create_default_context(purpose, cafile=ca_certs)
    if check_hostname is not None:
        context.check_hostname = check_hostname
    # 3.2.5: only a truthy mode is applied, and CERT_NONE is 0 - so
    # verify_mode=CERT_NONE leaves the default context's verification on.
    if verify_mode:
        context.verify_mode = ssl.VerifyMode(verify_mode)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    return context


def wrap_socket(
    sock: Any,
    keyfile: str | None = None,
    certfile: str | None = None,
    ca_certs: str | None = None,
    purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH,
    verify_mode: ssl.VerifyMode | int | None = None,
    minimum_version: int = ssl.PROTOCOL_TLS,
    check_hostname: bool | None = None,
    **kwargs: Any,
) -> ssl.SSLSocket:
    """Wrap ``sock`` in TLS.

    Args:
        sock: the connected (or accepted) socket; it is detached into the result.
        keyfile: private key file (PEM), if not inside ``certfile``.
        certfile: certificate chain to present (servers; clients with client auth).
        ca_certs: CA file to verify the peer against (default: the system store).
        purpose: ``Purpose.SERVER_AUTH`` for clients, ``CLIENT_AUTH`` for servers.
        verify_mode: an ``ssl.CERT_*`` mode (applied only when truthy, as in 3.2.5).
        minimum_version: an ``ssl.PROTOCOL_*`` constant; ``PROTOCOL_TLS`` means
            the default context.
        check_hostname: override the context's host-name check.
        **kwargs: passed to ``SSLContext.wrap_socket`` (``server_side``,
            ``server_hostname``, ``do_handshake_on_connect``).

    Returns:
        The ``ssl.SSLSocket``.

    Raises:
        ssl.SSLError: the context cannot be built (e.g. unreadable certificate).
        OSError: a file cannot be read.
    """
    context = make_context(
        keyfile, certfile, ca_certs, purpose, verify_mode, minimum_version, check_hostname
    )
    return context.wrap_socket(sock, **kwargs)


def server_context(
    certfile: str | None,
    keyfile: str | None,
    ca_certs: str | None,
    cert_reqs: int,
    ssl_version: int,
) -> ssl.SSLContext:
    """The context of a TLS server, with an error that says which file failed.

    Raises:
        ValueError: the certificate or key cannot be loaded.
    """
    try:
        return make_context(
            keyfile,
            certfile,
            ca_certs,
            purpose=ssl.Purpose.CLIENT_AUTH,
            verify_mode=cert_reqs,
            minimum_version=ssl_version,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"TLS server: cannot load certfile={certfile!r} keyfile={keyfile!r} "
            f"ca_certs={ca_certs!r}: {exc}; expected PEM files with the certificate "
            "chain and its private key"
        ) from exc


def handshake_step(sock: ssl.SSLSocket) -> str | None:
    """Advance a non-blocking handshake once.

    Returns:
        ``None`` when the handshake is complete, else ``"read"`` or
        ``"write"``: what the socket must become before the next step.

    Raises:
        ssl.SSLError: the handshake failed (bad certificate, not TLS, ...).
        OSError: the connection failed.
    """
    try:
        sock.do_handshake()
    except ssl.SSLWantReadError:
        return "read"
    except ssl.SSLWantWriteError:
        return "write"
    return None


def do_handshake(
    sock: ssl.SSLSocket,
    on_done: Callable[..., Any] | None = None,
    on_error: Callable[[Any, ssl.SSLError], Any] | None = None,
    extra_args: tuple[Any, ...] | list[Any] | None = None,
) -> Generator[None, None, None]:
    """Drive a handshake as a generator task: yields until it completes.

    3.2.5 blocked in ``select()`` between attempts; this version never
    blocks, it yields and is retried on the next loop iteration (the socket
    components themselves use :func:`handshake_step` with the poller).

    Args:
        sock: an ``SSLSocket`` created with ``do_handshake_on_connect=False``.
        on_done: called as ``on_done(sock, *extra_args)`` on success.
        on_error: called as ``on_error(sock, err)`` when an ``SSLError`` ends it.
        extra_args: extra arguments for ``on_done``.

    Yields:
        ``None`` while the handshake waits for the peer.

    Raises:
        OSError: non-TLS errors propagate.
    """
    while True:
        try:
            if handshake_step(sock) is not None:
                yield None
                continue
        except ssl.SSLError as err:
            if on_error is not None:
                on_error(sock, err)
            return
        if on_done is not None:
            on_done(sock, *(extra_args or ()))
        return
