"""The state store: private file, migrations, ledger semantics, dead letters."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from connector.errors import StateError
from connector.models import Rejection
from connector.state.store import MirrorRow, open_store
from tests.factories import person, touch


def test_database_and_its_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.db"
    store = open_store(path)
    store.start_run("sync", touch("x", 0).occurred_at)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    for side in (path.with_name("state.db-wal"), path.with_name("state.db-shm")):
        if side.exists():
            assert stat.S_IMODE(os.stat(side).st_mode) & 0o077 == 0


def test_migrations_are_applied_once_and_newer_schemas_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = open_store(path)
    version = store.schema_version
    assert version >= 1
    store.close()
    assert open_store(path).schema_version == version
    import sqlite3

    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {version + 5}")
    db.close()
    with pytest.raises(StateError, match="newer connector"):
        open_store(path)


def test_ledger_tracks_changes_and_keeps_repeat_responses(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    run1 = store.start_run("sync", touch("x", 0).occurred_at)
    counts = store.upsert_people(run1, [person("M-1"), person("M-2", "b@x.com")])
    assert (counts.new, counts.changed) == (2, 0)
    c, dups = store.upsert_touches(run1, [touch("t1", 0), touch("t2", 5)])
    assert c.new == 2 and dups == []
    run2 = store.start_run("sync", touch("x", 0).occurred_at)
    counts = store.upsert_people(run2, [person("M-1"), person("M-2", "changed@x.com")])
    assert (counts.new, counts.changed, counts.unchanged) == (0, 1, 1)
    assert store.changed_people(run2) == {"M-2"}
    assert store.people_changed_since(run1) == {"M-2"}
    assert [t.touch_id for t in store.touches_of(["M-1"])["M-1"]] == ["t1", "t2"]


def test_same_touch_id_with_other_content_in_one_run_is_a_duplicate(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    run = store.start_run("sync", touch("x", 0).occurred_at)
    store.upsert_touches(run, [touch("t1", 0)])
    _, dups = store.upsert_touches(run, [touch("t1", 0), touch("t1", 9)])
    assert [d.occurred_at for d in dups] == [touch("t1", 9).occurred_at]
    # the next run may legitimately change it (the MAP corrected the row)
    run2 = store.start_run("sync", touch("x", 0).occurred_at)
    counts, dups = store.upsert_touches(run2, [touch("t1", 9)])
    assert counts.changed == 1 and dups == []


def test_dead_letters_upsert_while_open_and_resolve(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    run = store.start_run("sync", touch("x", 0).occurred_at)
    store.add_failed_write(run, "Lead", "Lead:M-1", "M-1", "STRING_TOO_LONG", "too long", {})
    store.add_failed_write(run, "Lead", "Lead:M-1", "M-1", "STRING_TOO_LONG", "still", {})
    [dead] = store.dead_letters("failed_write")
    assert dead.attempts == 2 and dead.message == "still"
    store.add_rejection(run, Rejection(kind="touch", file="touches.csv", row=7,
                                       field="occurred_at", message="no offset"))
    assert store.dead_letter_count() == {"failed_write": 1, "rejected_input": 1}
    assert store.resolve_dead_letters(run, "failed_write", ["Lead:M-1"]) == 1
    run2 = store.start_run("sync", touch("x", 0).occurred_at)
    assert store.resolve_stale_rejections(run2) == 1
    assert store.dead_letters() == []


def test_mirror_lookups_and_patches(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    store.mirror_upsert([MirrorRow("Lead", "00Q1", {"Status": "Open"}, email="a@x.com",
                                   map_key="m-1")])
    [row] = store.mirror_by("Lead", "email", ["a@x.com"])
    assert row.fields == {"Status": "Open"}
    store.mirror_patch("Lead", [("00Q1", {"Title": "VP"}), ("00Q-unknown", {"Title": "x"})])
    assert store.mirror_get("Lead", ["00Q1"])["00Q1"].fields == {"Status": "Open",
                                                                  "Title": "VP"}
    with pytest.raises(ValueError):
        store.mirror_by("Lead", "fields; DROP TABLE people", ["x"])


def test_written_values_merge_per_record_and_survive_the_per_field_migration(
        tmp_path: Path) -> None:
    import sqlite3

    from connector.state.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)  # a store from before written values were kept per record
    for number, sql in enumerate(MIGRATIONS[:7], start=1):
        db.executescript(sql)
        db.execute(f"PRAGMA user_version = {number}")
    db.executemany("INSERT INTO written (sobject, id, field, value, run_id) VALUES "
                   "(?, ?, ?, ?, ?)", [("Lead", "00Q1", "A__c", '"x"', 1),
                                       ("Lead", "00Q1", "B__c", "null", 2),
                                       ("Lead", "00Q2", "A__c", "3.5", 1)])
    db.commit()
    db.close()
    store = open_store(path)
    assert store.written("Lead", ["00Q1", "00Q2", "00Q3"]) == {
        "00Q1": {"A__c": "x", "B__c": None}, "00Q2": {"A__c": 3.5}}
    store.set_written(3, "Lead", [("00Q1", "A__c", "y"), ("00Q3", "C__c", 1)])
    assert store.written("Lead", ["00Q1", "00Q3"]) == {
        "00Q1": {"A__c": "y", "B__c": None}, "00Q3": {"C__c": 1}}
    assert store.written("Contact", ["00Q1"]) == {}
