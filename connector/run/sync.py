"""One reconciliation run: read the MAP, refresh the mirror, plan, write, record.

Safe to run every 15 minutes and safe to kill at any point: the ledger and the
source checkpoint are committed together; the mirror watermark moves only with
the rows behind it; every record the connector creates carries a key
Salesforce enforces, so a resumed run finds what the killed one wrote instead
of writing it twice; and people stay in scope until a run completes.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import requests

from connector.config import Settings
from connector.errors import (
    ApiLimitExceeded,
    BudgetExhausted,
    ConnectorError,
    SourceQuotaExhausted,
)
from connector.mappings import Mappings
from connector.models import Person, Program, Rejection, TargetAccount, Touch
from connector.plan.model import Plan
from connector.plan.planner import Planner
from connector.run.execute import ExecutionOutcome, Executor
from connector.run.mirror import MirrorRefresh, refresh_mirror
from connector.run.preflight import login_first
from connector.run.status import RunStatus
from connector.salesforce import DescribeCache, SalesforceClient, Writer, require_valid_mappings
from connector.salesforce.writer import WriteOutcome
from connector.sources import open_source
from connector.state.dead_letters import DeadLetterKind
from connector.state.orphans import reconcile_orphan_touches
from connector.state.store import StateStore

log = logging.getLogger(__name__)

SYNC_OBJECTS = ("Lead", "Contact", "Account", "Campaign", "CampaignMember", "Opportunity",
                "OpportunityContactRole")
LEDGER_BATCH = 5_000
# Salesforce person records planned and written per batch: large enough that a
# batch's steps fill few Bulk 2.0 jobs, small enough to bound memory.
PEOPLE_BATCH = 100_000
# Writes kept per step as samples in the summary of a run of several batches.
SAMPLE_WRITES = 20


@contextmanager
def fewer_gc_passes(threshold: int = 50_000) -> Iterator[None]:
    """Run Python's cyclic garbage collector less often for a while, then as before.

    Reading the MAP allocates millions of short-lived, acyclic objects (freed by
    reference counting); at the default threshold of 700 allocations the
    collector's passes took about 15% of a 100k-person read. Cyclic garbage, if
    any, is still collected, just later."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], threshold), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class Reporter(Protocol):
    """Progress for people watching a terminal; a no-op for machines."""

    def phase(self, name: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def note(self, message: str) -> None: ...
    def done(self) -> None: ...


class QuietReporter:
    def phase(self, name: str, total: int | None = None) -> None:
        log.info("%s", name)

    def advance(self, n: int = 1) -> None:
        pass

    def note(self, message: str) -> None:
        log.info("%s", message)

    def done(self) -> None:
        pass


@dataclass
class SyncOptions:
    as_of: datetime
    dry_run: bool = False
    full: bool = False
    full_map: bool = False
    since: datetime | None = None
    replay: bool = False
    # recompute attribution at the end (the CLI's default; --no-attribution)
    attribution: bool = False


@dataclass
class SyncResult:
    run_id: int
    status: RunStatus
    as_of: datetime
    plan: Plan
    api_calls: dict[str, Any]
    objects: dict[str, dict[str, int]]
    dead_letters: int
    dead_letters_by_kind: dict[str, int] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    drift: dict[str, int] = field(default_factory=dict)
    findings: Counter[str] = field(default_factory=Counter)
    estimate: dict[str, Any] = field(default_factory=dict)
    stopped: ConnectorError | None = None
    seconds: float = 0.0
    attribution: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        """0 done; 1 done, but records failed or this run rejected input rows; else
        the stop's own code (4 at the API budget)."""
        if self.stopped is not None:
            return self.stopped.exit_code
        rejected = (self.ledger.get("counts") or {}).get("rejected", 0)
        return 1 if self.status == RunStatus.PARTIAL or rejected else 0

    def as_json(self) -> dict[str, Any]:
        """The docs/interfaces.md shape, plus details under extra keys."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "as_of": self.as_of.isoformat(),
            "api_calls": self.api_calls.get("total", 0),
            "objects": self.objects,
            "dead_letters": self.dead_letters,
            "dead_letters_by_kind": self.dead_letters_by_kind,
            "api_calls_by_kind": self.api_calls.get("by_kind", {}),
            "api_calls_by_endpoint": self.api_calls.get("by_endpoint", {}),
            "api_seconds": self.api_calls.get("seconds", {}),
            "drift": self.drift,
            "findings": dict(self.findings),
            "ledger": self.ledger,
            "estimate": self.estimate,
            "stopped": str(self.stopped) if self.stopped else None,
            "seconds": round(self.seconds, 2),
            "attribution": self.attribution,
        }


class Sync:
    def __init__(
        self,
        settings: Settings,
        mappings: Mappings,
        store: StateStore,
        *,
        http: requests.Session | None = None,
        map_transport: httpx.BaseTransport | None = None,
        reporter: Reporter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.mappings = mappings
        self.store = store
        self.http = http
        self.map_transport = map_transport
        self.reporter = reporter or QuietReporter()
        self.sleep = sleep

    # --------------------------------------------------------------- run

    def run(self, options: SyncOptions) -> SyncResult:
        from connector.run.dry_run import ScratchStore, run_dry

        if options.dry_run and not isinstance(self.store, ScratchStore):
            return run_dry(self, options)  # plans on a copy: the state stays as it was
        started = time.monotonic()
        kind = "sync-dry-run" if options.dry_run else "sync"
        run_id = self.store.start_run("replay" if options.replay else kind, options.as_of)
        stopped: ConnectorError | None = None
        ledger: dict[str, Any] = {}
        try:
            # Log in to Salesforce before the MAP is read: a wrong secret or URL must
            # fail the run before it spends any Marketo or HubSpot quota.
            self._client = login_first(self.settings, self.http, self.sleep)
            try:
                ledger = self._read_map(run_id, options)
            except (SourceQuotaExhausted, BudgetExhausted) as exc:
                # what was read is committed with its checkpoint; sync that much
                stopped = exc
                ledger = {"stopped": str(exc)}
            result = self._salesforce(run_id, options, stopped)
            result.ledger = ledger
            result.seconds = time.monotonic() - started
        except ConnectorError as exc:
            self.store.finish_run(run_id, RunStatus.FAILED, {"error": str(exc), "ledger": ledger})
            raise
        except BaseException:
            self.store.finish_run(run_id, RunStatus.FAILED,
                                  {"error": "interrupted", "ledger": ledger})
            raise
        finally:
            self.reporter.done()
        self.store.finish_run(run_id, result.status, result.as_json())
        return result

    def _salesforce(self, run_id: int, options: SyncOptions,
                    stopped: ConnectorError | None) -> SyncResult:
        """Check, mirror, plan and write; a budget or daily-limit stop anywhere in
        here ends the run cleanly (status ``stopped``, exit 4) with what it did."""
        client = getattr(self, "_client", None) or SalesforceClient(
            self.settings.salesforce, http=self.http, sleep=self.sleep)
        plan = Plan()
        objects: dict[str, dict[str, int]] = {}
        estimate: dict[str, Any] = {}
        status = RunStatus.OK
        try:
            if not client.connected:
                client.connect()
            describe = DescribeCache(client)
            self.reporter.phase("checking the org's fields")
            require_valid_mappings(describe, self.mappings, SYNC_OBJECTS)
            self.reporter.phase("refreshing the Salesforce mirror")
            refresh = refresh_mirror(client, describe, self.store, self.mappings, run_id,
                                     full=options.full)
            writer = Writer(client, sleep=self.sleep)
            executor = None if options.dry_run else Executor(
                client, writer, self.store, self.mappings, run_id, reporter=self.reporter)
            plan, outcome, estimate = self._plan_and_write(run_id, options, refresh, writer,
                                                           executor)
            estimate.update({"budget_remaining": client.budget.remaining,
                             "org_remaining": client.budget.org_remaining()})
            if options.dry_run:
                status = RunStatus.DRY_RUN
                objects = {obj: {"created": c["create"], "updated": c["update"],
                                 "unchanged": c["unchanged"], "failed": 0}
                           for obj, c in plan.counts().items()}
            elif outcome is not None:
                stopped = outcome.stopped or stopped
                objects = outcome.objects
                status = RunStatus.PARTIAL if outcome.failed else RunStatus.OK
            if options.attribution and not options.dry_run and stopped is None:
                attribution = self._attribution(client, describe, run_id, options,
                                                refresh.changed.get("Opportunity", set()))
                if attribution is not None:
                    objects.update(attribution.objects)
                    stopped = attribution.stopped
                    if attribution.status == RunStatus.PARTIAL:
                        status = RunStatus.PARTIAL
        except (BudgetExhausted, ApiLimitExceeded) as exc:
            stopped = exc
        if stopped is not None:
            status = RunStatus.STOPPED
        dead = self.store.dead_letter_count()
        result = SyncResult(
            run_id=run_id, status=status, as_of=options.as_of, plan=plan,
            api_calls=client.log.summary(), objects=objects,
            dead_letters=sum(dead.values()), dead_letters_by_kind=dead,
            drift=dict(plan.drift), findings=Counter(f.category for f in plan.findings),
            estimate=estimate, stopped=stopped)
        result.attribution = self._attribution_summary
        return result

    _attribution_summary: dict[str, Any] | None = None

    def _attribution(self, client: SalesforceClient, describe: DescribeCache, run_id: int,
                     options: SyncOptions, changed: set[str]) -> Any:
        """Credits for the opportunities, when the org has Attribution__c deployed."""
        from connector.run.attribution import AttributionRun
        from connector.salesforce import validate_mappings

        problems = validate_mappings(describe, self.mappings, ["Attribution__c"])
        if problems:
            log.warning("attribution skipped: the org does not have the Attribution__c the "
                        "mappings declare (%s); deploy `connector schema export`, or run "
                        "sync --no-attribution", "; ".join(problems[:3]))
            self._attribution_summary = {"status": "skipped", "problems": problems}
            return None
        self.reporter.phase("attribution")
        result = AttributionRun(client, self.store, self.mappings,
                                as_of=options.as_of).run(run_id, only_credits=True,
                                                         changed_opportunities=changed)
        self._attribution_summary = result.as_json()
        return result

    # --------------------------------------------------------- MAP read

    def _read_map(self, run_id: int, options: SyncOptions) -> dict[str, Any]:
        with fewer_gc_passes():
            return self._read_map_batches(run_id, options)

    def _read_map_batches(self, run_id: int, options: SyncOptions) -> dict[str, Any]:
        kind = self.settings.map.kind
        reader = open_source(self.settings, self.mappings, transport=self.map_transport,
                             as_of=options.as_of)
        full_read = options.full or options.full_map or options.replay
        checkpoint = None if full_read else self.store.watermark("map", kind)
        known = self.store.programs()
        counts: Counter[str] = Counter()
        buffers: dict[type, list[Any]] = {Person: [], Program: [], Touch: [],
                                          TargetAccount: []}
        # Rejections are written in the transaction of the next batch (ahead of its
        # records, so in the order they were read) rather than committed one by one.
        rejected: list[Rejection] = []
        self.reporter.phase(f"reading the MAP ({kind})")

        def keep_rejections() -> None:
            for rejection in rejected:
                self.store.add_rejection(run_id, rejection)

        def flush(records: bool = True) -> None:
            with self.store.transaction():
                keep_rejections()
                if records:
                    self._flush(run_id, buffers, counts)
            rejected.clear()

        pending = 0
        try:
            for item in reader.read(checkpoint, known):
                if isinstance(item, Rejection):
                    rejected.append(item)
                    counts["rejected"] += 1
                    if len(rejected) >= LEDGER_BATCH:
                        flush(records=False)
                    continue
                buffers[type(item)].append(item)
                pending += 1
                if pending >= LEDGER_BATCH:
                    flush()
                    pending = 0
                    self.reporter.advance(LEDGER_BATCH)
        except (SourceQuotaExhausted, BudgetExhausted):
            with self.store.transaction():
                keep_rejections()
                self._flush(run_id, buffers, counts)
                self.store.set_watermark(run_id, "map", kind, reader.checkpoint)
            raise
        except BaseException:
            if rejected:  # the rows rejected before the read failed are kept, as ever
                flush(records=False)
            raise
        with self.store.transaction():
            keep_rejections()
            self._flush(run_id, buffers, counts)
            counts.update(reconcile_orphan_touches(self.store, run_id))
            self.store.set_watermark(run_id, "map", kind, reader.checkpoint)
            if full_read:
                counts["rejections_resolved"] = self.store.resolve_stale_rejections(run_id)
        summary = reader.summary.as_dict()
        return {"counts": dict(counts), "source": summary}

    def _flush(self, run_id: int, buffers: dict[type, list[Any]],
               counts: Counter[str]) -> None:
        # programs and people before touches: order of the source, kept per batch
        if buffers[Program]:
            c = self.store.upsert_programs(run_id, buffers[Program])
            counts["programs_new"] += c.new
            counts["programs_changed"] += c.changed
        if buffers[Person]:
            c = self.store.upsert_people(run_id, buffers[Person])
            counts["people_new"] += c.new
            counts["people_changed"] += c.changed
        if buffers[Touch]:
            c, duplicates = self.store.upsert_touches(run_id, buffers[Touch])
            counts["touches_new"] += c.new
            counts["touches_changed"] += c.changed
            for dup in duplicates:
                origin = dup.origin
                self.store.add_rejection(run_id, Rejection(
                    kind="touch", record_id=dup.touch_id,
                    file=origin.file if origin else None, row=origin.row if origin else None,
                    field="touch_id", value=dup.touch_id,
                    message=f"duplicate touch_id {dup.touch_id} with different content; the "
                            f"first occurrence was kept",
                    raw=dup.model_dump(mode="json", exclude={"origin"})))
                counts["rejected"] += 1
        if buffers[TargetAccount]:
            self.store.upsert_target_accounts(run_id, buffers[TargetAccount])
        for buffer in buffers.values():
            buffer.clear()

    # ------------------------------------------------------------- plan

    def _scope(self, run_id: int, options: SyncOptions, refresh: MirrorRefresh) -> set[str]:
        store = self.store
        last = store.last_completed_run("sync")
        if options.full or last is None:
            return set(store.all_map_ids())
        scope = store.people_changed_since(last)
        changed_people_records = refresh.changed.get("Lead", set()) | \
            refresh.changed.get("Contact", set()) | refresh.deleted.get("Lead", set()) | \
            refresh.deleted.get("Contact", set())
        scope |= store.people_linked_to(changed_people_records)
        emails = {r.email for obj in ("Lead", "Contact")
                  for r in store.mirror_get(obj, refresh.changed.get(obj, set())).values()
                  if r.email}
        scope |= store.unlinked_people_by_email(emails)
        member_rows = store.mirror_get("CampaignMember",
                                       refresh.changed.get("CampaignMember", set()))
        # both ids: a converted Lead's member keeps its LeadId, and its person is
        # linked to the Contact
        scope |= store.people_linked_to({p for r in member_rows.values()
                                         for p in (r.lead_id, r.contact_id) if p})
        for dead in store.dead_letters(DeadLetterKind.FAILED_WRITE):  # waiting for a retry
            scope.update(dead.payload.get("map_ids") or ([dead.map_id] if dead.map_id else []))
        new_campaign_people = store.people_touching_programs(
            store.changed_programs(run_id))
        scope |= new_campaign_people
        if options.since is not None:
            scope |= store.people_touched_since(options.since)
        # values that change with time alone: an SLA ran out, points decayed
        scope |= store.people_due(options.as_of)
        known = set(store.all_map_ids())
        return scope & known

    def _plan_and_write(self, run_id: int, options: SyncOptions, refresh: MirrorRefresh,
                        writer: Writer, executor: Executor | None,
                        ) -> tuple[Plan, ExecutionOutcome | None, dict[str, Any]]:
        """Campaigns and their statuses first (a small plan, written whole), then
        people in batches of ``PEOPLE_BATCH`` Salesforce records: each batch is
        planned completely, then written, then forgotten, so memory stays per
        batch however large the org. The returned plan is the whole plan for a
        run of one batch, else counts with samples of each step."""
        planner = Planner(self.store, self.mappings, as_of=options.as_of,
                          tz=self.settings.salesforce.tz)
        plan = Plan()
        self.reporter.phase("planning campaigns")
        planner.plan_campaign_steps(plan)
        scope = self._scope(run_id, options, refresh)
        self.reporter.phase("matching people", total=len(scope))
        targets = planner.match_people(plan, scope)
        estimate = {"api_calls": self._estimate(plan, writer)}
        outcome = executor.execute(plan) if executor is not None else None
        shared = {w.ref for step in plan.steps for w in step.writes}
        keep = None if len(targets) <= PEOPLE_BATCH else SAMPLE_WRITES
        for start in range(0, len(targets), PEOPLE_BATCH):
            if outcome is not None and outcome.stopped is not None:
                break  # the rest stays in scope for the next run
            batch = targets[start:start + PEOPLE_BATCH]
            self.reporter.phase(f"planning people {start + 1}-{start + len(batch)}",
                                total=len(batch))
            batch_plan = Plan()
            planner.plan_targets(batch_plan, batch)
            estimate["api_calls"] += self._estimate(batch_plan, writer)
            if executor is not None:
                outcome = executor.execute(batch_plan)
                executor.keep_ids(shared)
            else:
                # a dry run plans on a scratch copy of the state: record the links
                # a real run would have stored by now (account scores read them)
                with self.store.transaction():
                    self.store.set_links(0, list(batch_plan.links.values()))
            plan.absorb(batch_plan, keep=keep)
        # account scores of the accounts these people belong to
        accounts = {lk.account_id for lk in plan.links.values() if lk.account_id}
        accounts |= plan.accounts
        accounts |= set(self.store.accounts_of(scope))
        accounts |= {str(d.payload.get("record_id")) for d in self.store.dead_letters(
            DeadLetterKind.FAILED_WRITE) if d.sobject == "Account" and d.payload.get("record_id")}
        if executor is None:
            with self.store.transaction():
                self.store.set_links(0, list(plan.links.values()))
        if accounts and (outcome is None or outcome.stopped is None):
            self.reporter.phase("planning accounts", total=len(accounts))
            account_plan = Plan()
            planner.plan_accounts(account_plan, accounts)
            estimate["api_calls"] += self._estimate(account_plan, writer)
            if executor is not None:
                outcome = executor.execute(account_plan)
            plan.absorb(account_plan, keep=keep)
        return plan, outcome, estimate

    def _estimate(self, plan: Plan, writer: Writer) -> int:
        calls = 0
        for step in plan.steps:
            calls += writer.estimate_calls(step.total, step.action,
                                           has_bulk_key=step.bulk_key is not None)
        # the ids of default statuses of new campaigns: one query per 200 campaigns
        creators = {creator for creator, _ in plan.implicit.values()}
        calls += -(-len(creators) // 200)
        return calls


def now() -> datetime:
    return datetime.now(UTC)


__all__ = ["QuietReporter", "Reporter", "Sync", "SyncOptions", "SyncResult", "WriteOutcome",
           "now"]
