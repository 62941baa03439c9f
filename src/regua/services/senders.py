"""The sender threads of one drain of one channel: a channel each (a new SMTP connection when
there are several threads) and database connections each for the records, so a record costs a
transaction, not a pool checkout. Closed when the drain ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import Engine

from regua.channels.base import Channel
from regua.channels.registry import ChannelRegistry
from regua.store.sender_connections import SenderConnections


class Senders:
    """What the sender threads of one drain hold; `connections` are the database's."""

    def __init__(
        self, engine: Engine, registry: ChannelRegistry, channel: str, *, replicate: bool
    ) -> None:
        self.registry = registry
        self.name = channel
        self.replicate = replicate
        self.connections = SenderConnections(engine)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._owned: list[Channel] = []

    def channel(self) -> Channel:
        """This thread's channel: its own replica when the drain has several threads."""
        found: Channel | None = getattr(self._local, "channel", None)
        if found is None:
            if self.replicate:
                found, owned = self.registry.replica(self.name)
                if owned:
                    with self._lock:
                        self._owned.append(found)
            else:
                found = self.registry.get(self.name)
            self._local.channel = found
        return found

    def close(self) -> None:
        with self._lock:
            owned, self._owned = self._owned, []
        for channel in owned:
            closer = getattr(channel, "close", None)
            if callable(closer):
                closer()
        self.connections.close()


@contextmanager
def thread_pool(threads: int, prefix: str) -> Iterator[ThreadPoolExecutor | None]:
    """A pool of `threads` threads, or None for one thread (the work runs in the caller's)."""
    if threads <= 1:
        yield None
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=prefix) as pool:
        yield pool
