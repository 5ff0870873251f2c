"""Reading the MAP into the ledger: rejections are batched with the records, yet
kept in read order and kept when the read fails part way."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import connector.run.sync as sync_module
from connector.config import (
    ConnectorSettings,
    HubSpotSettings,
    MapSettings,
    MarketoSettings,
    SalesforceSettings,
    Settings,
)
from connector.errors import SourceError
from connector.mappings import Mappings
from connector.models import Origin, Person, Program, Rejection, Touch
from connector.run.sync import LEDGER_BATCH, Sync, SyncOptions, fewer_gc_passes
from connector.sources.base import ReaderState, SourceItem
from connector.state.store import StateStore

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        salesforce=SalesforceSettings(_env_file=None, instance_url="https://org.invalid",
                                      login_url="https://org.invalid", client_id="c",
                                      client_secret="s"),
        map=MapSettings(_env_file=None, kind="files", files_dir=tmp_path),
        marketo=MarketoSettings(_env_file=None), hubspot=HubSpotSettings(_env_file=None),
        connector=ConnectorSettings(_env_file=None, state=tmp_path / "state.db"))


def rejection(n: int) -> Rejection:
    return Rejection(kind="person", record_id=f"R{n}", file="people.csv", row=n + 1,
                     field="email", message=f"bad row {n}", raw={"map_id": f"R{n}"})


def touch(touch_id: str, row: int, touch_type: str = "web_visit") -> Touch:
    return Touch(touch_id=touch_id, map_id="M1", touch_type=touch_type,
                 occurred_at=AS_OF, channel="Website", channel_rule="default_channel",
                 is_response=False, is_conversion=False,
                 origin=Origin(kind="files", file="touches.csv", row=row))


class ScriptedReader(ReaderState):
    """Yields the given items, then raises ``fail`` if one is given."""

    def __init__(self, items: list[SourceItem], fail: Exception | None = None) -> None:
        super().__init__("files")
        self._items = items
        self._fail = fail

    def read(self, checkpoint: Mapping[str, Any] | None,
             known_programs: Mapping[str, Program]) -> Iterator[SourceItem]:
        yield from self._items
        self._checkpoint = {"kind": "files", "version": 1, "files": {}}
        if self._fail is not None:
            raise self._fail


def read_into_ledger(tmp_path: Path, mappings: Mappings, monkeypatch: pytest.MonkeyPatch,
                     reader: ScriptedReader) -> tuple[StateStore, dict[str, Any]]:
    monkeypatch.setattr(sync_module, "open_source", lambda *a, **k: reader)
    store = StateStore(tmp_path / "state.db")
    run_id = store.start_run("sync", AS_OF)
    result = Sync(_settings(tmp_path), mappings, store)._read_map(
        run_id, SyncOptions(as_of=AS_OF))
    return store, result


def refs(store: StateStore) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT ref FROM dead_letters ORDER BY id")]


def test_rejections_and_duplicate_touches_are_kept_in_read_order(
        tmp_path: Path, mappings: Mappings, monkeypatch: pytest.MonkeyPatch) -> None:
    items: list[SourceItem] = [
        Person(map_id="M1"), rejection(1), touch("T1", 2), rejection(2),
        touch("T1", 3, "form_fill"), rejection(3)]
    store, result = read_into_ledger(tmp_path, mappings, monkeypatch, ScriptedReader(items))
    assert refs(store) == [
        "person:people.csv:2:R1:email", "person:people.csv:3:R2:email",
        "person:people.csv:4:R3:email", "touch:touches.csv:3:T1:touch_id"]
    assert result["counts"]["rejected"] == 4
    assert result["counts"]["touches_new"] == 1


def test_rejections_read_before_a_failure_are_kept(
        tmp_path: Path, mappings: Mappings, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = ScriptedReader([rejection(1), Person(map_id="M1"), rejection(2)],
                            fail=SourceError("the export vanished"))
    with pytest.raises(SourceError):
        read_into_ledger(tmp_path, mappings, monkeypatch, reader)
    store = StateStore(tmp_path / "state.db")
    assert refs(store) == ["person:people.csv:2:R1:email", "person:people.csv:3:R2:email"]
    assert store.people_count() == 0  # records of an unfinished batch are not kept, as ever


def test_more_rejections_than_a_batch_are_all_kept_in_order(
        tmp_path: Path, mappings: Mappings, monkeypatch: pytest.MonkeyPatch) -> None:
    count = LEDGER_BATCH * 2 + 7
    store, result = read_into_ledger(
        tmp_path, mappings, monkeypatch,
        ScriptedReader([rejection(n) for n in range(count)]))
    assert result["counts"]["rejected"] == count
    assert refs(store) == [f"person:people.csv:{n + 1}:R{n}:email" for n in range(count)]


def ledger_rows(store: StateStore, table: str, key: str) -> dict[str, tuple[Any, ...]]:
    return {r[0]: tuple(r) for r in store.db.execute(f"SELECT * FROM {table} ORDER BY {key}")}


def test_a_second_read_moves_only_data_and_seen_run_of_unchanged_records(
        tmp_path: Path) -> None:
    """Unchanged records (same hash, another row of the file) keep every column but
    the stored JSON (its origin) and seen_run; changed ones are rewritten whole."""
    store = StateStore(tmp_path / "state.db")
    first = store.start_run("sync", AS_OF)
    people = [Person(map_id="A", email="a@x.com", origin=Origin(kind="files", row=2)),
              Person(map_id="B", email="b@x.com", origin=Origin(kind="files", row=3))]
    touches = [touch("T1", 2), touch("T2", 3)]
    programs = [Program(program_id="P1", name="One", origin=Origin(kind="files", row=2))]
    with store.transaction():
        store.upsert_programs(first, programs)
        store.upsert_people(first, people)
        store.upsert_touches(first, touches)
    before = {t: ledger_rows(store, t, k) for t, k in
              (("people", "map_id"), ("touches", "touch_id"), ("programs", "program_id"))}

    second = store.start_run("sync", AS_OF)
    moved = Origin(kind="files", row=9)
    with store.transaction():
        c = store.upsert_programs(second, [programs[0].model_copy(update={"origin": moved})])
        assert (c.new, c.changed, c.unchanged) == (0, 0, 1)
        c = store.upsert_people(second, [
            people[0].model_copy(update={"origin": moved}),
            people[1].model_copy(update={"email": "b2@x.com"})])
        assert (c.new, c.changed, c.unchanged) == (0, 1, 1)
        c, _ = store.upsert_touches(second, [
            touches[0].model_copy(update={"origin": moved}),
            touches[1].model_copy(update={"touch_type": "form_fill"})])
        assert (c.new, c.changed, c.unchanged) == (0, 1, 1)

    people_now = ledger_rows(store, "people", "map_id")
    # map_id, email, email_valid, data, hash, first_run, seen_run, changed_run
    a_before, a_now = before["people"]["A"], people_now["A"]
    assert a_now[:3] == a_before[:3] and a_now[4:6] == a_before[4:6]
    assert json.loads(a_now[3])["origin"]["row"] == 9
    assert (a_now[6], a_now[7]) == (second, first)
    assert people_now["B"][1] == "b2@x.com" and people_now["B"][6:] == (second, second)

    touches_now = ledger_rows(store, "touches", "touch_id")
    # touch_id, map_id, program_id, touch_type, occurred_at, is_response, data, hash,
    # seen_run, changed_run, then (added later) url ... is_conversion
    t1_before, t1_now = before["touches"]["T1"], touches_now["T1"]
    assert t1_now[:6] == t1_before[:6] and t1_now[7] == t1_before[7]
    assert t1_now[10:] == t1_before[10:]
    assert json.loads(t1_now[6])["origin"]["row"] == 9
    assert t1_now[8:10] == (second, first)
    assert touches_now["T2"][3] == "form_fill" and touches_now["T2"][8:10] == (second, second)

    program_now = ledger_rows(store, "programs", "program_id")["P1"]
    assert json.loads(program_now[1])["origin"]["row"] == 9
    assert program_now[2:] == (before["programs"]["P1"][2], second, first)


def test_a_repeated_id_in_one_batch_keeps_its_upserts_in_order(tmp_path: Path) -> None:
    """A MAP may send a person twice in one batch: the last version wins, as ever."""
    store = StateStore(tmp_path / "state.db")
    first = store.start_run("sync", AS_OF)
    with store.transaction():
        store.upsert_people(first, [Person(map_id="A", email="a@x.com")])
    second = store.start_run("sync", AS_OF)
    with store.transaction():
        store.upsert_people(second, [Person(map_id="A", email="new@x.com"),
                                     Person(map_id="A", email="a@x.com")])
    row = ledger_rows(store, "people", "map_id")["A"]
    assert row[1] == "a@x.com" and json.loads(row[3])["email"] == "a@x.com"
    assert row[6:] == (second, second)  # it changed in between


@pytest.mark.parametrize("before", [(700, 10, 10), (100_000, 5, 5)], ids=["default", "higher"])
def test_fewer_gc_passes_raises_the_threshold_for_a_while_only(
        before: tuple[int, int, int]) -> None:
    saved = gc.get_threshold()
    gc.set_threshold(*before)
    try:
        with pytest.raises(RuntimeError), fewer_gc_passes(50_000):
            assert gc.get_threshold() == (max(before[0], 50_000), *before[1:])
            raise RuntimeError("the read failed")
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*saved)
