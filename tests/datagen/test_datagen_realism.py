"""Realism invariants: timing, touch types per channel, buyers' histories, matching."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from connector.mappings import load_mappings
from connector.normalize import normalize_email, parse_timestamp, website_domain
from tests.datagen.conftest import Dataset
from tests.datagen.helpers import clean_touches_by_person, touches_by_person

AS_OF = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

# Touch types a program of each channel may receive.
ALLOWED_TYPES = {
    "Paid Search": {"ad_click", "form_fill", "content_download"},
    "Paid Social": {"ad_click", "form_fill", "content_download"},
    "Display": {"ad_click", "form_fill", "content_download"},
    "Email": {"email_open", "email_click", "form_fill", "content_download"},
    "Webinar": {"webinar_registered", "webinar_attended"},
    "Event": {"event_attended", "sales_meeting"},
    "Content Syndication": {"content_download"},
    "Organic Search": {"content_download"},
    "Organic Social": {"form_fill", "content_download"},
    "Website": {"form_fill", "demo_request", "trial_start"},
    "Referral": {"form_fill"},
    "Partner": {"form_fill", "content_download"},
    "Direct Mail": {"direct_mail", "form_fill"},
    "Outbound Sales": {"sales_meeting"},
}


@pytest.fixture(scope="module")
def channel_of(medium: Dataset) -> dict[str, str]:
    channels = load_mappings().channels
    return {p["program_id"]: channels.canonical(p["channel"]) or "" for p in medium.programs}


def test_touches_fall_between_created_at_and_as_of(medium: Dataset) -> None:
    """Every row, dirty ones included (a naive timestamp is UTC wall time)."""
    created = {p["map_id"]: parse_timestamp(p["created_at"]) for p in medium.people}
    for t in medium.touches:
        at = datetime.fromisoformat(t["occurred_at"])
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        when = created[t["map_id"]]
        assert when is not None and when <= at <= AS_OF, t
    for p in medium.people:
        when = created[p["map_id"]]
        assert when is not None
        assert AS_OF - timedelta(days=731) <= when <= AS_OF


def test_touch_types_fit_their_program_channel(medium: Dataset,
                                               channel_of: dict[str, str]) -> None:
    for touches in clean_touches_by_person(medium).values():
        for t in touches:
            if t.program_id:
                assert t.touch_type in ALLOWED_TYPES[channel_of[t.program_id]], t.raw


def test_webinar_attendance_follows_registration_on_the_webinar_date(medium: Dataset) -> None:
    dates = {p["program_id"]: p["start_date"] for p in medium.programs}
    attended = 0
    for touches in clean_touches_by_person(medium).values():
        registered: dict[str, datetime] = {}
        for t in touches:
            if t.touch_type == "webinar_registered":
                registered.setdefault(t.program_id, t.at)
            elif t.touch_type == "webinar_attended":
                assert t.program_id in registered, t.raw
                assert registered[t.program_id] < t.at
                assert t.at.date().isoformat() == dates[t.program_id]
                attended += 1
    assert attended > 100


def test_email_clicks_follow_an_open_of_the_same_email(medium: Dataset) -> None:
    clicks = 0
    for touches in clean_touches_by_person(medium).values():
        opened: set[str] = set()
        for t in touches:
            if t.touch_type == "email_open":
                opened.add(t.program_id)
            elif t.touch_type == "email_click":
                assert t.program_id in opened, t.raw
                clicks += 1
    assert clicks > 100


def test_ad_clicks_carry_utm_parameters(medium: Dataset) -> None:
    clicks = [t for t in medium.touches if t["touch_type"] == "ad_click"]
    assert clicks
    for t in clicks:
        assert t["utm_source"] and t["utm_medium"] and t["utm_campaign"], t
        assert f"utm_campaign={t['utm_campaign']}" in t["url"]
    assert {t["utm_medium"] for t in clicks} == {"cpc", "paid_social", "display"}


def test_website_touches_without_program_show_referrers_pricing_and_careers(
        medium: Dataset) -> None:
    visits = [t for t in medium.touches if not t["program_id"]]
    assert visits and all(t["url"] for t in visits)
    paths = Counter(urlsplit(t["url"]).path for t in visits)
    assert paths["/pricing"] > 0 and paths["/careers"] > 0
    hosts = Counter(urlsplit(t["referrer"]).hostname for t in visits if t["referrer"])
    assert hosts["www.google.com"] > 0 and hosts["www.linkedin.com"] > 0


def test_activity_leans_to_weekday_business_hours(medium: Dataset) -> None:
    local_times = []
    for t in medium.touches:
        try:
            at = datetime.fromisoformat(t["occurred_at"])
        except ValueError:
            continue
        if at.tzinfo is not None and at.utcoffset() != timedelta(0):
            local_times.append(at)
    assert len(local_times) > 1000
    working = sum(a.weekday() < 5 and 8 <= a.hour < 19 for a in local_times)
    assert working / len(local_times) > 0.7


def test_most_opportunity_contacts_have_touches_before_created_date(medium: Dataset) -> None:
    contacts = {c["_key"]: c for c in medium.seed["Contact"]}
    opps = {o["_key"]: o for o in medium.seed["Opportunity"]}
    people_by_email = {normalize_email(p["email"])[0]: p["map_id"] for p in medium.people}
    touches = touches_by_person(medium)
    with_touches = 0
    roles = medium.seed["OpportunityContactRole"]
    for role in roles:
        opp = opps[role["OpportunityId"]["_ref"]]
        created = parse_timestamp(opp["CreatedDate"])
        assert created is not None
        email = contacts[role["ContactId"]["_ref"]]["Email"].lower()
        map_id = people_by_email.get(email)
        if map_id and any(t.at <= created for t in touches.get(map_id, [])):
            with_touches += 1
    assert with_touches >= 0.7 * len(roles)


def test_some_buyers_request_a_demo_or_trial_just_before_the_opportunity(
        medium: Dataset) -> None:
    contacts = {c["_key"]: c for c in medium.seed["Contact"]}
    opps = {o["_key"]: o for o in medium.seed["Opportunity"]}
    people_by_email = {normalize_email(p["email"])[0]: p["map_id"] for p in medium.people}
    touches = touches_by_person(medium)
    primaries = hits = 0
    for role in medium.seed["OpportunityContactRole"]:
        if not role["IsPrimary"]:
            continue
        map_id = people_by_email.get(contacts[role["ContactId"]["_ref"]]["Email"].lower())
        if map_id is None or map_id not in touches:
            continue
        created = parse_timestamp(opps[role["OpportunityId"]["_ref"]]["CreatedDate"])
        assert created is not None
        primaries += 1
        hits += any(t.touch_type in ("demo_request", "trial_start")
                    and created - timedelta(days=11) <= t.at < created
                    for t in touches[map_id])
    assert primaries > 20
    assert 0.3 <= hits / primaries <= 0.9


def test_recycled_people_respond_again_after_a_long_gap(medium: Dataset) -> None:
    responses = {t for t, d in load_mappings().touches.touch_types.items() if d.response}
    people = touches_by_person(medium)
    gaps = 0
    for touches in people.values():
        times = [t.at for t in touches if t.touch_type in responses]
        if any(b - a > timedelta(days=45) for a, b in itertools.pairwise(times)):
            gaps += 1
    assert 0.06 <= gaps / len(people) <= 0.5


def test_most_people_match_an_account_by_email_domain(medium: Dataset) -> None:
    account_domains = {website_domain(a.get("Website")) for a in medium.seed["Account"]}
    free_mail = load_mappings().sync.free_mail_domains
    domains = [e.rsplit("@", 1)[1] for e, ok, _ in
               (normalize_email(p["email"]) for p in medium.people) if e and ok]
    matched = sum(d in account_domains and d not in free_mail for d in domains)
    assert matched / len(medium.people) >= 0.65


def test_titles_industries_and_sizes_span_in_and_out_of_profile(medium: Dataset) -> None:
    titles = Counter(p["title"] for p in medium.people)
    assert titles["Student"] > 0 and titles["VP Marketing"] > 0
    industries = {a["Industry"] for a in medium.seed["Account"]}
    assert {"Technology", "Finance"} <= industries and {"Education", "Retail"} & industries
    sizes = [a["NumberOfEmployees"] for a in medium.seed["Account"]]
    assert min(sizes) < 50 and max(sizes) > 10_000
    countries = {a["BillingCountry"] for a in medium.seed["Account"]}
    assert {"United States", "India", "Germany"} <= countries


def test_people_were_created_over_two_years_with_recorded_sources(medium: Dataset) -> None:
    by_quarter: defaultdict[str, int] = defaultdict(int)
    for p in medium.people:
        when = parse_timestamp(p["created_at"])
        assert when is not None
        by_quarter[f"{when.year}Q{(when.month - 1) // 3 + 1}"] += 1
    assert len(by_quarter) >= 8
    sources = Counter(p["source"] for p in medium.people)
    assert sources["List Import"] > 0 and sources["Webinar"] > 0
    assert sources[""] < 0.1 * len(medium.people)
