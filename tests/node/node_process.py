"""A circuits Node in a process of its own, for tests/node (run by `brokers.NodeProcess`).

Usage: ``python node_process.py URL NAME [--group G]... [--block I]...``

It prints one line per fact, flushed at once, so the test can follow it:
``ready`` once the transport is connected, ``got I`` when a ``job(I)`` starts,
``done I`` when it ends (jobs given with ``--block`` never end: they stay
unacknowledged until the process dies), ``note TEXT`` for each ``note`` (spaces in TEXT as ``_``).
``hello(x)`` answers ``"NAME: Hi x"``; ``boom()`` raises ``ValueError``.
"""

from __future__ import annotations

import argparse

from circuits import Component, Manager, handler, sleep
from circuits.node import Node

BLOCK_S = 60.0  # longer than any test: a blocked job ends only with the process


class Worker(Component):
    channel = "app"

    def init(self, name: str, block: set[int]) -> None:
        self.node_name = name
        self.block = block

    def hello(self, x: object) -> str:
        return f"{self.node_name}: Hi {x}"

    def boom(self) -> None:
        raise ValueError("no way")

    def note(self, text: str) -> None:
        print("note", text.replace(" ", "_"), flush=True)

    async def job(self, i: int) -> int:
        print("got", i, flush=True)
        if i in self.block:
            await sleep(BLOCK_S)
        print("done", i, flush=True)
        return i

    @handler("connected_to", channel="node")
    def _ready(self, *args: object) -> None:
        print("ready", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("name")
    parser.add_argument("--group", action="append", default=[])
    parser.add_argument("--block", action="append", type=int, default=[])
    args = parser.parse_args()
    m = Manager()
    Node(url=args.url, name=args.name, groups=args.group).register(m)
    Worker(args.name, set(args.block)).register(m)
    m.run()


if __name__ == "__main__":
    main()
