"""The metrics textfile and the log redactor as pure functions: tables and properties."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from connector.logs import REDACTED, JsonFormatter, Redactor
from connector.metrics import (
    RunFigures,
    figures_from_summary,
    last_success_from_runs,
    previous_last_success,
    render_prometheus,
    write_atomically,
)

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


_label = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(records=st.dictionaries(_label, st.fixed_dictionaries(
           {o: st.integers(0, 10**9) for o in ("created", "updated", "unchanged", "failed")}),
           max_size=4),
       findings=st.dictionaries(_label, st.integers(0, 10**6), max_size=4),
       calls=st.dictionaries(st.sampled_from(["read", "write", "bulk"]), st.integers(0, 10**6)),
       duration=st.floats(0, 10**5, allow_nan=False),
       org=st.one_of(st.none(), st.tuples(st.integers(0, 10**6), st.integers(0, 10**6))))
def test_rendered_metrics_parse_back_to_the_same_figures(
        records: dict[str, dict[str, int]], findings: dict[str, int], calls: dict[str, int],
        duration: float, org: tuple[int, int] | None) -> None:
    fig = RunFigures(run_id=3, kind="sync", status="ok", exit_code=0, finished_at=WHEN,
                     duration_seconds=duration, records=records, api_calls=calls,
                     findings=findings, org_used=org[0] if org else None,
                     org_max=org[1] if org else None, last_success=WHEN)
    parsed = _samples(render_prometheus(fig))
    for obj, row in records.items():
        for outcome, n in row.items():
            key = ("connector_last_run_records", frozenset({("object", obj),
                                                            ("outcome", outcome)}))
            assert parsed[key] == n
    for category, n in findings.items():
        assert parsed[("connector_last_run_findings", frozenset({("category", category)}))] == n
    assert parsed[("connector_last_run_duration_seconds",
                   frozenset({("kind", "sync")}))] == pytest.approx(duration)
    if org:
        assert parsed[("connector_org_api_requests_remaining", frozenset())] == \
            max(0, org[1] - org[0])
    else:
        assert not any(name.startswith("connector_org_") for name, _ in parsed)


@pytest.mark.parametrize(("summary", "status", "rejected", "success"), [
    pytest.param({"run_id": 1, "status": "ok", "ledger": {"counts": {"rejected": 7}}}, "ok", 7,
                 WHEN, id="ok-is-a-success"),
    pytest.param({"run_id": 1, "status": "partial", "dead_letters_by_kind":
                  {"rejected_input": 2}}, "partial", 2, WHEN, id="partial-is-a-success"),
    pytest.param({"run_id": 1, "status": "stopped"}, "stopped", 0, None,
                 id="stopped-keeps-the-last-success"),
])
def test_figures_from_summary(summary: dict[str, object], status: str, rejected: int,
                              success: datetime | None) -> None:
    fig = figures_from_summary(summary, kind="sync", exit_code=0, finished_at=WHEN,
                               last_success=None)
    assert (fig.status, fig.rejected_rows, fig.last_success) == (status, rejected, success)


def test_last_success_from_runs_skips_failed_and_running() -> None:
    runs = [{"status": "failed", "finished_at": "2026-11-02T00:00:00+00:00"},
            {"status": "running", "finished_at": None},
            {"status": "partial", "finished_at": "2026-11-01T12:00:00+00:00"}]
    assert last_success_from_runs(runs) == WHEN
    assert last_success_from_runs([]) is None


def test_atomic_write_replaces_whole_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "connector.prom"
    write_atomically(target, "a 1\n")
    write_atomically(target, "a 2\n")
    assert target.read_text() == "a 2\n"
    assert oct(os.stat(target).st_mode & 0o777) == "0o644"
    assert [p.name for p in target.parent.iterdir()] == ["connector.prom"]
    fig = RunFigures(run_id=None, kind="sync", status="failed", exit_code=3, finished_at=WHEN,
                     duration_seconds=1.0, last_success=WHEN)
    write_atomically(target, render_prometheus(fig))
    assert previous_last_success(target) == WHEN
    assert previous_last_success(tmp_path / "missing.prom") is None


@settings(max_examples=200, deadline=None)
@given(secret=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="*"),
                     min_size=4, max_size=40),
       before=st.text(max_size=30), after=st.text(max_size=30))
def test_a_configured_secret_never_reaches_a_log_line(secret: str, before: str,
                                                      after: str) -> None:
    record = logging.LogRecord("connector", logging.ERROR, __file__, 1, "%s%s%s",
                               (before, secret, after), None)
    Redactor([secret]).filter(record)
    line = JsonFormatter().format(record)
    assert secret not in json.loads(line)["message"]
    assert "\n" not in line  # one object, one line


def test_redactor_keeps_ordinary_messages() -> None:
    record = logging.LogRecord("connector", logging.INFO, __file__, 1,
                               "refreshing the Salesforce mirror (%d records)", (42,), None)
    Redactor(["s3cret"]).filter(record)
    assert record.getMessage() == "refreshing the Salesforce mirror (42 records)"
    assert REDACTED not in record.getMessage()
