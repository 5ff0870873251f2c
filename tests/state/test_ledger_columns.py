"""The ledger's touch columns: what ``touches_of`` hands the engines equals the
fields of the Touch that was stored, whether written now or migrated from a
database that only held the JSON."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from connector.models import Origin, Touch
from connector.state.ledger import _data_and_hash
from connector.state.migrations import MIGRATIONS
from connector.state.store import StateStore, open_store
from connector.values import TouchFacts
from tests.factories import T0, person, program, touch

PLUS_2 = timezone(timedelta(hours=2))
MINUS_0530 = timezone(-timedelta(hours=5, minutes=30))


def _touch(**kw: Any) -> Touch:
    base: dict[str, Any] = dict(touch_id="T-1", map_id="M-1", touch_type="form_fill",
                                occurred_at=T0, channel="Paid Search", channel_rule="utm",
                                is_response=True, is_conversion=False)
    return Touch(**{**base, **kw})


ROUND_TRIPS = [
    pytest.param(_touch(program_id="P-1", url="https://acme.com/pricing?utm_source=g",
                        referrer="https://www.google.com/", utm_source="google",
                        utm_medium="cpc", utm_campaign="spring", utm_content="ad-2",
                        utm_term="crm software", extra={"score": 3},
                        origin=Origin(kind="files", file="touches.csv", row=7)),
                 id="every-field"),
    pytest.param(_touch(), id="optional-fields-none"),
    pytest.param(_touch(program_id="", url="", referrer="", utm_source="", utm_medium="",
                        utm_campaign="", utm_content="", utm_term="", channel="",
                        channel_rule=""), id="blank-strings-stay-blank"),
    pytest.param(_touch(url='https://x.com/?q="a",b\\c', utm_campaign='x,"origin":{"kind"',
                        utm_term="café – 日本 \u0000 end", referrer="\n\t"),
                 id="quotes-escapes-unicode-nul"),
    pytest.param(_touch(url="https://x.com/a\\u0000b", utm_source="\\\x00\\", utm_medium="\x00",
                        utm_content="\ufffd\x01"),
                 id="escaped-backslash-before-nul-text"),
    pytest.param(_touch(is_response=False, is_conversion=False), id="neither"),
    pytest.param(_touch(is_response=False, is_conversion=True), id="conversion-only"),
    pytest.param(_touch(is_response=True, is_conversion=True), id="response-and-conversion"),
    pytest.param(_touch(occurred_at=datetime(2026, 3, 1, 1, 30, tzinfo=PLUS_2)),
                 id="aware-offset-becomes-utc"),
    pytest.param(_touch(occurred_at=datetime(2025, 12, 31, 23, 59, 59, 999999,
                                             tzinfo=MINUS_0530)),
                 id="negative-offset-microseconds-crosses-the-year"),
    pytest.param(_touch(occurred_at="2026-01-05T09:00:00Z"), id="iso-text-with-z"),
    pytest.param(_touch(occurred_at=datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC)),
                 id="before-the-epoch"),
]


@pytest.mark.parametrize("stored", ROUND_TRIPS)
def test_touches_of_returns_every_engine_field_from_the_columns(tmp_path: Path,
                                                               stored: Touch) -> None:
    store = open_store(tmp_path / "s.db")
    run = store.start_run("sync", T0)
    store.upsert_touches(run, [stored])
    [facts] = store.touches_of([stored.map_id])[stored.map_id]
    assert isinstance(facts, TouchFacts)
    assert facts == TouchFacts.of(stored)
    assert facts.order_key == stored.order_key
    assert facts.occurred_at.utcoffset() == timedelta(0)
    assert facts.occurred_at.isoformat() == stored.occurred_at.isoformat()
    assert type(facts.is_response) is bool and type(facts.is_conversion) is bool
    # the columns agree with the JSON kept beside them (extra and origin live there only)
    data = store.db.execute("SELECT data FROM touches WHERE touch_id = ?",
                            (stored.touch_id,)).fetchone()[0]
    assert Touch.model_validate_json(data) == stored


def test_a_naive_time_never_reaches_the_ledger() -> None:
    """The model refuses a time without a zone (sources attach the MAP's zone first),
    so the columns only ever hold UTC times."""
    with pytest.raises(ValidationError, match="timezone"):
        _touch(occurred_at=datetime(2026, 1, 5, 9, 0))


def test_a_changed_touch_moves_its_columns_and_an_unchanged_one_keeps_them(
        tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    first = _touch(utm_source="google", is_conversion=False)
    store.upsert_touches(store.start_run("sync", T0), [first])
    changed = _touch(utm_source=None, channel="Organic Search", is_conversion=True,
                     occurred_at=T0 + timedelta(hours=1))
    run2 = store.start_run("sync", T0)
    counts, _ = store.upsert_touches(run2, [changed])
    assert counts.changed == 1
    assert store.touches_of(["M-1"])["M-1"] == [TouchFacts.of(changed)]
    assert store.changed_people(run2) == {"M-1"}
    run3 = store.start_run("sync", T0)
    counts, _ = store.upsert_touches(run3, [changed.model_copy(
        update={"origin": Origin(kind="files", file="b.csv", row=2)})])
    assert counts.unchanged == 1
    assert store.touches_of(["M-1"])["M-1"] == [TouchFacts.of(changed)]
    assert store.changed_people(run3) == set()


# ------------------------------------------------------------------ property

_optional = st.none() | st.text(max_size=12)
_times = st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1),
                      timezones=st.sampled_from([UTC, PLUS_2, MINUS_0530]))


@st.composite
def _touches(draw: st.DrawFn) -> list[Touch]:
    ids = draw(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=8,
                        unique=True))
    return [Touch(touch_id=touch_id, map_id=draw(st.sampled_from(["M-1", "M-2", "m,1"])),
                  program_id=draw(_optional), touch_type=draw(st.text(max_size=10)),
                  occurred_at=draw(_times), url=draw(_optional), referrer=draw(_optional),
                  utm_source=draw(_optional), utm_medium=draw(_optional),
                  utm_campaign=draw(_optional), utm_content=draw(_optional),
                  utm_term=draw(_optional), channel=draw(st.text(max_size=10)),
                  channel_rule=draw(st.text(max_size=10)), is_response=draw(st.booleans()),
                  is_conversion=draw(st.booleans()),
                  extra=draw(st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
            for touch_id in ids]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_touches(), second=_touches())
def test_touches_of_equals_the_stored_touches_fields(first: list[Touch],
                                                     second: list[Touch]) -> None:
    """Two runs; the second may rewrite some of the first's touches: every
    person gets the facts of their latest touches, by time then touch id."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "s.db")
        store.upsert_touches(store.start_run("sync", T0), first)
        store.upsert_touches(store.start_run("sync", T0), second)
        latest = {t.touch_id: t for t in [*first, *second]}
        want: dict[str, list[TouchFacts]] = {}
        for t in sorted(latest.values(), key=lambda t: t.order_key):
            want.setdefault(t.map_id, []).append(TouchFacts.of(t))
        assert store.touches_of(["M-1", "M-2", "m,1", "nobody"]) == want
        store.close()


# ------------------------------------------------------------------ migration

def _old_store(path: Path, touches: list[Touch]) -> None:
    """A state database as schema 9 left it: touch fields only in the JSON."""
    db = sqlite3.connect(path)
    for number, sql in enumerate(MIGRATIONS[:9], start=1):
        db.executescript(sql)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute("INSERT INTO runs (kind, started_at, finished_at, as_of, status) "
               "VALUES ('sync', ?, ?, ?, 'ok')", (T0.isoformat(),) * 3)  # run 1
    for t in touches:
        data, digest = _data_and_hash(t)
        db.execute("INSERT INTO touches (touch_id, map_id, program_id, touch_type, "
                   "occurred_at, is_response, data, hash, seen_run, changed_run) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1)",
                   (t.touch_id, t.map_id, t.program_id, t.touch_type,
                    t.occurred_at.isoformat(timespec="microseconds"), int(t.is_response),
                    data, digest))
    db.commit()
    db.close()


def test_migration_fills_the_touch_columns_from_the_stored_json(tmp_path: Path) -> None:
    stored = [p.values[0].model_copy(update={"touch_id": f"T-{i}", "map_id": f"M-{i % 3}"})
              for i, p in enumerate(ROUND_TRIPS)]
    path = tmp_path / "old.db"
    _old_store(path, stored)
    store = open_store(path)
    assert store.schema_version == len(MIGRATIONS)
    got = store.touches_of(["M-0", "M-1", "M-2"])
    for t in stored:
        assert TouchFacts.of(t) in got[t.map_id], t.touch_id
    assert sum(map(len, got.values())) == len(stored)
    # the hash stayed what the old version stored: the same touches are unchanged
    run = store.start_run("sync", T0)
    counts, dups = store.upsert_touches(run, stored)
    assert (counts.unchanged, counts.changed, counts.new, dups) == (len(stored), 0, 0, [])
    assert store.changed_people(run) == set()


def test_a_migrated_touch_that_cannot_be_decoded_in_sql_is_rewritten_on_its_next_read(
        tmp_path: Path) -> None:
    """A NUL beside a raw U+FFFF: the migration clears the hash instead of
    guessing, so the next read stores the touch again, columns and all."""
    odd = _touch(utm_term="a\x00b", utm_content="\uffff")
    path = tmp_path / "old.db"
    _old_store(path, [odd, _touch(touch_id="T-2")])
    store = open_store(path)
    run = store.start_run("sync", T0)
    counts, _ = store.upsert_touches(run, [odd, _touch(touch_id="T-2")])
    assert (counts.changed, counts.unchanged) == (1, 1)
    assert store.touches_of(["M-1"])["M-1"] == [TouchFacts.of(odd),
                                                TouchFacts.of(_touch(touch_id="T-2"))]


def test_migrating_an_empty_touches_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_store(path, [])
    store = open_store(path)
    assert store.touches_of(["M-1"]) == {}
    store.upsert_touches(store.start_run("sync", T0), [touch("t1", 0)])
    assert [f.touch_id for f in store.touches_of(["M-1"])["M-1"]] == ["t1"]


# ------------------------------------------------------------------ people, programs

def _rows(store: StateStore, table: str) -> list[tuple[Any, ...]]:
    return list(store.db.execute(f"SELECT * FROM {table} ORDER BY 1"))


LEDGER_RUNS = [
    pytest.param([["M-1", "M-2"], ["M-1", "M-2"]], [(2, 0, 0), (0, 0, 2)], 0, id="unchanged"),
    pytest.param([["M-1"], ["M-1*"]], [(1, 0, 0), (0, 1, 0)], 1, id="changed"),
    pytest.param([["M-1", "M-1*"]], [(2, 0, 0)], 0, id="repeated-in-one-batch-last-wins"),
    # the repeat is applied in order: changed, then back (so it changed in run 2)
    pytest.param([["M-1"], ["M-1*", "M-1"]], [(1, 0, 0), (0, 1, 1)], 1,
                 id="repeated-back-to-unchanged"),
]


@pytest.mark.parametrize(("batches", "counts", "changed_in"), LEDGER_RUNS)
def test_people_and_programs_track_runs_the_same_way(
        tmp_path: Path, batches: list[list[str]], counts: list[tuple[int, int, int]],
        changed_in: int) -> None:
    """``*`` marks a changed record. ``first_run`` stays, ``seen_run`` moves each
    run, ``changed_run`` only when the content changed (repeated keys in a batch
    are applied in order)."""
    store = open_store(tmp_path / "s.db")
    runs = []
    for batch, want in zip(batches, counts, strict=True):
        run = store.start_run("sync", T0)
        runs.append(run)
        people = [person(k.rstrip("*"), "changed@x.com" if k.endswith("*") else "a@x.com")
                  for k in batch]
        programs = [program(k.rstrip("*"), name="changed" if k.endswith("*") else "first")
                    for k in batch]
        for got in (store.upsert_people(run, people), store.upsert_programs(run, programs)):
            assert (got.new, got.changed, got.unchanged) == want
    starred = batches[-1][-1].endswith("*")
    [(map_id, email, valid, _data, _hash, first, seen, changed)] = [
        r for r in _rows(store, "people") if r[0] == "M-1"]
    assert (map_id, email, valid) == ("M-1", "changed@x.com" if starred else "a@x.com", 1)
    assert (first, seen, changed) == (runs[0], runs[-1], runs[changed_in])
    [(program_id, _data, _hash, seen, changed)] = [
        r for r in _rows(store, "programs") if r[0] == "M-1"]
    assert (program_id, seen, changed) == ("M-1", runs[-1], runs[changed_in])
    assert store.programs()["M-1"].name == ("changed" if starred else "first")
