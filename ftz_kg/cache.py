"""A least-recently-used cache bounded by the bytes of what it holds.

The graph does not change between reloads, so rendered answers can be kept; each loaded graph
gets caches of its own, so a reload empties them by replacing them.
"""

from __future__ import annotations

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
