"""The ``circuits.sniff`` command: print a running app's events live.

The app opts in by registering ``circuits.tools.Inspector``; this command
connects to its socket, asks for the events matching ``--name``/``--channel``
and prints one line per event (time, channels, name, args) until interrupted.
A note that it is attached, and any "dropped N" report (the app outran us),
go to stderr so stdout carries events only.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .tools._remote import InspectorError, connect, find_socket, lines

__all__ = ["main"]


def _parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Print the events of a running circuits app (with an Inspector)."
    )
    p.add_argument("--name", "-n", action="append", default=[], help="only events named NAME")
    p.add_argument("--channel", "-c", action="append", default=[], help="only events on CH")
    p.add_argument("target", nargs="?", metavar="SOCKET_OR_PID", help="default: the only app")
    return p


def _format(event: dict[str, Any]) -> str:
    t = float(event["time"])
    stamp = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"
    channels = ",".join(event["channels"])
    return f"{stamp} {channels} {event['name']} {event['args']}"


def main(argv: list[str] | None = None, prog: str = "circuits.sniff") -> int:
    """Run the sniffer.

    Args:
        argv: the command-line arguments (default: ``sys.argv[1:]``).
        prog: the command name shown in usage and errors.

    Returns:
        The exit status: 0 when the app goes away or on Ctrl-C, 1 on errors.
    """
    opts = _parser(prog).parse_args(argv)
    try:
        path = find_socket(opts.target)
        sock = connect(path, {"cmd": "sniff", "names": opts.name, "channels": opts.channel})
        sock.settimeout(None)  # events may be rare: wait for them as long as it takes
        with sock:
            for message in lines(sock):
                if "ok" in message:
                    print(f"{prog}: attached to {path}", file=sys.stderr, flush=True)
                elif "dropped" in message:
                    print(f"{prog}: dropped {message['dropped']}", file=sys.stderr, flush=True)
                elif "event" in message:
                    print(_format(message["event"]), flush=True)
    except InspectorError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
