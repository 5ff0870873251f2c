"""Fast seeded sampling helpers for the generator's hot loops.

``random.choices`` and ``randint`` carry per-call overhead that dominates when
called tens of millions of times; these do the same job with one ``random()``.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed weighted distribution over items, sampled by bisection."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items: list[T] = []
        weights: list[float] = []
        for item, weight in pairs:
            if weight > 0:
                items.append(item)
                weights.append(weight)
        if not items:
            raise ValueError("a weighted choice needs at least one positive weight")
        self._items = tuple(items)
        self._cum = tuple(accumulate(weights))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> T:
        index = bisect_right(self._cum, rng.random() * self._total)
        return self._items[min(index, len(self._items) - 1)]  # float rounding at the top


def between(rng: random.Random, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi] (inclusive), like ``randint`` but cheaper."""
    return min(hi, lo + int(rng.random() * (hi - lo + 1)))
