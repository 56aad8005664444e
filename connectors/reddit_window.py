"""Where a Reddit stream stands: the cursor's entry for one search, listing or inbox.

Reddit lists newest first and may list an item late (approved by a moderator,
indexed by search after a while). A stream is therefore read down to a floor
``overlap_seconds`` behind the newest ``created_utc`` already read, and the
fullnames read within that window are kept so nothing is returned twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Window:
    """One stream's place: items created before ``floor`` are behind it, and ``seen`` holds the
    items at or above it already read (by fullname, with their ``created_utc``)."""

    floor: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)
    # The time of the item read last, lent to the next one if it has no valid time of its own.
    last: float | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, mark: Mapping[str, Any] | None) -> Window:
        if not mark:
            return cls()
        if isinstance(mark["seen"], list):  # written before the overlap: the names at its newest second
            newest = float(mark["created"])
            return cls(newest, dict.fromkeys(map(str, mark["seen"]), newest))
        return cls(float(mark["floor"]), {str(name): float(at) for name, at in mark["seen"].items()})

    def newest(self) -> float:
        return max(self.seen.values(), default=self.floor)

    def add(self, key: str, created: float | None) -> bool:
        """Record an item read; false when an earlier poll read it already."""
        if created is not None:
            self.last = created
        if key in self.seen:
            return False
        self.seen[key] = self.last if self.last is not None else self.newest()
        return True

    def mark(self, *, overlap: float, keep: int) -> dict[str, Any]:
        """The cursor's entry: ``overlap`` seconds behind the newest item, at most ``keep`` names
        (more within the window raise the floor to the oldest kept, so none is read again)."""
        by_age = sorted(self.seen.items(), key=lambda item: item[1], reverse=True)
        floor = max(self.floor, self.newest() - overlap)
        if len(by_age) > keep:
            floor = max(floor, by_age[keep - 1][1])
        return {"floor": floor, "seen": {name: at for name, at in by_age if at >= floor}}
