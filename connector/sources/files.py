"""The file export (``MAP_KIND=files``): ``people``, ``programs``, ``touches`` and
optionally ``target_accounts``, each as ``NAME.csv`` or ``NAME.jsonl``.

Every row becomes a canonical record or a ``Rejection`` naming file, row and
field, with the raw row kept; a bad row never stops the rows after it. Reads are
incremental per file (see ``export_file``): unchanged files cost nothing, appended
rows are read from the recorded offset, anything else is read again and the
ledger dedupes by id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from connector.errors import ConfigError, SourceFormatError
from connector.errors import RowProblem as RowProblem  # re-exported
from connector.mappings import Mappings
from connector.models import Origin, Person, Program, Rejection, TargetAccount, Touch
from connector.normalize import (
    normalize_email,
    parse_date,
    parse_decimal,
    parse_int,
    parse_timestamp,
    website_domain,
)
from connector.sources.base import (
    CHECKPOINT_VERSION,
    ReaderState,
    SourceItem,
    StreamStatus,
    StreamSummary,
    usable_checkpoint,
)
from connector.sources.canonical import TouchFactory, trusted, validation_message
from connector.sources.export_file import ExportFile, RawRow, ReadPlan

RecordKind = Literal["person", "program", "touch", "target_account"]

COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # stream: (required columns, all known columns)
    "people": (("map_id",), (
        "map_id", "email", "first_name", "last_name", "company", "title", "industry",
        "employees", "annual_revenue", "country", "created_at", "source", "sfdc_lead_id",
        "sfdc_contact_id", "updated_at")),
    "programs": (("program_id",), (
        "program_id", "name", "channel", "type", "start_date", "end_date", "cost",
        "parent_id")),
    "touches": (("touch_id", "map_id", "touch_type", "occurred_at"), (
        "touch_id", "map_id", "program_id", "touch_type", "occurred_at", "url", "referrer",
        "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")),
    "target_accounts": ((), ("domain", "account_id", "tier")),
}
STREAMS = ("programs", "people", "touches", "target_accounts")
# A touch this far after the run's as-of time is bad data (a wrong year or offset),
# not clock skew; it would otherwise become everyone's "last touch" for years.
FUTURE_TOLERANCE = timedelta(days=1)
OPTIONAL_STREAMS = frozenset({"target_accounts"})
KIND_OF: dict[str, RecordKind] = {"people": "person", "programs": "program", "touches": "touch",
           "target_accounts": "target_account"}
KNOWN: dict[str, frozenset[str]] = {stream: frozenset(cols[1]) for stream, cols in COLUMNS.items()}
_PERSON_NAMES = ("first_name", "last_name", "company", "title", "industry")
# The touch's optional text fields, in the order their problems are reported.
_TOUCH_TEXTS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
                "program_id", "url", "referrer")


def _text(values: Mapping[str, Any], key: str) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowProblem(key, f"expected text, found {type(value).__name__}", value)
    value = value.strip()
    return value or None


def _parsed(values: Mapping[str, Any], key: str, parse: Callable[[str | None], Any]) -> Any:
    raw = _text(values, key)
    try:
        return parse(raw)
    except ValueError as exc:
        raise RowProblem(key, str(exc), raw) from None


def _count(raw: str | None) -> int | None:
    """A head count: a whole number, not negative."""
    value = parse_int(raw)
    if value is not None and value < 0:
        raise ValueError(f"{raw!r} is negative; a count of employees cannot be")
    return value


def _required(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    if value is not None:
        if not isinstance(value, str):
            raise RowProblem(key, f"expected text, found {type(value).__name__}", value)
        value = value.strip()
    if not value:
        raise RowProblem(key, f"{key} is required and empty")
    return value


def _texts(values: Mapping[str, Any], keys: tuple[str, ...]) -> list[str | None]:
    """``_text`` of each key, in order (one call per row instead of one per field)."""
    return [None if (value := values.get(key)) is None
            else (value.strip() or None) if type(value) is str
            else _text(values, key)  # a str subclass, or a RowProblem naming the key
            for key in keys]


def _extra(values: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if known.issuperset(values):  # the common case: no unknown columns
        return {}
    return {k: v for k, v in values.items() if k not in known and v not in (None, "")}


def _record_id(row: RawRow, id_key: str | None) -> str | None:
    """The id a rejection names: the row's raw id column, trimmed."""
    record_id = row.raw.get(id_key) if id_key else None
    return record_id.strip() or None if isinstance(record_id, str) else None


def locate_export(directory: Path) -> dict[str, Path]:
    """The export's files by stream; a missing required file or an ambiguous pair
    (both ``NAME.csv`` and ``NAME.jsonl``) is a ``SourceFormatError``."""
    if not directory.is_dir():
        raise ConfigError(f"MAP_FILES_DIR {directory} is not a directory")
    found: dict[str, Path] = {}
    for stream in STREAMS:
        candidates = [p for p in (directory / f"{stream}.csv", directory / f"{stream}.jsonl")
                      if p.is_file()]
        if len(candidates) > 1:
            raise SourceFormatError(
                f"{directory}: both {stream}.csv and {stream}.jsonl exist; keep one")
        if candidates:
            found[stream] = candidates[0]
        elif stream not in OPTIONAL_STREAMS:
            raise SourceFormatError(
                f"{directory}: {stream}.csv (or {stream}.jsonl) is missing",
                hint="the export needs people, programs and touches files")
    return found


class FileExportReader(ReaderState):
    """Reads a file export directory; see the module docstring."""

    kind = "files"

    def __init__(self, directory: Path, mappings: Mappings, *, as_of: datetime) -> None:
        self._dir = directory
        self._mappings = mappings
        self._as_of = as_of
        super().__init__("files")

    def read(self, checkpoint: Mapping[str, Any] | None,
             known_programs: Mapping[str, Program]) -> Iterator[SourceItem]:
        self._checkpoint = None
        previous = usable_checkpoint(checkpoint, self.kind, self._summary)
        marks: dict[str, Any] = dict(previous.get("files", {}))
        paths = locate_export(self._dir)
        factory = TouchFactory(self._mappings, known_programs)
        new_marks: dict[str, Any] = {}

        for stream in STREAMS:
            path = paths.get(stream)
            if path is None:
                continue
            required, known = COLUMNS[stream]
            export = ExportFile(path, required, known)
            summary = self._summary.stream(path.name)
            plan = export.plan(marks.get(stream))
            summary.status = plan.mode
            if stream == "programs":
                yield from self._programs(export, plan, summary, factory)
            elif plan.mode is StreamStatus.UNCHANGED:
                summary.skipped_unchanged = plan.rows
            else:
                convert = self._converter(stream, factory)
                yield from self._convert_rows(export, plan, summary, stream, convert)
            if export.unknown_columns:
                summary.notes.append(
                    f"unknown columns kept in extra: {', '.join(export.unknown_columns)}")
            assert export.new_mark is not None
            new_marks[stream] = export.new_mark
        self._checkpoint = {"kind": self.kind, "version": CHECKPOINT_VERSION,
                            "files": new_marks}

    # ------------------------------------------------------------ streams

    def _programs(self, export: ExportFile, plan: ReadPlan, summary: StreamSummary,
                  factory: TouchFactory) -> Iterator[SourceItem]:
        """Always parse the (small) programs file for the channel lookup; yield only
        the rows this run has not yielded before."""
        seen: set[str] = set()
        for row in export.rows(plan, from_start=True):
            item = self._convert(row, export.name, "programs", self._program, seen)
            if isinstance(item, Program):
                factory.add_program(item)
            if plan.mode is StreamStatus.UNCHANGED or row.consumed:
                summary.skipped_unchanged += 1
                continue
            self._count(summary, item)
            yield item

    def _convert_rows(self, export: ExportFile, plan: ReadPlan, summary: StreamSummary,
                      stream: str,
                      convert: Callable[[dict[str, Any], Origin], SourceItem],
                      ) -> Iterator[SourceItem]:
        summary.skipped_unchanged = plan.rows if plan.mode is StreamStatus.APPENDED else 0
        seen: set[str] | None = set() if stream == "people" else None
        for row in export.rows(plan):
            item = self._convert(row, export.name, stream, convert, seen)
            self._count(summary, item)
            yield item

    @staticmethod
    def _count(summary: StreamSummary, item: SourceItem) -> None:
        summary.read += 1
        if isinstance(item, Rejection):
            summary.rejected += 1
        else:
            summary.accepted += 1

    def _converter(self, stream: str,
                   factory: TouchFactory) -> Callable[[dict[str, Any], Origin], SourceItem]:
        if stream == "people":
            return self._person
        if stream == "touches":
            return lambda values, origin: self._touch(values, origin, factory)
        return self._target_account

    def _convert(self, row: RawRow, file: str, stream: str,
                 convert: Callable[[dict[str, Any], Origin], SourceItem],
                 seen: set[str] | None) -> SourceItem:
        kind = KIND_OF[stream]
        id_key = COLUMNS[stream][0][0] if COLUMNS[stream][0] else None
        if row.values is None:
            return Rejection(kind=kind, record_id=_record_id(row, id_key), file=file,
                             row=row.line, field=row.problem_field,
                             message=row.problem or "unusable row", raw=dict(row.raw))
        origin = trusted(Origin, {"kind": "files", "file": file, "row": row.line})
        try:
            if seen is not None and id_key is not None:
                key = _required(row.values, id_key)
                if key in seen:
                    raise RowProblem(id_key, f"duplicate {id_key} {key!r} in this file "
                                             "(the first occurrence was kept)", key)
                seen.add(key)
            return convert(row.values, origin)
        except RowProblem as problem:
            value = problem.value if problem.value is None else str(problem.value)
            return Rejection(kind=kind, record_id=_record_id(row, id_key), file=file,
                             row=row.line, field=problem.field, value=value,
                             message=str(problem), raw=dict(row.raw))
        except ValidationError as exc:
            field_name, message = validation_message(exc)
            return Rejection(kind=kind, record_id=_record_id(row, id_key), file=file,
                             row=row.line, field=field_name, message=message,
                             raw=dict(row.raw))

    # ------------------------------------------------------------ records

    def _person(self, values: dict[str, Any], origin: Origin) -> Person:
        # fields in the order their problems are reported
        email_raw, source = _texts(values, ("email", "source"))
        email, valid, problem = normalize_email(email_raw)
        map_id = _required(values, "map_id")
        first_name, last_name, company, title, industry = _texts(values, _PERSON_NAMES)
        employees = _parsed(values, "employees", _count)
        annual_revenue = _parsed(values, "annual_revenue", parse_decimal)
        country = _text(values, "country")
        created_at = _parsed(values, "created_at", parse_timestamp)
        updated_at = _parsed(values, "updated_at", parse_timestamp)
        source_channel = self._mappings.channels.canonical(source)
        lead_id, contact_id = _texts(values, ("sfdc_lead_id", "sfdc_contact_id"))
        return Person(
            map_id=map_id, email=email, email_valid=valid, email_problem=problem,
            first_name=first_name, last_name=last_name, company=company, title=title,
            industry=industry, employees=employees, annual_revenue=annual_revenue,
            country=country, created_at=created_at, updated_at=updated_at,
            source=source, source_channel=source_channel,
            sfdc_lead_id=lead_id, sfdc_contact_id=contact_id,
            extra=_extra(values, KNOWN["people"]), origin=origin)

    def _program(self, values: dict[str, Any], origin: Origin) -> Program:
        channel_raw = _text(values, "channel")
        return Program(
            program_id=_required(values, "program_id"), name=_text(values, "name"),
            channel=self._mappings.channels.canonical(channel_raw), channel_raw=channel_raw,
            type=_text(values, "type"),
            start_date=_parsed(values, "start_date", parse_date),
            end_date=_parsed(values, "end_date", parse_date),
            cost=_parsed(values, "cost", parse_decimal),
            parent_id=_text(values, "parent_id"),
            extra=_extra(values, KNOWN["programs"]), origin=origin)

    def _touch(self, values: dict[str, Any], origin: Origin,
               factory: TouchFactory) -> Touch | Rejection:
        touch_id = _required(values, "touch_id")
        map_id = _required(values, "map_id")
        touch_type = _required(values, "touch_type").lower()
        occurred_at = _parsed(values, "occurred_at", parse_timestamp)
        if occurred_at is None:
            raise RowProblem("occurred_at", "occurred_at is required and empty")
        if occurred_at > self._as_of + FUTURE_TOLERANCE:
            raise RowProblem("occurred_at", f"{occurred_at.isoformat()} is after the run's "
                             f"as-of time {self._as_of.isoformat()}; a touch cannot happen in "
                             f"the future (check the timestamp and its UTC offset)",
                             occurred_at.isoformat())
        source, medium, campaign, content, term, program_id, url, referrer = \
            _texts(values, _TOUCH_TEXTS)
        utms = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign,
                "utm_content": content, "utm_term": term}
        return factory.build(
            touch_id=touch_id, map_id=map_id, touch_type=touch_type,
            occurred_at=occurred_at, program_id=program_id,
            url=url, referrer=referrer, utms=utms,
            extra=_extra(values, KNOWN["touches"]), origin=origin, raw=values)

    def _target_account(self, values: dict[str, Any], origin: Origin) -> TargetAccount:
        domain_raw = _text(values, "domain")
        account_id = _text(values, "account_id")
        domain = website_domain(domain_raw)
        if domain_raw and not domain:
            raise RowProblem("domain", f"{domain_raw!r} is not a domain", domain_raw)
        if not domain and not account_id:
            raise RowProblem("domain", "a target account needs a domain or an account_id")
        return TargetAccount(domain=domain, account_id=account_id, tier=_text(values, "tier"),
                             origin=origin)
