"""Nodes: run events in other processes and on other machines.

``Node`` (``circuits.node.node``) connects a component tree to other nodes,
over TCP with the 3.2.5 wire format (``node.server``, ``node.client``,
``node.protocol``, ``node.utils``) or through a shared engine chosen by URL
(``redis://``, ``nats://``). The events are in ``circuits.node.events``.
"""

from __future__ import annotations

from ._envelope import RemoteError as RemoteError
from ._transport import BufferFull as BufferFull, TransportError as TransportError
from .events import broadcast as broadcast, remote as remote, to_group as to_group
from .node import Node as Node

__all__ = ["BufferFull", "Node", "RemoteError", "TransportError", "broadcast", "remote", "to_group"]
