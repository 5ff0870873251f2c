"""HubSpot (``MAP_KIND=hubspot``): contacts, campaigns, marketing events, form
submissions and marketing email events as canonical records.

One read:

1. programs: every campaign and marketing event (few; listed whole), yielded
   when new or updated since the last run;
2. people: the first run lists every contact (``GET /crm/v3/objects/contacts``,
   cursor in the checkpoint so a stopped full read resumes); later runs search
   contacts by ``lastmodifieddate`` in windows split under the 10,000-result cap
   (``hubspot_windows``). Each contact's first and latest sessions become touches;
3. touch streams, spilled to disk: participations of recent or updated marketing
   events, new form submissions per form, and mapped marketing email events;
4. the contacts behind submissions and email events, found by email (batch read,
   100 per call) and yielded as people;
5. the touches.

A stop at the daily limit or the run's budget yields what was read, then raises
``SourceQuotaExhausted``; each stream's checkpoint advances only if the stream
was read whole and all its touches were yielded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connector.config import HubSpotSettings
from connector.errors import SourceQuotaExhausted
from connector.mappings import Mappings
from connector.models import Origin, Program, Rejection
from connector.sources.api_support import CallBudget
from connector.sources.base import (
    CHECKPOINT_VERSION,
    ReaderState,
    SourceItem,
    usable_checkpoint,
)
from connector.sources.canonical import TouchFactory
from connector.sources.clock import Clock
from connector.sources.hubspot_client import HubSpotClient
from connector.sources.hubspot_records import (
    CAMPAIGN_PROPERTIES,
    CONTACT_PROPERTIES,
    FormTouchTypes,
    campaign_program,
    email_event_touch,
    event_program,
    participation_touch,
    submission_touch,
    to_person,
    visit_touches,
)
from connector.sources.hubspot_windows import WindowDone, read_modified
from connector.sources.paging import hubspot_after, hubspot_offset, pages
from connector.sources.spill import Spill
from connector.sources.timestamps import iso_z, parse_api_timestamp, to_epoch_ms

# Incremental reads start this long before the last run's end: the search index lags.
OVERLAP = timedelta(minutes=10)
# Participations of events that ended within this many days are read again.
EVENT_RECHECK = timedelta(days=30)
# How far back a first read of form submissions and email events goes.
INITIAL_LOOKBACK = timedelta(days=365)
LIST_PAGE, FORM_PAGE, EMAIL_PAGE, BATCH_READ = 100, 50, 1000, 100

S_PROGRAMS, S_CONTACTS = "hubspot:programs", "hubspot:contacts"
S_EVENTS, S_FORMS, S_EMAIL = "hubspot:marketing_events", "hubspot:forms", "hubspot:email_events"
S_LOOKUP = "hubspot:contacts_by_email"
ORIGIN = Origin(kind="hubspot")


class HubSpotReader(ReaderState):
    """Reads one HubSpot account; see the module docstring."""

    kind = "hubspot"

    def __init__(self, settings: HubSpotSettings, mappings: Mappings, *,
                 transport: httpx.BaseTransport | None, as_of: datetime, clock: Clock,
                 max_attempts: int = 6) -> None:
        self._settings = settings
        self._mappings = mappings
        self._transport = transport
        self._as_of = as_of
        self._clock = clock
        self._attempts = max_attempts
        super().__init__("hubspot")

    def read(self, checkpoint: Mapping[str, Any] | None,
             known_programs: Mapping[str, Program]) -> Iterator[SourceItem]:
        self._checkpoint = None
        previous = usable_checkpoint(checkpoint, self.kind, self._summary)
        client = HubSpotClient(self._settings, transport=self._transport, clock=self._clock,
                               budget=CallBudget(self._settings.run_call_budget, "HubSpot"),
                               summary=self._summary, max_attempts=self._attempts)
        try:
            yield from self._read(client, previous, known_programs)
        finally:
            client.close()

    # ------------------------------------------------------------------ flow

    def _read(self, client: HubSpotClient, previous: dict[str, Any],
              known_programs: Mapping[str, Program]) -> Iterator[SourceItem]:
        factory = TouchFactory(self._mappings, known_programs)
        state: dict[str, Any] = {k: v for k, v in previous.items()
                                 if k not in ("kind", "version")}
        try:
            programs, events = self._read_programs(client, previous)
        except SourceQuotaExhausted as exc:
            self._summary.stopped_early = str(exc)
            self._checkpoint = previous or {"kind": self.kind, "version": CHECKPOINT_VERSION}
            raise
        for item in programs:
            if isinstance(item, Program):
                factory.add_program(item)
            yield item
        state["programs"] = {"updated_through": iso_z(self._as_of)}
        campaigns_by_utm = {p.extra["utm_campaign"].lower(): p.program_id for p in
                            [*known_programs.values(), *(i for i in programs
                                                         if isinstance(i, Program))]
                            if p.origin and p.origin.kind == "hubspot"
                            and isinstance(p.extra.get("utm_campaign"), str)}

        stop: SourceQuotaExhausted | None = None
        with Spill() as spill:
            try:
                yield from self._read_contacts(client, state, spill)
            except SourceQuotaExhausted as exc:
                stop = exc
            new_states: dict[str, Any] = {}
            if stop is None:
                try:
                    self._read_touch_streams(client, previous, events, spill, new_states)
                except SourceQuotaExhausted as exc:
                    stop = exc
            emails: dict[str, str] = {}
            unresolved_streams: set[str] = set()
            if stop is None:
                try:
                    yield from self._resolve_emails(client, spill, emails)
                except SourceQuotaExhausted as exc:
                    stop = exc
            yield from self._touches(spill, factory, emails, campaigns_by_utm,
                                     resolved=stop is None, unresolved=unresolved_streams)
        for key, value in new_states.items():
            if key not in unresolved_streams:
                _store_stream_state(state, key, value)
        self._checkpoint = {"kind": self.kind, "version": CHECKPOINT_VERSION, **state}
        if stop is not None:
            self._summary.stopped_early = str(stop)
            raise stop

    # -------------------------------------------------------------- programs

    def _read_programs(self, client: HubSpotClient, previous: dict[str, Any],
                       ) -> tuple[list[Program | Rejection], list[Program]]:
        summary = self._summary.stream(S_PROGRAMS)
        since = parse_api_timestamp(previous.get("programs", {}).get("updated_through"))
        items: list[Program | Rejection] = []
        all_events: list[Program] = []
        campaigns = self._list(client, "/marketing/v3/campaigns",
                               {"properties": ",".join(CAMPAIGN_PROPERTIES)}, S_PROGRAMS)
        events = self._list(client, "/marketing/v3/marketing-events", {}, S_PROGRAMS)
        for raw, build in ([(c, campaign_program) for c in campaigns]
                           + [(e, event_program) for e in events]):
            item = build(raw, self._mappings)
            if isinstance(item, Program) and build is event_program:
                all_events.append(item)
            updated = _updated_at(raw)
            if since is not None and updated is not None and updated < since - OVERLAP:
                summary.skipped_unchanged += 1
                continue
            summary.read += 1
            if isinstance(item, Rejection):
                summary.rejected += 1
            else:
                summary.accepted += 1
            items.append(item)
        return items, all_events

    def _list(self, client: HubSpotClient, path: str, params: dict[str, Any],
              stream: str) -> list[dict[str, Any]]:
        def fetch(after: str | None) -> dict[str, Any]:
            query = {**params, "limit": LIST_PAGE, **({"after": after} if after else {})}
            return client.get(path, query, stream=stream)

        return [item for page in pages(fetch, hubspot_after)
                for item in page.body.get("results") or []]

    # -------------------------------------------------------------- contacts

    def _read_contacts(self, client: HubSpotClient, state: dict[str, Any],
                       spill: Spill) -> Iterator[SourceItem]:
        contacts = dict(state.get("contacts") or {})
        if contacts.get("mode") == "incremental" and contacts.get("watermark"):
            yield from self._search_contacts(client, state, contacts, spill)
        else:
            yield from self._list_contacts(client, state, contacts, spill)

    def _emit_contact(self, contact: dict[str, Any], spill: Spill) -> SourceItem:
        summary = self._summary.stream(S_CONTACTS)
        summary.read += 1
        item = to_person(contact, self._mappings)
        if isinstance(item, Rejection):
            summary.rejected += 1
        else:
            summary.accepted += 1
            for touch in visit_touches(contact, self._mappings.sources.hubspot):
                spill.append(touch)
        return item

    def _list_contacts(self, client: HubSpotClient, state: dict[str, Any],
                       contacts: dict[str, Any], spill: Spill) -> Iterator[SourceItem]:
        """The first, full read; its cursor is kept after each page so it can resume."""
        started = contacts.get("started_at") or iso_z(self._as_of)

        def fetch(after: str | None) -> dict[str, Any]:
            query = {"limit": LIST_PAGE, "properties": ",".join(CONTACT_PROPERTIES),
                     **({"after": after} if after else {})}
            return client.get("/crm/v3/objects/contacts", query, stream=S_CONTACTS)

        for page in pages(fetch, hubspot_after, start=contacts.get("after")):
            for contact in page.body.get("results") or []:
                yield self._emit_contact(contact, spill)
            if page.more:
                state["contacts"] = {"mode": "full", "after": page.cursor,
                                     "started_at": started}
        state["contacts"] = {"mode": "incremental", "watermark": started}

    def _search_contacts(self, client: HubSpotClient, state: dict[str, Any],
                         contacts: dict[str, Any], spill: Spill) -> Iterator[SourceItem]:
        watermark = parse_api_timestamp(contacts["watermark"])
        assert watermark is not None
        start = to_epoch_ms(watermark - OVERLAP)
        end = to_epoch_ms(self._as_of)

        def search(body: dict[str, Any]) -> dict[str, Any]:
            return client.post("/crm/v3/objects/contacts/search", body, stream=S_CONTACTS)

        windows = 0
        for item in read_modified(search, start, end, CONTACT_PROPERTIES):
            if isinstance(item, WindowDone):
                windows += 1
                done = datetime.fromtimestamp(item.end / 1000, tz=UTC)
                # the next run restarts OVERLAP before this, so add it back here
                state["contacts"] = {"mode": "incremental", "watermark": iso_z(done + OVERLAP)
                                     if item.end < end else iso_z(self._as_of)}
            else:
                yield self._emit_contact(item, spill)
        self._summary.stream(S_CONTACTS).notes.append(f"search windows read: {windows}")

    # --------------------------------------------------------- touch streams

    def _read_touch_streams(self, client: HubSpotClient, previous: dict[str, Any],
                            events: list[Program], spill: Spill,
                            new_states: dict[str, Any]) -> None:
        since_programs = parse_api_timestamp(previous.get("programs", {}).get("updated_through"))
        self._read_participations(client, events, since_programs, spill, new_states)
        self._read_forms(client, previous, spill, new_states)
        self._read_email_events(client, previous, spill, new_states)

    def _read_participations(self, client: HubSpotClient, events: list[Program],
                             since: datetime | None, spill: Spill,
                             new_states: dict[str, Any]) -> None:
        summary = self._summary.stream(S_EVENTS)
        mapping = self._mappings.sources.hubspot
        recent = (self._as_of - EVENT_RECHECK).date()
        for event in events:
            updated = parse_api_timestamp(str(event.extra.get("updatedAt") or "") or None)
            fresh = since is None or (updated is not None and updated >= since - OVERLAP) \
                or event.end_date is None or event.end_date >= recent
            if not fresh:
                continue
            path = f"/marketing/v3/marketing-events/participations/{event.program_id}/breakdown"
            for participation in self._list(client, path, {}, S_EVENTS):
                summary.read += 1
                touch = participation_touch(participation, event, mapping)
                if touch is None:
                    summary.skipped += 1
                    continue
                spill.append(touch)
        new_states[S_EVENTS] = {"read_through": iso_z(self._as_of)}

    def _read_forms(self, client: HubSpotClient, previous: dict[str, Any], spill: Spill,
                    new_states: dict[str, Any]) -> None:
        summary = self._summary.stream(S_FORMS)
        kinds = FormTouchTypes(self._mappings.sources.hubspot)
        marks: dict[str, Any] = previous.get("forms") or {}
        default_since = to_epoch_ms(self._as_of - INITIAL_LOOKBACK)
        for form in self._list(client, "/marketing/v3/forms", {}, S_FORMS):
            form_id = str(form.get("id"))
            since = int(marks.get(form_id, default_since))
            stop_before = since - int(OVERLAP.total_seconds() * 1000)
            newest = since
            touch_type = kinds.for_form(form.get("name"))

            def fetch(after: str | None, form_id: str = form_id) -> dict[str, Any]:
                query = {"limit": FORM_PAGE, **({"after": after} if after else {})}
                return client.get(f"/form-integrations/v1/submissions/forms/{form_id}",
                                  query, stream=S_FORMS)

            for page in pages(fetch, hubspot_after):
                done = False
                for submission in page.body.get("results") or []:  # newest first
                    submitted = int(submission.get("submittedAt") or 0)
                    if submitted < stop_before:
                        done = True
                        break
                    if submitted > to_epoch_ms(self._as_of):
                        continue
                    summary.read += 1
                    newest = max(newest, submitted)
                    spill.append(submission_touch(submission, form, touch_type))
                if done:  # older than the last read: the rest was read before
                    break
            new_states[f"{S_FORMS}:{form_id}"] = newest

    def _read_email_events(self, client: HubSpotClient, previous: dict[str, Any],
                           spill: Spill, new_states: dict[str, Any]) -> None:
        table = self._mappings.sources.hubspot.email_event_touch_types
        if not table:
            return
        summary = self._summary.stream(S_EMAIL)
        mark = previous.get("email_events", {}).get("read_through")
        since = parse_api_timestamp(mark) if mark else self._as_of - INITIAL_LOOKBACK
        assert since is not None
        for event_type, touch_type in sorted(table.items()):

            def fetch(offset: str | None, event_type: str = event_type) -> dict[str, Any]:
                query: dict[str, Any] = {"eventType": event_type, "limit": EMAIL_PAGE,
                                         "startTimestamp": to_epoch_ms(since - OVERLAP),
                                         "endTimestamp": to_epoch_ms(self._as_of)}
                if offset:
                    query["offset"] = offset
                return client.get("/email/public/v1/events", query, stream=S_EMAIL)

            for page in pages(fetch, hubspot_offset):
                for event in page.body.get("events") or []:
                    summary.read += 1
                    spill.append(email_event_touch(event, touch_type))
        new_states[S_EMAIL] = {"read_through": iso_z(self._as_of)}

    # ---------------------------------------------------------------- emails

    def _resolve_emails(self, client: HubSpotClient, spill: Spill,
                        emails: dict[str, str]) -> Iterator[SourceItem]:
        """Find the contacts behind email-keyed touches; yield them as people."""
        wanted = sorted({t["email"].lower() for t in spill if not t.get("map_id")
                         and t.get("email")})
        summary = self._summary.stream(S_LOOKUP)
        for start in range(0, len(wanted), BATCH_READ):
            batch = wanted[start:start + BATCH_READ]
            body = client.post("/crm/v3/objects/contacts/batch/read", {
                "idProperty": "email", "inputs": [{"id": e} for e in batch],
                "properties": list(CONTACT_PROPERTIES)}, stream=S_LOOKUP)
            for contact in body.get("results") or []:
                email = str((contact.get("properties") or {}).get("email") or "").lower()
                if email and contact.get("id") is not None:
                    emails[email] = str(contact["id"])
                summary.read += 1
                item = to_person(contact, self._mappings)
                summary.rejected += isinstance(item, Rejection)
                summary.accepted += not isinstance(item, Rejection)
                yield item

    # --------------------------------------------------------------- touches

    def _touches(self, spill: Spill, factory: TouchFactory, emails: Mapping[str, str],
                 campaigns_by_utm: Mapping[str, str], *, resolved: bool,
                 unresolved: set[str]) -> Iterator[SourceItem]:
        for fields in spill:
            stream = str(fields.get("stream"))
            summary = self._summary.stream(_summary_stream(stream))
            map_id = fields.get("map_id")
            email = (fields.get("email") or "").lower()
            if not map_id and email:
                map_id = emails.get(email)
                if map_id is None and not resolved:
                    unresolved.add(stream)  # the stop came first: read it again next run
                    continue
            utms: dict[str, str] = dict(fields.get("utms") or {})
            program_id = fields.get("program_id") or campaigns_by_utm.get(
                (utms.get("utm_campaign") or "").lower())
            if not map_id:
                summary.rejected += 1
                yield Rejection(kind="touch", record_id=fields.get("touch_id"), field="email",
                                value=email or None,
                                message=f"no HubSpot contact has the email {email!r}"
                                if email else "the record names no contact", raw=fields)
                continue
            try:
                occurred_at = parse_api_timestamp(fields.get("occurred_at"))
            except ValueError as exc:
                occurred_at, problem = None, str(exc)
            else:
                problem = "no timestamp"
            if occurred_at is None:
                summary.rejected += 1
                yield Rejection(kind="touch", record_id=fields.get("touch_id"),
                                field="occurred_at", message=problem, raw=fields)
                continue
            item = factory.build(
                touch_id=str(fields["touch_id"]), map_id=str(map_id),
                touch_type=str(fields["touch_type"]), occurred_at=occurred_at,
                program_id=program_id, url=fields.get("url"), referrer=fields.get("referrer"),
                utms=utms, extra=fields.get("extra") or {}, origin=ORIGIN, raw=fields)
            if isinstance(item, Rejection):
                summary.rejected += 1
            else:
                summary.accepted += 1
            yield item


def _summary_stream(stream: str) -> str:
    return S_FORMS if stream.startswith(f"{S_FORMS}:") else stream


def _store_stream_state(state: dict[str, Any], key: str, value: Any) -> None:
    if key.startswith(f"{S_FORMS}:"):
        state.setdefault("forms", {})[key.split(":", 2)[2]] = value
    elif key == S_EVENTS:
        state["marketing_events"] = value
    elif key == S_EMAIL:
        state["email_events"] = value


def _updated_at(raw: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_api_timestamp(raw.get("updatedAt"))
    except ValueError:
        return None
