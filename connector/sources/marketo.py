"""Marketo REST (``MAP_KIND=marketo``): programs, leads and activities as canonical records.

One read:

1. programs (asset API, browsed 200 at a time; after the first run only those
   updated since the last one) with their costs, and the channels' progression
   statuses;
2. activities since the checkpoint, through date-based paging tokens, at most
   ten activity type ids per call, spilled to a temporary file while the lead
   ids they name are collected (with those of "New Lead" and "Change Data
   Value" activities: that is how changed leads are found incrementally);
3. those leads, 300 ids per call, yielded as people;
4. the spilled activities, yielded as touches.

The per-run call budget keeps enough calls in reserve to read the leads of the
activities already read; when Marketo's daily quota (607) or the budget stops a
run, the checkpoint records the paging position of the last complete page and
the lead ids still to read, and ``SourceQuotaExhausted`` is raised after every
item read so far has been yielded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from connector.config import MarketoSettings
from connector.errors import SourceQuotaExhausted
from connector.mappings import Mappings
from connector.models import Program, Rejection
from connector.sources.api_support import CallBudget
from connector.sources.base import (
    CHECKPOINT_VERSION,
    ReaderState,
    SourceBudgetExhausted,
    SourceItem,
    usable_checkpoint,
)
from connector.sources.canonical import TouchFactory
from connector.sources.clock import Clock
from connector.sources.marketo_client import MarketoClient
from connector.sources.marketo_records import (
    LEAD_FIELDS,
    ActivityMapper,
    ProgramNames,
    to_person,
    to_program,
)
from connector.sources.paging import marketo_token, offset_step, pages
from connector.sources.spill import Spill
from connector.sources.timestamps import iso_z, parse_api_timestamp

# Programs updated this long before the last run are read again (clock skew).
PROGRAM_OVERLAP = timedelta(hours=1)
PROGRAM_PAGE = 200
LEAD_BATCH = 300
TYPES_PER_CALL = 10

S_PROGRAMS = "marketo:programs"
S_CHANNELS = "marketo:channels"
S_ACTIVITIES = "marketo:activities"
S_LEADS = "marketo:leads"


class MarketoReader(ReaderState):
    """Reads one Marketo instance; see the module docstring."""

    kind = "marketo"

    def __init__(self, settings: MarketoSettings, mappings: Mappings, *,
                 transport: httpx.BaseTransport | None, as_of: datetime, clock: Clock,
                 max_attempts: int = 6) -> None:
        self._settings = settings
        self._mappings = mappings
        self._transport = transport
        self._as_of = as_of
        self._clock = clock
        self._attempts = max_attempts
        super().__init__("marketo")

    def read(self, checkpoint: Mapping[str, Any] | None,
             known_programs: Mapping[str, Program]) -> Iterator[SourceItem]:
        self._checkpoint = None
        previous = usable_checkpoint(checkpoint, self.kind, self._summary)
        budget = CallBudget(self._settings.run_call_budget, "Marketo")
        client = MarketoClient(self._settings, transport=self._transport, clock=self._clock,
                               budget=budget, summary=self._summary,
                               max_attempts=self._attempts)
        try:
            yield from self._read(client, previous, known_programs)
        finally:
            client.close()

    # ------------------------------------------------------------------ flow

    def _read(self, client: MarketoClient, previous: dict[str, Any],
              known_programs: Mapping[str, Program]) -> Iterator[SourceItem]:
        factory = TouchFactory(self._mappings, known_programs)
        try:
            programs = self._read_programs(client, previous)
        except SourceQuotaExhausted as exc:
            self._summary.stopped_early = str(exc)
            self._checkpoint = previous or self._fresh_checkpoint()
            raise
        for item in programs:
            if not isinstance(item, Rejection):
                factory.add_program(item)
            yield item

        names = ProgramNames([*known_programs.values(),
                              *(p for p in programs if isinstance(p, Program))])
        mapper = ActivityMapper(self._mappings, factory, names)
        streams: dict[str, dict[str, Any]] = dict(previous.get("activities", {}))
        pending: set[str] = {str(i) for i in previous.get("pending_lead_ids", [])}
        stop: SourceQuotaExhausted | None = None
        with Spill() as spill:
            lead_ids: set[str] = set(pending)
            try:
                self._read_activities(client, mapper, streams, spill, lead_ids)
            except SourceQuotaExhausted as exc:
                stop = _kept(exc)
            all_programs = {**known_programs,
                            **{p.program_id: p for p in programs if isinstance(p, Program)}}
            unread: list[str] = sorted(lead_ids, key=_numeric_first)
            if stop is None or not _is_daily_quota(stop):
                try:
                    yield from self._read_leads(client, unread, all_programs)
                except SourceQuotaExhausted as exc:
                    stop = stop or _kept(exc)
            yield from self._touches(spill, mapper)
        self._note_unmapped(mapper)
        self._checkpoint = {
            "kind": self.kind, "version": CHECKPOINT_VERSION,
            # every program was read before any activity, so programs are current
            "programs": {"updated_through": iso_z(self._as_of)},
            "activities": streams,
            "pending_lead_ids": unread,
        }
        if stop is not None:
            self._summary.stopped_early = str(stop)
            raise stop

    def _fresh_checkpoint(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": CHECKPOINT_VERSION}

    # -------------------------------------------------------------- programs

    def _read_programs(self, client: MarketoClient,
                       previous: dict[str, Any]) -> list[Program | Rejection]:
        channels = self._read_channels(client)
        summary = self._summary.stream(S_PROGRAMS)
        since_text = previous.get("programs", {}).get("updated_through")
        params: dict[str, Any] = {"maxReturn": PROGRAM_PAGE}
        if since_text:
            since = parse_api_timestamp(since_text)
            assert since is not None
            params["earliestUpdatedAt"] = iso_z(since - PROGRAM_OVERLAP)
            params["latestUpdatedAt"] = iso_z(self._as_of)

        def fetch(offset: int | None) -> dict[str, Any]:
            return client.get("/rest/asset/v1/programs.json", {**params, "offset": offset or 0},
                              stream=S_PROGRAMS)

        browsed = [entry for page in pages(fetch, offset_step(PROGRAM_PAGE))
                   for entry in page.body.get("result") or []]
        items: list[Program | Rejection] = []
        for entry in browsed:
            detail = client.get(f"/rest/asset/v1/program/{entry.get('id')}.json",
                                stream=S_PROGRAMS)
            found = detail.get("result") or [entry]
            item = to_program(found[0], self._mappings, channels)
            summary.read += 1
            if isinstance(item, Rejection):
                summary.rejected += 1
            else:
                summary.accepted += 1
            items.append(item)
        return items

    def _read_channels(self, client: MarketoClient) -> dict[str, dict[str, Any]]:
        def fetch(offset: int | None) -> dict[str, Any]:
            return client.get("/rest/asset/v1/channels.json",
                              {"maxReturn": PROGRAM_PAGE, "offset": offset or 0},
                              stream=S_CHANNELS)

        return {str(channel.get("name", "")).lower(): channel
                for page in pages(fetch, offset_step(PROGRAM_PAGE))
                for channel in page.body.get("result") or []}

    # ------------------------------------------------------------ activities

    def _read_activities(self, client: MarketoClient, mapper: ActivityMapper,
                         streams: dict[str, dict[str, Any]], spill: Spill,
                         lead_ids: set[str]) -> None:
        summary = self._summary.stream(S_ACTIVITIES)
        type_ids = mapper.activity_type_ids()
        lead_change_types = {self._mappings.sources.marketo.new_lead_activity_type_id,
                             self._mappings.sources.marketo.data_value_change_activity_type_id}
        initial = self._as_of - timedelta(days=self._settings.initial_lookback_days)
        for start in range(0, len(type_ids), TYPES_PER_CALL):
            chunk = type_ids[start:start + TYPES_PER_CALL]
            key = ",".join(str(i) for i in chunk)
            state = dict(streams.get(key) or {})
            token = state.get("token")
            if not token:
                since_text = state.get("since") or iso_z(initial)
                body = client.get("/rest/v1/activities/pagingtoken.json",
                                  {"sinceDatetime": since_text}, stream=S_ACTIVITIES)
                token = body.get("nextPageToken")
                state = {"token": None, "since": since_text}

            def fetch(token: str | None, key: str = key) -> dict[str, Any]:
                return client.get("/rest/v1/activities.json",
                                  {"nextPageToken": token, "activityTypeIds": key},
                                  stream=S_ACTIVITIES)

            # pages are fetched lazily: the reserve is checked before each fetch
            self._keep_lead_reserve(client, lead_ids, streams, key, state)
            for page in pages(fetch, marketo_token, start=token):
                past_as_of = False
                for activity in page.body.get("result") or []:
                    when = _activity_time(activity)
                    if when is not None and when > self._as_of:
                        past_as_of = True
                        continue
                    summary.read += 1
                    lead_id = activity.get("leadId")
                    if lead_id is not None:
                        lead_ids.add(str(lead_id))
                    if int(activity.get("activityTypeId", 0)) in lead_change_types:
                        summary.skipped += 1
                        continue
                    spill.append(activity)
                if past_as_of:
                    # The rest belongs to a later run: restart from as_of, not from a token.
                    streams[key] = {"token": None, "since": iso_z(self._as_of)}
                    break
                state = {"token": page.cursor, "since": None}
                streams[key] = state
                if page.more:
                    self._keep_lead_reserve(client, lead_ids, streams, key, state)

    def _keep_lead_reserve(self, client: MarketoClient, lead_ids: set[str],
                           streams: dict[str, dict[str, Any]], key: str,
                           state: dict[str, Any]) -> None:
        """Stop reading activities (checkpointing ``state``) while the budget can still
        read the leads they name."""
        reserve = self._lead_reserve(lead_ids)
        if client.budget.remaining <= reserve:
            streams[key] = state
            raise SourceBudgetExhausted(
                f"Marketo: the run's call budget is nearly spent; stopped reading "
                f"activities, keeping {reserve} calls to read their leads",
                hint="run again to continue from the checkpoint")

    @staticmethod
    def _lead_reserve(lead_ids: set[str]) -> int:
        """Calls kept back to read the leads named so far (plus one for this page's)."""
        return math.ceil((len(lead_ids) + LEAD_BATCH) / LEAD_BATCH)

    # ----------------------------------------------------------------- leads

    def _read_leads(self, client: MarketoClient, unread: list[str],
                    programs: Mapping[str, Program]) -> Iterator[SourceItem]:
        """Yield people for ``unread`` lead ids, removing each batch once read."""
        summary = self._summary.stream(S_LEADS)
        fields = ",".join(LEAD_FIELDS)
        while unread:
            batch = unread[:LEAD_BATCH]
            body = client.get("/rest/v1/leads.json",
                              {"filterType": "id", "filterValues": ",".join(batch),
                               "fields": fields}, stream=S_LEADS)
            found = 0
            for lead in body.get("result") or []:
                found += 1
                item = to_person(lead, self._mappings, programs)
                summary.read += 1
                if isinstance(item, Rejection):
                    summary.rejected += 1
                else:
                    summary.accepted += 1
                yield item
            if found < len(batch):
                summary.skipped += len(batch) - found
                summary.notes.append(f"{len(batch) - found} lead id(s) not found "
                                     "(deleted or merged in Marketo)")
            del unread[:LEAD_BATCH]

    # --------------------------------------------------------------- touches

    def _touches(self, spill: Spill, mapper: ActivityMapper) -> Iterator[SourceItem]:
        summary = self._summary.stream(S_ACTIVITIES)
        for activity in spill:
            item = mapper.to_touch(activity)
            if item is None:
                summary.skipped += 1
                continue
            if isinstance(item, Rejection):
                summary.rejected += 1
            else:
                summary.accepted += 1
            yield item

    def _note_unmapped(self, mapper: ActivityMapper) -> None:
        if mapper.unmapped_statuses:
            listed = ", ".join(f"{s or '(blank)'} ({n})"
                               for s, n in sorted(mapper.unmapped_statuses.items()))
            self._summary.stream(S_ACTIVITIES).notes.append(
                f"program statuses not mapped to a touch type (not touches): {listed}")


def _activity_time(activity: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_api_timestamp(activity.get("activityDate"))
    except ValueError:
        return None  # rejected later, with the record


def _numeric_first(lead_id: str) -> tuple[int, str]:
    return (int(lead_id), lead_id) if lead_id.isdigit() else (1 << 62, lead_id)


def _kept(exc: SourceQuotaExhausted) -> SourceQuotaExhausted:
    """Keep a stop to raise after what was read has been yielded."""
    return exc


def _is_daily_quota(stop: SourceQuotaExhausted) -> bool:
    """607 leaves no call for reading leads; the run's own budget keeps a reserve."""
    return not isinstance(stop, SourceBudgetExhausted)
