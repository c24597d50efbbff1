"""``python -m circuits COMMAND``: ``inspect`` a running app; ``sniff`` and ``bench`` too.

``inspect`` prints the component tree and handler table of an app that
registered ``circuits.tools.Inspector`` (``--dot``: a Graphviz digraph);
``sniff`` and ``bench`` are the ``circuits.sniff`` and ``circuits.bench`` commands.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]

USAGE = "usage: python -m circuits {inspect,sniff,bench} [ARGS ...]"


def inspect_main(argv: list[str], prog: str = "python -m circuits inspect") -> int:
    """Print a running app's tree and handler table.

    Returns:
        The exit status: 0, or 1 when the app cannot be reached.
    """
    from .tools._remote import InspectorError, find_socket, request

    p = argparse.ArgumentParser(
        prog=prog, description="Print a running app's tree and handler table."
    )
    p.add_argument("--dot", action="store_true", help="print a Graphviz digraph of the tree")
    p.add_argument("target", nargs="?", metavar="SOCKET_OR_PID", help="default: the only app")
    opts = p.parse_args(argv)
    try:
        path = find_socket(opts.target)
        answer = request(path, {"cmd": "tree", "format": "dot" if opts.dot else "ascii"})
    except InspectorError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(str(answer.get("text", "")))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``python -m circuits`` to its subcommand.

    Returns:
        The subcommand's exit status; 2 for an unknown or missing command.
    """
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not args else sys.stdout)
        return 2 if not args else 0
    cmd, rest = args[0], args[1:]
    if cmd == "inspect":
        return inspect_main(rest)
    if cmd == "sniff":
        from ._sniff import main as sniff_main

        return sniff_main(rest, prog="python -m circuits sniff")
    if cmd == "bench":
        from ._bench import main as bench_main

        return bench_main(rest)
    print(f"{USAGE}\nunknown command {cmd!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
