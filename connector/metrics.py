"""Run metrics: one set of figures for the JSON summary and a Prometheus textfile.

When ``CONNECTOR_METRICS_FILE`` is set, every sync or replay (including one that
fails before it starts writing) rewrites that file in the Prometheus text
exposition format, for node_exporter's textfile collector. The file is written
to a temporary name in the same directory and renamed over the old one, so the
collector never reads half a file. The same figures go under ``"metrics"`` in
``connector sync --format json``.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from connector.errors import ConnectorError
from connector.run.status import FINISHED, SUCCEEDED, RunStatus
from connector.state.dead_letters import DeadLetterKind

T = TypeVar("T")

ENV_VAR = "CONNECTOR_METRICS_FILE"
PREFIX = "connector"
OUTCOMES = ("created", "updated", "unchanged", "failed")
STATUSES = FINISHED


@dataclass
class RunFigures:
    """What one run did, in the units a dashboard graphs."""

    run_id: int | None
    kind: str
    status: str
    exit_code: int
    finished_at: datetime
    duration_seconds: float
    records: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected_rows: int = 0
    dead_letters: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)
    org_used: int | None = None
    org_max: int | None = None
    findings: dict[str, int] = field(default_factory=dict)
    last_success: datetime | None = None

    @property
    def org_remaining(self) -> int | None:
        if self.org_max is None or self.org_used is None:
            return None
        return max(0, self.org_max - self.org_used)

    def as_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "rejected_rows": self.rejected_rows,
            "dead_letters": self.dead_letters,
            "api_calls_by_kind": self.api_calls,
            "org_api_used": self.org_used,
            "org_api_max": self.org_max,
            "org_api_remaining": self.org_remaining,
            "duration_seconds": round(self.duration_seconds, 3),
            "finished_at": self.finished_at.isoformat(),
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "findings": self.findings,
        }


def figures_from_summary(summary: Mapping[str, Any], *, kind: str, exit_code: int,
                         finished_at: datetime, last_success: datetime | None,
                         org_usage: Mapping[str, Any] | None = None) -> RunFigures:
    """Figures from a run's JSON summary (``SyncResult.as_json()``) and the org's
    usage as the last API response reported it."""
    objects = summary.get("objects") or {}
    by_kind = summary.get("dead_letters_by_kind") or {}
    ledger_counts = (summary.get("ledger") or {}).get("counts") or {}
    rejected = int(ledger_counts.get(
        "rejected", by_kind.get(DeadLetterKind.REJECTED_INPUT, 0)) or 0)
    org = org_usage or {}
    status = str(summary.get("status", RunStatus.FAILED))
    return RunFigures(
        run_id=summary.get("run_id"), kind=kind, status=status, exit_code=exit_code,
        finished_at=finished_at, duration_seconds=float(summary.get("seconds") or 0.0),
        records={obj: {o: int(row.get(o, 0)) for o in OUTCOMES}
                 for obj, row in sorted(objects.items())},
        rejected_rows=rejected, dead_letters=int(summary.get("dead_letters") or 0),
        api_calls={str(k): int(v) for k, v in (summary.get("api_calls_by_kind") or {}).items()},
        org_used=org.get("used"), org_max=org.get("max"),
        findings={str(k): int(v) for k, v in (summary.get("findings") or {}).items()},
        last_success=finished_at if status in SUCCEEDED else last_success,
    )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample(name: str, value: float | int, labels: Mapping[str, str] | None = None) -> str:
    label_text = ""
    if labels:
        label_text = "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"
    number = repr(float(value)) if isinstance(value, float) else str(int(value))
    return f"{PREFIX}_{name}{label_text} {number}"


def _family(name: str, help_text: str, samples: Iterable[str]) -> list[str]:
    return [f"# HELP {PREFIX}_{name} {help_text}", f"# TYPE {PREFIX}_{name} gauge", *samples]


def render_prometheus(fig: RunFigures) -> str:
    """The textfile: every series a gauge describing the last run (see docs/interfaces.md)."""
    run = {"kind": fig.kind}
    lines: list[str] = []
    lines += _family("last_run_info", "The last run: its id and status (value 1).",
                     [_sample("last_run_info", 1, {**run, "status": fig.status,
                                                   "run_id": str(fig.run_id or "")})])
    lines += _family("last_run_status", "1 for the last run's status, 0 for the others.",
                     [_sample("last_run_status", int(fig.status == s), {**run, "status": s})
                      for s in STATUSES])
    lines += _family("last_run_exit_code", "The exit code of the last run.",
                     [_sample("last_run_exit_code", fig.exit_code, run)])
    lines += _family("last_run_timestamp_seconds", "When the last run finished (Unix time).",
                     [_sample("last_run_timestamp_seconds", fig.finished_at.timestamp(), run)])
    lines += _family("last_success_timestamp_seconds",
                     "When a run last finished with every record written or kept for replay.",
                     [_sample("last_success_timestamp_seconds",
                              fig.last_success.timestamp() if fig.last_success else 0.0, run)])
    lines += _family("last_run_duration_seconds", "How long the last run took.",
                     [_sample("last_run_duration_seconds", float(fig.duration_seconds), run)])
    lines += _family("last_run_records", "Records of the last run by object and outcome.",
                     [_sample("last_run_records", n, {"object": obj, "outcome": outcome})
                      for obj, row in fig.records.items() for outcome, n in row.items()])
    lines += _family("last_run_rejected_rows", "MAP rows the last run could not use.",
                     [_sample("last_run_rejected_rows", fig.rejected_rows, run)])
    lines += _family("dead_letters", "Records and rows kept for replay after the last run.",
                     [_sample("dead_letters", fig.dead_letters, run)])
    lines += _family("last_run_api_calls", "Salesforce API calls of the last run by kind.",
                     [_sample("last_run_api_calls", n, {"kind": k})
                      for k, n in sorted(fig.api_calls.items())])
    if fig.org_max is not None:
        lines += _family("org_api_requests_max", "The org's daily API allocation.",
                         [_sample("org_api_requests_max", fig.org_max)])
        lines += _family("org_api_requests_remaining",
                         "What was left of the org's daily API allocation after the last run.",
                         [_sample("org_api_requests_remaining", fig.org_remaining or 0)])
    lines += _family("last_run_findings", "Findings of the last run by category.",
                     [_sample("last_run_findings", n, {"category": c})
                      for c, n in sorted(fig.findings.items())])
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def last_success_from_runs(runs: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The finish time of the newest run that completed (ok or partial)."""
    for run in runs:
        if run.get("status") in SUCCEEDED and run.get("finished_at"):
            return datetime.fromisoformat(str(run["finished_at"]))
    return None


_LAST_SUCCESS = re.compile(rf"^{PREFIX}_last_success_timestamp_seconds(?:{{[^}}]*}})? (\S+)$",
                           re.MULTILINE)


def previous_last_success(path: Path) -> datetime | None:
    """The last success the previous metrics file recorded, so a run that fails
    before it can open the state database does not reset it."""
    try:
        match = _LAST_SUCCESS.search(path.read_text(encoding="utf-8"))
    except OSError:
        return None
    if not match:
        return None
    try:
        stamp = float(match.group(1))
    except ValueError:
        return None
    return datetime.fromtimestamp(stamp, UTC) if stamp > 0 else None


def metrics_path() -> Path | None:
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value) if value else None


class RunMetrics:
    """The CLI's hook around one sync or replay: adds the figures to the JSON
    summary and writes the textfile, also when the run fails before its end.

    A dry run leaves the file alone: an admin's rehearsal must not overwrite
    what monitoring knows about the scheduled runs.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.path = metrics_path()
        self.started = time.monotonic()
        self.written = False

    def completed(self, result: Any, store: Any) -> dict[str, Any]:
        summary: dict[str, Any] = result.as_json()
        figures = figures_from_summary(
            summary, kind=self.kind, exit_code=result.exit_code,
            finished_at=datetime.now(UTC), org_usage=result.api_calls.get("org_usage"),
            last_success=last_success_from_runs(store.runs(50)))
        summary["metrics"] = figures.as_json()
        if result.status != RunStatus.DRY_RUN:
            self._write(figures)
        return summary

    def guard(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ConnectorError as exc:
            self.failed(exc.exit_code)
            raise
        except BaseException:
            self.failed(1)
            raise

    def failed(self, exit_code: int) -> None:
        if self.written or self.path is None:
            return
        from connector.logs import current_run_id

        self._write(RunFigures(
            run_id=current_run_id(), kind=self.kind, status=RunStatus.FAILED, exit_code=exit_code,
            finished_at=datetime.now(UTC), duration_seconds=time.monotonic() - self.started,
            last_success=previous_last_success(self.path)))

    def _write(self, figures: RunFigures) -> None:
        if self.path is None:
            return
        try:
            write_atomically(self.path, render_prometheus(figures))
            self.written = True
        except OSError as exc:
            logging.getLogger(__name__).warning(
                "could not write the metrics file %s: %s (check %s and the directory's "
                "permissions)", self.path, exc, ENV_VAR)
