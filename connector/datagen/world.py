"""One company at a time: its people, their touches, and its Salesforce records.

Everything about a company (people, opportunities, contacts, leads) is decided
and written together, then forgotten: the company is the working set that keeps
memory flat. Opportunities are planned before the people, so that buyers'
histories lead up to them and attribution has touches to credit.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from connector.datagen import dirty, vocab
from connector.datagen.clock import (
    DAY,
    HOUR,
    business_time,
    iso_naive,
    iso_with_offset,
)
from connector.datagen.companies import (
    COMBINATIONS,
    Company,
    make_company,
    people_at,
    pick_website,
)
from connector.datagen.export import MapExport, SeedWriter
from connector.datagen.people import Profile, ascii_fold, duplicate_of, new_profile, unique_local
from connector.datagen.programs import Catalogue
from connector.datagen.salesforce import (
    Keys,
    OpportunityPlan,
    PersonFields,
    account_record,
    contact_record,
    contact_role_records,
    converted,
    lead_record,
    opportunity_record,
    plan_opportunity,
    sales_contact_record,
)
from connector.datagen.timeline import TimelineBuilder, TimelineSpec, TouchEvent
from connector.mappings import Mappings
from connector.normalize import resolve_channel

HISTORY_DAYS = 730
"""People are created over the 24 months before ``as_of``."""
IN_SALESFORCE = 0.82
"""Share of companies that are Accounts in Salesforce (the rest are net-new to sales)."""
PREVIOUSLY_SYNCED = 0.55
"""Share of Salesforce people records that already carry MAP_Id__c."""
ORIGINAL_SOURCE_FILLED = 0.5
"""Share of previously synced records whose Original_Source__c is already filled ..."""
ORIGINAL_SOURCE_CONFLICT = 0.12
"""... and share of those that disagree with what the MAP export implies."""
SALESFORCE_DUPLICATES = 0.03
"""Share of Salesforce people with a second Lead for the same email."""
_UNCONVERTED_STATUSES = (("Open - Not Contacted", 42), ("Working - Contacted", 24),
                         ("Sales Accepted", 7), ("Qualified", 5), ("Nurture", 8),
                         ("Recycled", 4), ("Closed - Not Converted", 10))
_RECYCLED_STATUSES = (("Recycled", 35), ("Nurture", 25), ("Working - Contacted", 20),
                      ("Open - Not Contacted", 20))
_LEAD_SOURCE_BY_CHANNEL = {
    "Paid Search": "Advertisement", "Paid Social": "Advertisement", "Display": "Advertisement",
    "Webinar": "Webinar", "Event": "Trade Show", "Referral": "Employee Referral",
    "Partner": "Partner Referral", "Outbound Sales": "Phone Inquiry",
}
_TIERS = (("Tier 1", 2), ("Tier 2", 3), ("Tier 3", 5))
_SALES_CONTACT_TITLES = tuple(t.title for t in vocab.TITLES if t.seniority != "out")


@dataclass(frozen=True, slots=True)
class WorldOptions:
    people: int
    dirty: float
    touches_per_person: float
    as_of: int  # epoch seconds
    signal: bool = False  # plant the documented relationship (see plant_signal)
    account_signal: bool = False  # and the account-level one (see opportunity_chance)


SIGNAL_BASE, SIGNAL_SENIOR, SIGNAL_ATTENDED = 0.10, 0.45, 0.35
"""With ``--signal``, a closed opportunity is won with probability SIGNAL_BASE, plus
SIGNAL_SENIOR when its primary buyer is an executive or a VP, plus SIGNAL_ATTENDED when
any of its buyers attended a webinar or an event before it was created (a known
relationship for ``connector score train`` to find; without it, 45% for ICP
companies and 30% for others, whoever the buyers are)."""


SIGNAL_MID_MARKET, SIGNAL_OTHER_SIZE = 0.60, 0.06
"""With ``--account-signal``, a company in Salesforce gets an opportunity with
probability SIGNAL_MID_MARKET when it is mid-market (200 to 999 employees) and
SIGNAL_OTHER_SIZE otherwise, whatever its industry and country (without it: 45% for
ICP companies, 8% for others): an account-level relationship for ``score train
--level account`` to find, which the bundled account fit rules (enterprise above
mid-market) miss. Unlike ``--signal`` it changes the world, not only outcomes: which
companies have opportunities decides who are buyers and what they do."""


def opportunity_chance(c: Company, account_signal: bool) -> float:
    """The chance that a company in Salesforce has a (first) opportunity."""
    if account_signal:
        return SIGNAL_MID_MARKET if 200 <= c.employees < 1000 else SIGNAL_OTHER_SIZE
    return 0.45 if c.icp else 0.08


def plant_signal(rng: random.Random, opp: OpportunityPlan) -> None:
    """Re-decide a closed opportunity's outcome from its buyers (``--signal``)."""
    if not opp.closed or not opp.buyers:
        return
    primary = next((b for b in opp.buyers if b.primary), opp.buyers[0])
    chance = (SIGNAL_BASE + SIGNAL_SENIOR * (primary.seniority in ("exec", "vp"))
              + SIGNAL_ATTENDED * any(b.attended for b in opp.buyers))
    won = rng.random() < chance
    opp.stage, opp.probability = ("Closed Won", 100) if won else ("Closed Lost", 0)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def draw_touch_count(rng: random.Random, mean: float) -> int:
    """Heavy-tailed (gamma) touch counts with the requested mean."""
    if mean <= 0:
        return 0
    x = rng.gammavariate(1.6, mean / 1.6)
    return int(x) + (rng.random() < x - int(x))


class World:
    def __init__(self, rng: random.Random, options: WorldOptions, catalogue: Catalogue,
                 mappings: Mappings, export: MapExport, seed: SeedWriter, keys: Keys,
                 sales_campaign_keys: list[str]) -> None:
        self.rng = rng
        self.o = options
        self.as_of = options.as_of
        self.window_start = options.as_of - HISTORY_DAYS * DAY
        self.catalogue = catalogue
        self.mappings = mappings
        self.export = export
        self.seed = seed
        self.keys = keys
        self.sales_campaign_keys = sales_campaign_keys
        self.timeline = TimelineBuilder(rng, catalogue, options.as_of)
        self.responses = frozenset(t for t, d in mappings.touches.touch_types.items()
                                   if d.response)
        self.company_offset = rng.randrange(COMBINATIONS)
        self.next_map_id = 1_000_001
        self.next_touch_id = 100_000_001
        self.counts: Counter[str] = Counter()
        self.dirty: Counter[str] = Counter({k: 0 for k in dirty.KINDS})
        self.touch_types: Counter[str] = Counter()

    # ---------------------------------------------------------------- company

    def company(self, index: int, remaining: int) -> int:
        """Generate and write company ``index``; returns its number of people rows."""
        rng = self.rng
        c = make_company(rng, index, self.company_offset)
        size = min(remaining, people_at(rng, c))
        in_sf = rng.random() < IN_SALESFORCE
        self.counts["companies"] += 1
        self.counts["icp_companies"] += c.icp
        if c.icp and rng.random() < (0.35 if in_sf else 0.12):
            domain = f"www.{c.domain}" if rng.random() < 0.1 else c.domain
            self.export.target_accounts.write((domain, None, _weighted(rng, _TIERS)))
        offset = rng.choice(vocab.COUNTRY_BY_NAME[c.country].utc_offsets_minutes) * 60
        opps: list[OpportunityPlan] = []
        if in_sf and rng.random() < opportunity_chance(c, self.o.account_signal):
            opps.append(plan_opportunity(rng, self.keys, c, offset, self.as_of))
            if rng.random() < 0.15:
                opps.append(plan_opportunity(rng, self.keys, c, offset, self.as_of,
                                             expansion=True))

        used_locals: set[str] = set()
        profiles: list[Profile] = []
        originals: list[Profile] = []
        for _ in range(size):
            defect = dirty.person_defect(rng, self.o.dirty)
            map_id = str(self.next_map_id)
            self.next_map_id += 1
            if defect == "duplicate_person" and originals:
                profile = duplicate_of(rng, rng.choice(originals), map_id)
            else:
                if defect == "duplicate_person":  # nobody earlier to duplicate
                    defect = rng.choice(("bad_number", "too_long"))
                profile = new_profile(rng, c, map_id, used_locals, defect, self.next_map_id)
                if profile.matchable:
                    originals.append(profile)
            if defect:
                self.dirty[defect] += 1
            profiles.append(profile)

        candidates = [p for p in profiles if p.defect in (None, "bad_number", "too_long")
                      and p.seniority != "out"]
        for k, opp in enumerate(opps):
            if opp.sales_only:
                continue
            wanted = rng.choices((1, 2, 3), weights=(45, 35, 20))[0]
            opp.buyers, candidates = candidates[:wanted], candidates[wanted:]
            for j, p in enumerate(opp.buyers):
                p.buyer_of, p.primary = k, j == 0
            opp.sales_only = not opp.buyers
        for p in profiles:
            self._person(p, opps)
        self.counts["people"] += len(profiles)
        if in_sf:
            self._account(c, offset, profiles, opps, used_locals)
        else:
            for p in profiles:
                if p.email_key and p.defect != "duplicate_person" and rng.random() < 0.45:
                    self._lead_only(p, c)
        return size

    # ----------------------------------------------------------------- people

    def _created(self, lo: int, hi: int, offset: int, recent_bias: float = 0.75) -> int:
        rng = self.rng
        ts = lo + int((hi - lo) * rng.random() ** recent_bias)
        return min(max(business_time(rng, ts, offset), lo), hi)

    def _person(self, p: Profile, opps: list[OpportunityPlan]) -> None:
        rng = self.rng
        as_of = self.as_of
        mean = self.o.touches_per_person
        spec: TimelineSpec
        if p.original is not None:
            lo = p.original.created_at + DAY
            created = self._created(lo, as_of - HOUR, p.offset, 1.0) if lo < as_of - HOUR \
                else as_of - rng.randint(HOUR, 2 * HOUR)
            spec = TimelineSpec(created, p.offset, rng.randint(0, 3) if mean > 0 else 0,
                                journeys=[(created, created + 10 * DAY)])
        elif p.buyer_of is not None:
            opp = opps[p.buyer_of]
            lo = max(self.window_start, opp.created - 365 * DAY)
            hi = opp.created - 14 * DAY
            p.re_engaged = rng.random() < 0.25 and hi - lo > 120 * DAY
            created = self._created(lo, hi - (86 * DAY if p.re_engaged else 0), p.offset, 1.0)
            first_end = created + rng.randint(3, 25) * DAY
            final_start = opp.created - rng.randint(10, 60) * DAY
            if p.re_engaged:
                final_start = max(final_start, first_end + 45 * DAY)
            journeys = [(created, first_end), (max(final_start, created), opp.created - HOUR)]
            finale: tuple[int, str | None] = (opp.created, None)
            if p.primary and rng.random() < 0.6:
                finale = (opp.created, "demo_request" if rng.random() < 0.7 else "trial_start")
            count = draw_touch_count(rng, mean)
            spec = TimelineSpec(created, p.offset, max(6, count) if mean > 0 else 0,
                                journeys=journeys, buyer=True, finale=finale)
            self.counts["buyers"] += 1
        else:
            created = self._created(self.window_start, as_of - HOUR, p.offset)
            p.imported = rng.random() < 0.08
            first_end = created + rng.randint(1, 40) * DAY
            journeys = [(created, first_end)]
            gap_start = first_end + rng.randint(45, 240) * DAY
            p.re_engaged = rng.random() < 0.15 and gap_start < as_of - 2 * DAY
            if p.re_engaged:
                second_end = gap_start + rng.randint(3, 25) * DAY
                journeys.append((gap_start, second_end))
                third = second_end + rng.randint(45, 200) * DAY
                if rng.random() < 0.2 and third < as_of - 2 * DAY:
                    journeys.append((third, third + rng.randint(3, 20) * DAY))
            elif rng.random() < 0.3:
                start = first_end + rng.randint(1, 25) * DAY
                journeys.append((start, start + rng.randint(2, 15) * DAY))
            count = draw_touch_count(rng, mean)
            late_demo = None
            if not p.imported and p.matchable and rng.random() < 0.02 and \
                    as_of - created > 3 * DAY:
                demo_at = rng.randint(created + 2 * DAY, as_of)
                late_demo = (demo_at, "demo_request" if rng.random() < 0.7 else "trial_start")
            floor = 0 if p.imported or mean <= 0 else 1  # a form fill created the person
            spec = TimelineSpec(created, p.offset, max(floor, count),
                                journeys=journeys, imported=p.imported, finale=late_demo,
                                job_seeker=p.seniority == "out" and rng.random() < 0.6)
        p.created_at = spec.created_at
        events = self.timeline.build(spec)
        p.touch_count = len(events)
        self.counts["re_engaged"] += p.re_engaged
        self.counts["imported"] += p.imported
        if events:
            first = events[0]
            p.first_touch_channel = self._channel(first)
        if p.imported:
            p.source = rng.choice(vocab.LIST_IMPORT_SOURCES)
        elif p.first_touch_channel and rng.random() < 0.95:
            p.source = rng.choice(vocab.MAP_SOURCE_LABELS[p.first_touch_channel])
        self._write_touches(p, events)
        last = events[-1].ts if events else p.created_at
        p.updated_at = min(last + rng.randint(0, 2 * DAY), as_of)
        if p.buyer_of is not None:
            p.attended = any(e.touch_type in ("webinar_attended", "event_attended")
                             for e in events)
            p.responses_on_campaigns = [
                (e.ts, e.program.campaign_key) for e in events
                if e.program is not None and e.program.campaign_key
                and e.touch_type in self.responses]
        self.export.people.write((
            p.map_id, p.email, p.first_name, p.last_name, p.company, p.title, p.industry,
            p.employees, p.annual_revenue, p.country,
            iso_with_offset(p.created_at, p.display_offset), p.source or None, None, None,
            iso_with_offset(p.updated_at, p.display_offset),
        ))

    def _channel(self, e: TouchEvent) -> str:
        """The channel the connector will resolve for this touch (channels.yaml rules)."""
        channel, _ = resolve_channel(
            self.mappings.channels, self.mappings.touches,
            program_channel=e.program.channel_raw if e.program else None,
            utm_medium=e.utm_medium, utm_source=e.utm_source, referrer=e.referrer,
            touch_type=e.touch_type)
        return channel

    def _write_touches(self, p: Profile, events: list[TouchEvent]) -> None:
        rng = self.rng
        table = self.export.touches
        for e in events:
            touch_id = str(self.next_touch_id)
            self.next_touch_id += 1
            program_id = e.program.program_id if e.program else None
            occurred = iso_with_offset(e.ts, p.display_offset)
            defect = dirty.touch_defect(rng, self.o.dirty)
            if defect == "naive_timestamp":
                occurred = iso_naive(e.ts)
            elif defect == "unknown_program":
                program_id = str(dirty.UNKNOWN_PROGRAM_BASE + rng.randrange(100_000))
            row = (touch_id, p.map_id, program_id, e.touch_type, occurred, e.url, e.referrer,
                   e.utm_source, e.utm_medium, e.utm_campaign, e.utm_content, e.utm_term)
            table.write(row)
            self.touch_types[e.touch_type] += 1
            if defect == "duplicate_touch_id":
                table.write(row)
            if defect:
                self.dirty[defect] += 1
                p.dirty_touches += 1

    # ------------------------------------------------------------- Salesforce

    def _person_fields(self, p: Profile) -> PersonFields:
        """Email as Salesforce holds it, and what a previous sync left behind."""
        rng = self.rng
        assert p.email_key is not None
        email = p.email_key.capitalize() if rng.random() < 0.05 else p.email_key
        fields = PersonFields(email=email)
        fields.lead_source = _LEAD_SOURCE_BY_CHANNEL.get(p.first_touch_channel or "", "Web") \
            if rng.random() < 0.7 else None
        if p.imported and fields.lead_source:
            fields.lead_source = "Purchased List"
        if rng.random() < PREVIOUSLY_SYNCED and p.created_at < self.as_of - 45 * DAY:
            fields.map_id = p.map_id
            self.counts["previously_synced"] += 1
            if p.touch_count and not p.dirty_touches and p.first_touch_channel \
                    and rng.random() < ORIGINAL_SOURCE_FILLED:
                fields.original_source = p.first_touch_channel
                self.counts["original_source_prefilled"] += 1
                if rng.random() < ORIGINAL_SOURCE_CONFLICT:
                    others = [c.name for c in self.mappings.channels.channels
                              if c.name != p.first_touch_channel]
                    fields.original_source = rng.choice(others)
                    self.counts["original_source_conflicts"] += 1
        return fields

    def _lead_status(self, p: Profile) -> str:
        return _weighted(self.rng, _RECYCLED_STATUSES if p.re_engaged else _UNCONVERTED_STATUSES)

    def _lead_created(self, p: Profile) -> int:
        return min(p.created_at + self.rng.randint(30, 2 * HOUR), self.as_of)

    def _lead_only(self, p: Profile, c: Company) -> None:
        fields = self._person_fields(p)
        key = self.keys.new("lead")
        self.seed.write("Lead", lead_record(key, p, c, self._lead_created(p), self._lead_status(p),
                                            fields))
        self.counts["leads"] += 1
        self._maybe_duplicate(p, c, fields.email)

    def _maybe_duplicate(self, p: Profile, c: Company, email: str) -> None:
        """A second Lead with the same email, as a trade-show import leaves behind."""
        rng = self.rng
        if rng.random() >= SALESFORCE_DUPLICATES:
            return
        created = min(p.created_at + rng.randint(10, 300) * DAY, self.as_of - HOUR)
        dup = PersonFields(email=email.upper() if rng.random() < 0.3 else email,
                           lead_source=rng.choice(("Trade Show", "Purchased List")))
        self.seed.write("Lead", lead_record(self.keys.new("lead"), p, c, created,
                                            "Open - Not Contacted", dup))
        self.counts["leads"] += 1
        self.counts["salesforce_duplicates"] += 1

    def _salesforce_mode(self, p: Profile, opps: list[OpportunityPlan],
                         lead_created: int) -> tuple[str | None, int, str | None]:
        """How a person at an Account is in Salesforce: (lead | contact | converted | None,
        conversion time, the opportunity a conversion created)."""
        rng = self.rng
        if p.buyer_of is not None:  # buyers are Contacts, so they can be contact roles
            opp = opps[p.buyer_of]
            if p.primary and opp.convert_primary:
                return "converted", opp.created, opp.key
            if rng.random() < 0.4 and opp.created - HOUR > lead_created + DAY:
                return "converted", rng.randint(lead_created + DAY, opp.created - HOUR), None
            return "contact", 0, None
        r = rng.random()
        if r < 0.30:
            return "contact", 0, None
        if r < 0.50:
            return "lead", 0, None
        if r < 0.57 and lead_created + DAY < self.as_of:
            return "converted", rng.randint(lead_created + DAY, self.as_of), None
        return None, 0, None

    def _account(self, c: Company, offset: int, profiles: list[Profile],
                 opps: list[OpportunityPlan], used_locals: set[str]) -> None:
        rng = self.rng
        as_of = self.as_of
        account_key = self.keys.new("acc")
        contacts: list[tuple[int, dict[str, Any]]] = []  # (CreatedDate, record)
        leads: list[dict[str, Any]] = []
        for p in profiles:
            if p.email_key is None or p.defect == "duplicate_person":
                continue
            if p.free_mail:
                if rng.random() < 0.3:
                    self._lead_only(p, c)
                continue
            lead_created = self._lead_created(p)
            mode, converted_at, opp_key = self._salesforce_mode(p, opps, lead_created)
            if mode is None:
                continue
            fields = self._person_fields(p)
            if mode == "lead":
                leads.append(lead_record(self.keys.new("lead"), p, c, lead_created,
                                         self._lead_status(p), fields))
                self._maybe_duplicate(p, c, fields.email)
                continue
            contact_key = self.keys.new("con")
            if mode == "converted":
                contact_created = converted_at
                leads.append(converted(
                    lead_record(self.keys.new("lead"), p, c, min(lead_created, converted_at - 60),
                                "Closed - Converted", fields),
                    converted_at, account_key, contact_key, opp_key))
                self.counts["converted"] += 1
            else:
                latest = opps[p.buyer_of].created - HOUR if p.buyer_of is not None else as_of
                if rng.random() < 0.3:
                    contact_created = p.created_at - rng.randint(1, 200) * DAY
                else:
                    contact_created = p.created_at + rng.randint(HOUR, 20 * DAY)
                contact_created = min(contact_created, latest)
                self._maybe_duplicate(p, c, fields.email)
            contacts.append((contact_created,
                             contact_record(contact_key, p, account_key, contact_created, fields)))
            self.counts["contacts_from_map"] += 1
            if p.buyer_of is not None:
                opps[p.buyer_of].contact_keys.append((contact_key, p.primary))

        sales_contacts = rng.choices((0, 1, 2), weights=(55, 30, 15))[0]
        for opp in opps:
            extra = 1 + (rng.random() < 0.3) if opp.sales_only else int(rng.random() < 0.15)
            for i in range(extra):
                key = self._sales_contact(c, account_key, used_locals, contacts,
                                          opp.created - DAY)
                opp.contact_keys.append((key, opp.sales_only and i == 0))
        for _ in range(sales_contacts):
            self._sales_contact(c, account_key, used_locals, contacts, as_of - 10 * DAY)

        for opp in opps:
            r = rng.random()
            primary = next((b for b in opp.buyers if b.primary), None)
            touched = [k for ts, k in (primary.responses_on_campaigns if primary else [])
                       if ts <= opp.created]
            if r < 0.2 and self.sales_campaign_keys:
                opp.campaign_key = rng.choice(self.sales_campaign_keys)
            elif r < 0.45 and touched:
                opp.campaign_key = touched[-1]
        if self.o.signal:  # its own random stream: everything but outcomes stays the same
            for opp in opps:
                plant_signal(random.Random(f"signal:{self.company_offset}:{opp.key}"), opp)
        dates = [ts for ts, _ in contacts] + [o.created for o in opps]
        earliest = min(dates, default=as_of)
        created = min(as_of - rng.randint(30, 1800) * DAY, earliest - rng.randint(1, 90) * DAY)
        website = None if rng.random() < 0.03 else pick_website(rng, c.domain)
        won = any(o.stage == "Closed Won" for o in opps)
        self.seed.write("Account", account_record(account_key, c, website,
                                                  business_time(rng, created, offset), won))
        self.counts["accounts"] += 1
        for _, record in contacts:
            self.seed.write("Contact", record)
        for opp in opps:
            self.seed.write("Opportunity", opportunity_record(opp, c, account_key))
            self.counts["opportunities"] += 1
            self.counts["opportunities_" + ("won" if opp.stage == "Closed Won" else
                                            "lost" if opp.stage == "Closed Lost" else "open")] += 1
            self.counts["opportunities_without_marketing_contacts"] += opp.sales_only
            for role in contact_role_records(rng, self.keys, opp):
                self.seed.write("OpportunityContactRole", role)
                self.counts["opportunity_contact_roles"] += 1
        for record in leads:
            self.seed.write("Lead", record)
        self.counts["leads"] += len(leads)

    def _sales_contact(self, c: Company, account_key: str, used_locals: set[str],
                       contacts: list[tuple[int, dict[str, Any]]], latest: int) -> str:
        """A Contact sales created by hand: on the account's domain, unknown to the MAP."""
        rng = self.rng
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        local = unique_local(f"{ascii_fold(first) or 'x'}.{ascii_fold(last) or 'x'}",
                             used_locals)
        key = self.keys.new("con")
        created = min(self.as_of - rng.randint(10, 900) * DAY, latest)
        title = rng.choice(_SALES_CONTACT_TITLES)
        contacts.append((created, sales_contact_record(
            key, first, last, f"{local}@{c.domain}", title, account_key, c.country, created,
            rng.choice(("Other", "Phone Inquiry", None)))))
        self.counts["sales_contacts"] += 1
        return key
