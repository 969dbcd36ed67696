"""A least-recently-used cache bounded by the bytes of what it holds.

The graph does not change between reloads, so rendered answers can be kept; each loaded graph
gets caches of its own, so a reload empties them by replacing them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class BoundedCache:
    def __init__(self, limit_bytes: int):
        self.limit = limit_bytes
        self.size = 0
        self.entries: OrderedDict = OrderedDict()   # key -> (value, size)

    def get(self, key):
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.entries.move_to_end(key)
        return entry[0]

    def put(self, key, value, size: int) -> None:
        """Keep `value` (counted as `size` bytes) unless it alone would take over a quarter of the cache."""
        if size > self.limit // 4:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self.entries[key] = (value, size)
        self.size += size
        while self.size > self.limit:
            _, (_, dropped) = self.entries.popitem(last=False)
            self.size -= dropped


class Lazy:
    """A value computed once, on first use, by whichever request needs it first. Used for what a
    large graph makes slow to compute (the UI's bound examples, the home page's counts), so that
    a server answers queries as soon as its store is open."""

    def __init__(self, compute):
        self._compute = compute
        self._lock = threading.Lock()
        self._value = None
        self._done = False

    def get(self):
        with self._lock:
            if not self._done:
                self._value = self._compute()
                self._done = True
                self._compute = None
            return self._value
