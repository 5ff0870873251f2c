"""Benchmark reading the ledger's touches: columns into ``TouchFacts`` (what
``LedgerStore.touches_of`` does) against re-validating each stored touch's JSON
with pydantic (what it did before the touch columns were added).

Fills a fresh state database with PEOPLE people x 10 touches through
``upsert_touches`` (in one run, 20,000 touches per call), then reads every
person's touches in batches of 2,000 people (the planner's gather batch), both
ways, alternating, REPEATS times; prints the median of each, per touch, and the
ratio. Both ways run the same SQL shape (same index, same order); only the
columns read and how a row becomes a value differ. The first batch of both
ways is checked to hold the same touches. A third line times the columns
query alone (rows fetched, nothing built): the floor under the new way.

Usage: ``.venv/bin/python scripts/bench_ledger_read.py [PEOPLE] [REPEATS]``
(default 100000 5).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connector.models import Touch
from connector.state.ledger import _TOUCH_COLUMNS
from connector.state.store import StateStore, open_store
from connector.values import TouchFacts

TOUCHES_EACH = 10
BATCH = 2_000
WRITE_BATCH = 20_000
START = datetime(2024, 1, 1, tzinfo=UTC)
TYPES = ["web_visit", "email_open", "email_click", "form_fill", "content_download",
         "webinar_registered", "webinar_attended", "ad_click", "demo_request"]
CHANNELS = ["Website", "Email", "Paid Search", "Webinar", "Content Syndication", "Event"]
PAGES = ["/", "/product", "/pricing", "/customers", "/blog/lead-scoring", "/about"]


def touches(people: int, rng: random.Random) -> Iterator[Touch]:
    for p in range(people):
        map_id = f"M-{p:07d}"
        for k in range(TOUCHES_EACH):
            paid = rng.random() < 0.3
            yield Touch(
                touch_id=f"T-{p:07d}-{k}", map_id=map_id,
                program_id=f"P-{rng.randrange(200)}" if rng.random() < 0.4 else None,
                touch_type=rng.choice(TYPES),
                occurred_at=START + timedelta(seconds=rng.randrange(2 * 365 * 86_400)),
                url=f"https://acme.example{rng.choice(PAGES)}" if rng.random() < 0.6 else None,
                referrer="https://www.google.com/" if rng.random() < 0.2 else None,
                utm_source="google" if paid else None, utm_medium="cpc" if paid else None,
                utm_campaign=f"spring-{rng.randrange(20)}" if paid else None,
                channel=rng.choice(CHANNELS), channel_rule="utm" if paid else "touch_type",
                is_response=rng.random() < 0.3, is_conversion=rng.random() < 0.05)


def fill(store: StateStore, people: int) -> None:
    run = store.start_run("sync", START)
    buffer: list[Touch] = []
    with store.transaction():
        for t in touches(people, random.Random(7)):
            buffer.append(t)
            if len(buffer) == WRITE_BATCH:
                store.upsert_touches(run, buffer)
                buffer = []
        if buffer:
            store.upsert_touches(run, buffer)


def by_json(store: StateStore, map_ids: Iterable[str]) -> dict[str, list[Touch]]:
    """The reader before the touch columns, verbatim."""
    out: dict[str, list[Touch]] = {}
    for map_id, data in store._in(
            "SELECT map_id, data FROM touches WHERE map_id IN ({in}) "
            "ORDER BY map_id, occurred_at, touch_id", list(map_ids)):
        out.setdefault(map_id, []).append(Touch.model_validate_json(data))
    return out


def rows_only(store: StateStore, map_ids: list[str]) -> int:
    """The columns query alone, rows fetched and dropped: the SQL floor of the new way."""
    return sum(1 for _ in store._in(
        f"SELECT {', '.join(_TOUCH_COLUMNS)} FROM touches WHERE map_id IN ({{in}}) "
        "ORDER BY map_id, occurred_at, touch_id", map_ids))


def count(found: dict[str, list[Touch]] | dict[str, list[TouchFacts]]) -> int:
    return sum(len(v) for v in found.values())


def timed(read: Callable[[list[str]], int], batches: list[list[str]]) -> tuple[float, int]:
    total = 0
    start = time.perf_counter()
    for batch in batches:
        total += read(batch)
    return time.perf_counter() - start, total


def main() -> int:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "state.db")
        start = time.perf_counter()
        fill(store, people)
        print(f"filled {people:,} people x {TOUCHES_EACH} touches in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        map_ids = [f"M-{p:07d}" for p in range(people)]
        batches = [map_ids[i:i + BATCH] for i in range(0, len(map_ids), BATCH)]
        first = batches[0]
        old, new = by_json(store, first), store.touches_of(first)
        assert {m: [TouchFacts.of(t) for t in ts] for m, ts in old.items()} == new, \
            "the two readers disagree"
        times: dict[str, list[float]] = {"old": [], "new": [], "floor": []}
        readers: dict[str, Callable[[list[str]], int]] = {
            "old": lambda b: count(by_json(store, b)),
            "new": lambda b: count(store.touches_of(b)),
            "floor": lambda b: rows_only(store, b)}
        for _ in range(repeats):  # alternating, so load on the machine hits each alike
            for name, read in readers.items():
                seconds, total = timed(read, batches)
                assert total == people * TOUCHES_EACH
                times[name].append(seconds)
        store.close()
    old_s, new_s, floor_s = (statistics.median(times[k]) for k in ("old", "new", "floor"))
    print(f"touches read: {total:,} of {people:,} people in batches of {BATCH:,}, "
          f"median of {repeats}")
    for label, seconds in (("JSON + model_validate_json", old_s),
                           ("columns -> TouchFacts", new_s),
                           ("(columns query, rows only)", floor_s)):
        print(f"  {label:<27} {seconds:7.2f} s  ({seconds / total * 1e6:.2f} us/touch)")
    print(f"  ratio old/new: {old_s / new_s:.2f}x (the new way spends "
          f"{(new_s - floor_s) / total * 1e6:.2f} us/touch beyond fetching its rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
