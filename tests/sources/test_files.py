"""The file export: the bad-input battery, header errors, formats, and incremental reads."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from connector.errors import ConfigError, SourceFormatError
from connector.mappings import Mappings
from connector.models import Person, Program, Rejection, TargetAccount, Touch
from connector.sources.base import StreamStatus
from connector.sources.files import FileExportReader
from tests.sources.conftest import AS_OF

PROGRAMS = "program_id,name,channel,cost\n2001,Webinar A,webinar,1200\n"
PEOPLE = "map_id,email,created_at\n1,ana@acme.io,2024-01-01T00:00:00Z\n"
TOUCH_HEADER = "touch_id,map_id,program_id,touch_type,occurred_at,utm_medium\n"


def _export(tmp_path: Path, *, people: str = PEOPLE, programs: str = PROGRAMS,
            touches: str = TOUCH_HEADER, targets: str | None = None) -> Path:
    (tmp_path / "people.csv").write_text(people, encoding="utf-8")
    (tmp_path / "programs.csv").write_text(programs, encoding="utf-8")
    (tmp_path / "touches.csv").write_text(touches, encoding="utf-8")
    if targets is not None:
        (tmp_path / "target_accounts.csv").write_text(targets, encoding="utf-8")
    return tmp_path


def _read(directory: Path, mappings: Mappings, checkpoint: Any = None,
          known: dict[str, Program] | None = None) -> tuple[list[Any], FileExportReader]:
    reader = FileExportReader(directory, mappings, as_of=AS_OF)
    return list(reader.read(checkpoint, known or {})), reader


@pytest.mark.parametrize(("file", "content", "row", "field", "words"), [
    pytest.param("touches", TOUCH_HEADER + "t1,1,,web_visit,2024-01-01T10:00:00,\n", 2,
                 "occurred_at", "no UTC offset", id="naive-timestamp"),
    pytest.param("touches", TOUCH_HEADER + "t1,1,,web_visit,yesterday,\n", 2,
                 "occurred_at", "not an ISO 8601", id="bad-timestamp"),
    pytest.param("touches", TOUCH_HEADER + "t1,1,,web_visit,,\n", 2, "occurred_at",
                 "required", id="empty-timestamp"),
    pytest.param("touches", TOUCH_HEADER + ",1,,web_visit,2024-01-01T10:00:00Z,\n", 2,
                 "touch_id", "required", id="empty-touch-id"),
    pytest.param("touches", TOUCH_HEADER + "t1,,,web_visit,2024-01-01T10:00:00Z,\n", 2,
                 "map_id", "required", id="empty-map-id"),
    pytest.param("touches", TOUCH_HEADER + "t1,1,,page_view,2024-01-01T10:00:00Z,\n", 2,
                 "touch_type", "allowed: ad_click", id="unknown-touch-type"),
    pytest.param("touches", TOUCH_HEADER + "t1,1,web_visit\n", 2, None,
                 "expected 6 columns, found 3", id="too-few-columns"),
    pytest.param("touches", TOUCH_HEADER + "t1,1,,web_visit,2024-01-01T10:00:00Z,,x\n", 2,
                 None, "expected 6 columns, found 7", id="too-many-columns"),
    pytest.param("people", "map_id,employees\n1,many\n", 2, "employees", "not a number",
                 id="bad-number"),
    pytest.param("people", "map_id,employees\n1,12.5\n", 2, "employees", "whole number",
                 id="fractional-employees"),
    pytest.param("people", "map_id,email\n1,a@acme.io\n2,b@acme.io\n1,c@acme.io\n", 4,
                 "map_id", "duplicate", id="duplicate-person"),
    pytest.param("people", "map_id,email\n,a@acme.io\n", 2, "map_id", "required",
                 id="empty-person-id"),
    pytest.param("programs", "program_id,name\n7,A\n7,B\n", 3, "program_id", "duplicate",
                 id="duplicate-program"),
    pytest.param("programs", "program_id,start_date\n7,someday\n", 2, "start_date",
                 "not an ISO 8601 date", id="bad-date"),
    pytest.param("programs", "program_id,cost\n7,NaN\n", 2, "cost", "finite",
                 id="nan-cost"),
])
def test_a_bad_row_is_rejected_with_file_row_and_field_and_later_rows_still_read(
        tmp_path: Path, mappings: Mappings, file: str, content: str, row: int,
        field: str | None, words: str) -> None:
    good = {"touches": "tz,1,,web_visit,2024-01-02T10:00:00Z,\n",
            "people": "9,z@acme.io\n" if "email" in content.split("\n")[0] else "9,3\n",
            "programs": "99,\n"}[file]
    directory = _export(tmp_path, **{file: content + good})
    items, reader = _read(directory, mappings)
    rejected = [r for r in items if isinstance(r, Rejection)]
    assert len(rejected) == 1
    rejection = rejected[0]
    assert (rejection.file, rejection.row, rejection.field) == (f"{file}.csv", row, field)
    assert words in rejection.message and rejection.raw
    assert reader.summary.streams[f"{file}.csv"].rejected == 1
    assert reader.summary.streams[f"{file}.csv"].accepted >= 1  # the row after it


def test_invalid_email_is_kept_and_flagged_not_rejected(tmp_path: Path,
                                                        mappings: Mappings) -> None:
    items, _ = _read(_export(tmp_path, people="map_id,email\n1, Not-An-Email \n"), mappings)
    person = next(i for i in items if isinstance(i, Person))
    assert (person.email, person.email_valid) == ("not-an-email", False)
    assert person.email_problem


@pytest.mark.parametrize(("people", "words"), [
    pytest.param("email,first_name\na@b.io,A\n", "missing required column(s): map_id",
                 id="missing-required"),
    pytest.param("", "empty", id="empty-file"),
    pytest.param("map_id,,email\n", "unnamed columns", id="blank-column-name"),
    pytest.param("map_id,email,email\n", "twice", id="duplicate-column"),
])
def test_header_problems_are_a_source_format_error_naming_the_file(
        tmp_path: Path, mappings: Mappings, people: str, words: str) -> None:
    with pytest.raises(SourceFormatError) as err:
        _read(_export(tmp_path, people=people), mappings)
    assert "people.csv" in str(err.value) and words in str(err.value)


def test_missing_columns_error_lists_the_unknown_ones_too(tmp_path: Path,
                                                          mappings: Mappings) -> None:
    with pytest.raises(SourceFormatError) as err:
        _read(_export(tmp_path, people="id,mail\n1,a@b.io\n"), mappings)
    assert "map_id" in str(err.value) and "id, mail" in str(err.value)


def test_unknown_columns_are_kept_in_extra(tmp_path: Path, mappings: Mappings) -> None:
    items, reader = _read(_export(tmp_path, people="map_id,persona\n1,CFO\n"), mappings)
    assert next(i for i in items if isinstance(i, Person)).extra == {"persona": "CFO"}
    assert "persona" in reader.summary.streams["people.csv"].notes[0]


def test_missing_required_file_and_ambiguous_formats(tmp_path: Path,
                                                     mappings: Mappings) -> None:
    directory = _export(tmp_path)
    (directory / "touches.csv").unlink()
    with pytest.raises(SourceFormatError, match=r"touches\.csv"):
        _read(directory, mappings)
    _export(tmp_path)
    (directory / "touches.jsonl").write_text("")
    with pytest.raises(SourceFormatError, match="both"):
        _read(directory, mappings)
    with pytest.raises(ConfigError):
        _read(tmp_path / "nope", mappings)


def test_utf8_bom_is_accepted(tmp_path: Path, mappings: Mappings) -> None:
    directory = _export(tmp_path)
    (directory / "people.csv").write_bytes(b"\xef\xbb\xbf" + PEOPLE.encode())
    items, _ = _read(directory, mappings)
    assert [p.map_id for p in items if isinstance(p, Person)] == ["1"]


def test_jsonl_rows_with_malformed_lines_and_missing_keys(tmp_path: Path,
                                                          mappings: Mappings) -> None:
    directory = _export(tmp_path)
    (directory / "touches.csv").unlink()
    lines = [
        json.dumps({"touch_id": "t1", "map_id": 1, "program_id": "2001",
                    "touch_type": "webinar_registered",
                    "occurred_at": "2024-01-01T10:00:00+02:00", "seat": 4}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"touch_id": "t4", "map_id": "1"}),
        "",
        json.dumps({"touch_id": "t6", "map_id": "1", "touch_type": "email_open",
                    "occurred_at": "2024-01-01T10:00:00Z"}),
    ]
    (directory / "touches.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    items, _ = _read(directory, mappings)
    touches = [t for t in items if isinstance(t, Touch)]
    assert [t.touch_id for t in touches] == ["t1", "t6"]
    assert touches[0].channel == "Webinar" and touches[0].extra == {"seat": "4"}
    assert touches[0].occurred_at.isoformat() == "2024-01-01T08:00:00+00:00"
    rejected = {r.row: r for r in items if isinstance(r, Rejection)}
    assert set(rejected) == {2, 3, 4}
    assert "malformed JSON" in rejected[2].message and rejected[2].raw["_line"] == "{not json"
    assert rejected[4].field == "touch_type"


def test_target_accounts_need_a_domain_or_an_account_id(tmp_path: Path,
                                                        mappings: Mappings) -> None:
    targets = "domain,account_id,tier\nhttps://www.Acme.com/x,,1\n,001ABC,2\n,,3\n"
    items, _ = _read(_export(tmp_path, targets=targets), mappings)
    accounts = [a for a in items if isinstance(a, TargetAccount)]
    assert [(a.domain, a.account_id) for a in accounts] == [("acme.com", None),
                                                            (None, "001ABC")]
    assert [r.row for r in items if isinstance(r, Rejection)] == [4]


def test_touch_channel_uses_known_programs_and_keeps_unknown_program_ids(
        tmp_path: Path, mappings: Mappings) -> None:
    touches = TOUCH_HEADER + ("t1,1,555,form_fill,2024-01-01T10:00:00Z,\n"
                              "t2,1,777,form_fill,2024-01-01T10:00:00Z,\n")
    known = {"555": Program(program_id="555", channel="Event")}
    items, _ = _read(_export(tmp_path, touches=touches), mappings, known=known)
    by_id = {t.touch_id: t for t in items if isinstance(t, Touch)}
    assert by_id["t1"].channel == "Event" and by_id["t1"].channel_rule == "program_channel"
    assert by_id["t2"].program_id == "777" and by_id["t2"].channel == "Website"


def test_order_is_programs_people_touches_targets(tmp_path: Path, mappings: Mappings) -> None:
    touches = TOUCH_HEADER + "t1,1,2001,webinar_attended,2024-01-01T10:00:00Z,\n"
    items, _ = _read(_export(tmp_path, touches=touches, targets="domain\nacme.com\n"),
                     mappings)
    order = ["Program", "Person", "Touch", "TargetAccount"]
    kinds = [type(i).__name__ for i in items]
    assert kinds == sorted(kinds, key=order.index) and len(set(kinds)) == 4


def test_unchanged_files_cost_nothing(tmp_path: Path, mappings: Mappings,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    touches = TOUCH_HEADER + "t1,1,2001,webinar_attended,2024-01-01T10:00:00Z,\n"
    directory = _export(tmp_path, touches=touches)
    _, first = _read(directory, mappings)
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    items, second = _read(directory, mappings, first.checkpoint)
    assert items == []
    assert opened == ["programs.csv"]  # parsed for the channel lookup only
    assert second.summary.streams["touches.csv"].status is StreamStatus.UNCHANGED
    assert second.summary.streams["touches.csv"].skipped_unchanged == 1
    assert second.checkpoint == first.checkpoint


def test_appended_rows_are_read_from_the_offset_with_their_line_numbers(
        tmp_path: Path, mappings: Mappings) -> None:
    touches = TOUCH_HEADER + "t1,1,2001,webinar_attended,2024-01-01T10:00:00Z,\n"
    directory = _export(tmp_path, touches=touches)
    _, first = _read(directory, mappings)
    with (directory / "touches.csv").open("a", encoding="utf-8") as fh:
        fh.write("t2,1,,ad_click,2024-01-02T10:00:00Z,cpc\n")
        fh.write("t3,1,,web_visit,2024-01-02T11:00:00Z,")  # no newline yet: being written
    items, second = _read(directory, mappings, first.checkpoint)
    assert [(t.touch_id, t.origin.row) for t in items if isinstance(t, Touch)] == \
        [("t2", 3), ("t3", 4)]
    assert second.summary.streams["touches.csv"].status is StreamStatus.APPENDED
    with (directory / "touches.csv").open("a", encoding="utf-8") as fh:
        fh.write("cpc\n")  # the writer finishes the line
    items, _third = _read(directory, mappings, second.checkpoint)
    touches_read = [t for t in items if isinstance(t, Touch)]
    assert [(t.touch_id, t.utm_medium) for t in touches_read] == [("t3", "cpc")]


@pytest.mark.parametrize("change", [
    pytest.param("rewrite", id="rewritten-in-place"),
    pytest.param("truncate", id="shrunk"),
])
def test_a_file_changed_otherwise_is_read_again_whole(tmp_path: Path, mappings: Mappings,
                                                      change: str) -> None:
    touches = TOUCH_HEADER + ("t1,1,2001,webinar_attended,2024-01-01T10:00:00Z,\n"
                              "t2,1,2001,webinar_attended,2024-01-01T11:00:00Z,\n")
    directory = _export(tmp_path, touches=touches)
    _, first = _read(directory, mappings)
    path = directory / "touches.csv"
    if change == "rewrite":
        path.write_text(touches.replace("t1,", "t9,") + "t3,1,,web_visit,"
                        "2024-01-03T00:00:00Z,\n", encoding="utf-8")
    else:
        path.write_text(TOUCH_HEADER + "t1,1,2001,webinar_attended,2024-01-01T10:00:00Z,\n",
                        encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    items, second = _read(directory, mappings, first.checkpoint)
    assert second.summary.streams["touches.csv"].status is StreamStatus.REREAD
    expected = ["t9", "t2", "t3"] if change == "rewrite" else ["t1"]
    assert [t.touch_id for t in items if isinstance(t, Touch)] == expected


def test_the_read_summary_serialises_each_status_as_its_plain_string(
        tmp_path: Path, mappings: Mappings) -> None:
    """The run's JSON summary (printed, and stored in the state database) carries
    each stream's status as the plain string it always had: pinned byte for byte."""
    touches = TOUCH_HEADER + "t1,1,2001,webinar_attended,2024-01-01T10:00:00Z,\n"
    directory = _export(tmp_path, touches=touches)
    _, first = _read(directory, mappings)
    with (directory / "touches.csv").open("a", encoding="utf-8") as fh:
        fh.write("t2,1,,ad_click,2024-01-02T10:00:00Z,cpc\n")
    people = directory / "people.csv"
    people.write_text(PEOPLE.replace("ana@", "ann@"), encoding="utf-8")
    stat = people.stat()
    os.utime(people, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    _, second = _read(directory, mappings, first.checkpoint)

    def stream(status: str, read: int, skipped_unchanged: int = 0) -> str:
        return (f'{{"status": "{status}", "read": {read}, "accepted": {read}, "rejected": 0, '
                f'"skipped": 0, "skipped_unchanged": {skipped_unchanged}, "api_calls": 0, '
                '"notes": []}')

    head = '{"source": "files", "api_calls": 0, "auth_calls": 0, "stopped_early": null, '
    assert json.dumps(first.summary.as_dict()) == head + (
        f'"streams": {{"people.csv": {stream("read", 1)}, '
        f'"programs.csv": {stream("read", 1)}, "touches.csv": {stream("read", 1)}}}}}')
    assert json.dumps(second.summary.as_dict()) == head + (
        f'"streams": {{"people.csv": {stream("reread", 1)}, '
        f'"programs.csv": {stream("unchanged", 0, 1)}, '
        f'"touches.csv": {stream("appended", 1, 1)}}}}}')
    assert [type(s.status) for s in second.summary.streams.values()] == [StreamStatus] * 3


def test_a_checkpoint_of_another_kind_is_ignored(tmp_path: Path, mappings: Mappings) -> None:
    items, reader = _read(_export(tmp_path), mappings, {"kind": "marketo", "version": 1})
    assert any(isinstance(i, Person) for i in items)
    assert reader.summary.streams["checkpoint"].notes
