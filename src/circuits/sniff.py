"""``python -m circuits.sniff``: the ``circuits.sniff`` command (see ``circuits._sniff``)."""

from __future__ import annotations

import sys

from ._sniff import main as main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main(prog="python -m circuits.sniff"))
