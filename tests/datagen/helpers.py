"""Reading generated touches the way the connector will: parsed, with defects set aside."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from connector.normalize import parse_timestamp
from tests.datagen.conftest import Dataset


@dataclass(frozen=True)
class ParsedTouch:
    touch_id: str
    map_id: str
    program_id: str
    touch_type: str
    at: datetime
    raw: dict[str, str]


def dirty_map_ids(data: Dataset) -> set[str]:
    """People with any deliberately defective touch row."""
    programs = {p["program_id"] for p in data.programs}
    ids = Counter(t["touch_id"] for t in data.touches)
    dirty = set()
    for t in data.touches:
        if ids[t["touch_id"]] > 1 or (t["program_id"] and t["program_id"] not in programs):
            dirty.add(t["map_id"])
            continue
        try:
            parse_timestamp(t["occurred_at"])
        except ValueError:
            dirty.add(t["map_id"])
    return dirty


def lenient_time(text: str) -> datetime:
    """A timestamp as written, a naive one read as UTC wall time."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def touches_by_person(data: Dataset) -> dict[str, list[ParsedTouch]]:
    """Every touch row (defective ones too), per person, ordered by (time, id)."""
    if "all" in data.cache:
        return dict(data.cache["all"])
    by_person: defaultdict[str, list[ParsedTouch]] = defaultdict(list)
    for t in data.touches:
        by_person[t["map_id"]].append(ParsedTouch(t["touch_id"], t["map_id"], t["program_id"],
                                                  t["touch_type"], lenient_time(t["occurred_at"]),
                                                  t))
    for touches in by_person.values():
        touches.sort(key=lambda x: (x.at, x.touch_id))
    data.cache["all"] = dict(by_person)
    return dict(by_person)


def clean_touches_by_person(data: Dataset) -> dict[str, list[ParsedTouch]]:
    """Touches of people without defective touch rows, ordered by (time, id)."""
    if "clean" in data.cache:
        return dict(data.cache["clean"])
    dirty = dirty_map_ids(data)
    by_person: defaultdict[str, list[ParsedTouch]] = defaultdict(list)
    for t in data.touches:
        if t["map_id"] in dirty:
            continue
        at = parse_timestamp(t["occurred_at"])
        assert at is not None
        by_person[t["map_id"]].append(ParsedTouch(t["touch_id"], t["map_id"], t["program_id"],
                                                  t["touch_type"], at, t))
    for touches in by_person.values():
        touches.sort(key=lambda x: (x.at, x.touch_id))
    data.cache["clean"] = dict(by_person)
    return dict(by_person)
