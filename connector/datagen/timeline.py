"""One person's touches: a first touch, journeys of responses, background activity.

A journey is a burst of responses (ad clicks, form fills, webinars, events) on
programs running at the time; background activity is non-responses (email
opens and clicks, page views) spread over the person's whole life. Recycled
people get journeys separated by long gaps; buyers get a journey that ends just
before their opportunity is created, often with a demo request or trial start.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from connector.datagen import vocab
from connector.datagen.clock import DAY, HOUR, MINUTE, business_time, epoch_day
from connector.datagen.programs import Catalogue, Program, slugify
from connector.datagen.sampling import Weighted, between

RESPONSE_SHARE = 0.45
"""Share of a person's touches spent in journeys; the rest is background."""

# Relative frequency of the channels a journey's interactions go to ("web": no program).
JOURNEY_WEIGHTS: dict[str, int] = {
    "Paid Search": 12, "Paid Social": 9, "Display": 5, "Organic Search": 6, "Organic Social": 3,
    "Email": 14, "Webinar": 14, "Event": 10, "Content Syndication": 6, "Website": 6,
    "Referral": 2, "Partner": 4, "Direct Mail": 3, "Outbound Sales": 5, "web": 12,
}
# ... and of the channels that bring a person in (their first touch).
FIRST_WEIGHTS: dict[str, int] = {
    "Paid Search": 14, "Paid Social": 10, "Display": 3, "Webinar": 12, "Event": 10,
    "Content Syndication": 10, "Organic Search": 8, "Organic Social": 4, "Website": 8,
    "Referral": 3, "Partner": 5, "web": 10,
}
_PAID = frozenset({"paid_search", "paid_social", "display"})
_AD_CONTENT = ("ad-a", "ad-b", "video-15s", "carousel", "text-1", "text-2")
_ENTRY_REFERRERS: Weighted[tuple[str, ...] | None] = Weighted((
    (vocab.SEARCH_REFERRERS, 45), (vocab.SOCIAL_REFERRERS, 15),
    (vocab.OTHER_SITE_REFERRERS, 8), (None, 32),
))
# UTM-tagged links that land on the site without a MAP program behind them.
_LOOSE_UTMS = (("google", "cpc"), ("linkedin", "paid_social"), ("newsletter", "email"),
               ("partner-portal", "partner"), ("bing", "cpc"))


@dataclass(slots=True)
class TouchEvent:
    ts: int
    touch_type: str
    program: Program | None
    url: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None


@dataclass(slots=True)
class TimelineSpec:
    """What the person's history must look like; the builder fills in the touches."""

    created_at: int
    offset: int  # the person's local UTC offset, seconds
    touches: int  # target count
    journeys: list[tuple[int, int]] = field(default_factory=list)
    imported: bool = False  # created by a list import: first touch comes later
    buyer: bool = False
    finale: tuple[int, str | None] | None = None  # (opportunity CreatedDate, demo/trial)
    job_seeker: bool = False


def _page_url(path: str) -> str:
    return vocab.VENDOR_SITE + path


def _utm_url(path: str, source: str | None, medium: str | None, campaign: str | None) -> str:
    """The landing URL with its UTM query (values are slugs: nothing to escape)."""
    query = "&".join(f"{k}={v}" for k, v in (("utm_source", source), ("utm_medium", medium),
                                              ("utm_campaign", campaign)) if v)
    return f"{vocab.VENDOR_SITE}{path}?{query}" if query else vocab.VENDOR_SITE + path


class TimelineBuilder:
    def __init__(self, rng: random.Random, catalogue: Catalogue, as_of: int) -> None:
        self.rng = rng
        self.catalogue = catalogue
        self.as_of = as_of
        self._pages = Weighted((p, w) for p, w, _ in vocab.SITE_PAGES)
        self._buyer_pages = Weighted((p, w) for p, _, w in vocab.SITE_PAGES)
        self._journey_channels: dict[int, Weighted[str]] = {}  # by week

    # ------------------------------------------------------------------ entry

    def build(self, spec: TimelineSpec) -> list[TouchEvent]:
        """Touches within [created_at, as_of], ordered by time."""
        rng = self.rng
        events: list[TouchEvent] = []
        if spec.touches <= 0:
            return events
        lower = spec.created_at + 1
        if spec.imported:
            first_ts = spec.created_at + between(rng, DAY, 21 * DAY)
            if first_ts <= self.as_of:
                events += self._background(first_ts, spec, spec.created_at, remaining=1)
        else:
            events += self._first(spec.created_at + between(rng, 0, 3), spec)
        if spec.finale is not None:
            events += self._finale(spec, lower)
        response_budget = max(0, round(spec.touches * RESPONSE_SHARE) - len(events))
        journeys = [(max(a, lower), min(b, self.as_of)) for a, b in spec.journeys]
        journeys = [(a, b) for a, b in journeys if a <= b]
        for i, (start, end) in enumerate(journeys):
            share = response_budget // len(journeys) + (i < response_budget % len(journeys))
            produced = tries = 0
            while produced < share and tries < 3 * share + 3:
                tries += 1
                new = self._interaction(between(rng, start, end), spec, lower)
                produced += len(new)
                events += new
        remaining = spec.touches - len(events)
        tries = 0
        while remaining > 0 and tries < 3 * spec.touches:
            tries += 1
            new = self._background(between(rng, lower, self.as_of), spec, lower, remaining)
            remaining -= len(new)
            events += new
        kept = [e for e in events if spec.created_at <= e.ts <= self.as_of]
        kept.sort(key=lambda e: e.ts)
        return kept

    # ------------------------------------------------------------ interactions

    def _first(self, anchor: int, spec: TimelineSpec) -> list[TouchEvent]:
        """The touch that created the person, exactly at ``anchor``."""
        rng = self.rng
        running = self.catalogue.running(anchor)
        options: list[tuple[Program | None, int]] = [(None, FIRST_WEIGHTS["web"])]
        for channel, weight in FIRST_WEIGHTS.items():
            candidates = running.get(channel)
            if not candidates:
                continue
            # A few random draws, not a scan: a week can hold hundreds of programs.
            for _ in range(3):
                candidate = candidates[int(rng.random() * len(candidates))]
                if candidate.accepts(anchor):
                    options.append((candidate, weight))
                    break
        program = Weighted(options).pick(rng)
        if program is None:
            return self._web_session(anchor, spec, converting=True)
        return self._on_program(program, anchor, spec, journey=True)

    def _interaction(self, t: int, spec: TimelineSpec, lower: int) -> list[TouchEvent]:
        rng = self.rng
        running = self.catalogue.running(t)
        week = epoch_day(t) // 7
        choice = self._journey_channels.get(week)
        if choice is None:
            choice = Weighted((c, w) for c, w in JOURNEY_WEIGHTS.items()
                              if c == "web" or c in running)
            self._journey_channels[week] = choice
        channel = choice.pick(rng)
        if channel == "web":
            return self._web_session(max(business_time(rng, t, spec.offset), lower), spec,
                                     converting=rng.random() < 0.15)
        program = rng.choice(running[channel])
        ts = self._place(program, t, spec.offset, lower)
        if ts is None:
            return []
        return self._on_program(program, ts, spec, journey=True)

    def _background(self, t: int, spec: TimelineSpec, lower: int,
                    remaining: int) -> list[TouchEvent]:
        """Non-responses: email opens (and clicks), page views, careers pages."""
        rng = self.rng
        ts = max(business_time(rng, t, spec.offset), lower)
        if spec.job_seeker and rng.random() < 0.5:
            return [TouchEvent(ts, "web_visit", None, _page_url(rng.choice(vocab.CAREERS_PAGES)),
                               rng.choice((*vocab.SEARCH_REFERRERS, None)))]
        if rng.random() < 0.62:
            emails = self.catalogue.running(t).get("Email")
            if emails:
                program = rng.choice(emails)
                placed = self._place(program, t, spec.offset, lower)
                if placed is not None:
                    return self._email(program, placed, click=0.2 if remaining > 1 else 0.0,
                                       form=0.0)
        if remaining > 1 and rng.random() < 0.3:
            return self._web_session(ts, spec, converting=False)[:2]
        return [TouchEvent(ts, "web_visit", None, _page_url(self._page(spec)),
                           self._entry_referrer())]

    def _finale(self, spec: TimelineSpec, lower: int) -> list[TouchEvent]:
        """A buyer's last steps before the opportunity: pricing page, demo or trial."""
        assert spec.finale is not None
        rng = self.rng
        opp_created, kind = spec.finale
        ts = business_time(rng, opp_created - between(rng, 1, 10) * DAY, spec.offset)
        ts = min(ts, opp_created - HOUR)
        if ts - 20 * MINUTE < lower:
            return []
        events = [TouchEvent(ts - between(rng, 2 * MINUTE, 20 * MINUTE), "web_visit", None,
                             _page_url("/pricing"), self._entry_referrer())]
        if kind is not None:
            program = self.catalogue.yearly("web_demo" if kind == "demo_request" else "web_trial",
                                            ts)
            path = "/demo" if kind == "demo_request" else "/trial"
            events.append(TouchEvent(ts, kind, program, _page_url(path), _page_url("/pricing")))
        return events

    # ------------------------------------------------------------- placement

    def _place(self, p: Program, t: int, offset: int, lower: int) -> int | None:
        """When this person's touch on ``p`` happens, near ``t``, or None if it cannot."""
        rng = self.rng
        if p.kind == "webinar":
            latest = p.moment - 600
            ts = business_time(rng, t, offset)
            if ts >= latest:
                ts = latest - between(rng, HOUR, 7 * DAY)
            ts = max(ts, p.window_start)
            if ts < lower:
                if latest - lower <= 600:
                    return None
                ts = lower + between(rng, 0, latest - lower - 1)
            return ts
        if p.kind == "event":
            day = between(rng, p.start_day, p.end_day)
            ts = day * DAY + between(rng, 9 * HOUR, 17 * HOUR) - offset
            return ts if ts >= lower else None
        if p.kind == "email_send":
            ts = min(p.moment + int(rng.expovariate(1 / (8 * HOUR))), p.window_end)
            return ts if ts >= lower else None
        if p.kind == "direct_mail":
            ts = business_time(rng, p.moment + between(rng, DAY, 4 * DAY), offset)
            return ts if ts >= lower else None
        if p.kind == "syndication" and rng.random() < 0.6:
            t = p.window_start + int(rng.expovariate(1 / (10 * DAY)))  # deals front-load leads
        floor = max(lower, p.window_start)
        if floor > p.window_end:
            return None
        ts = business_time(rng, t, offset)
        if ts < floor:
            ts = floor + between(rng, MINUTE, 3 * HOUR)
        return ts if ts <= p.window_end else None

    # ------------------------------------------------------------ per program

    def _on_program(self, p: Program, ts: int, spec: TimelineSpec,
                    journey: bool) -> list[TouchEvent]:
        rng = self.rng
        kind = p.kind
        if kind in _PAID:
            return self._ad_click(p, ts)
        if kind in ("email_send", "email_nurture"):
            return self._email(p, ts, click=0.7 if journey else 0.2, form=0.35 if journey else 0)
        if kind == "webinar":
            return self._webinar(p, ts)
        if kind == "event":
            events = [TouchEvent(ts, "event_attended", p)]
            if rng.random() < 0.2:
                events.append(TouchEvent(ts + between(rng, HOUR, 6 * HOUR), "sales_meeting", p))
            return events
        if kind == "syndication":
            return [TouchEvent(ts, "content_download", p, None, None, p.utm_source, p.utm_medium,
                               p.utm_campaign)]
        if kind == "seo":
            content = slugify(rng.choice(vocab.CONTENT_TITLES))
            return [TouchEvent(ts, "content_download", p, _page_url(f"/resources/{content}"),
                               rng.choice(vocab.SEARCH_REFERRERS))]
        if kind == "social":
            return [TouchEvent(ts, rng.choice(("form_fill", "content_download")), p,
                               _utm_url("/resources", p.utm_source, p.utm_medium,
                                        p.utm_campaign),
                               rng.choice(vocab.SOCIAL_REFERRERS), p.utm_source, p.utm_medium,
                               p.utm_campaign)]
        if kind == "web_contact":
            return [TouchEvent(ts, "form_fill", p, _page_url("/contact"),
                               rng.choice((*vocab.SEARCH_REFERRERS, None, None)))]
        if kind == "referral":
            return [TouchEvent(ts, "form_fill", p, _page_url("/referral"),
                               rng.choice(vocab.OTHER_SITE_REFERRERS))]
        if kind == "partner":
            return [TouchEvent(ts, rng.choice(("form_fill", "content_download")), p,
                               _utm_url(f"/partners/{p.utm_source}", p.utm_source,
                                        p.utm_medium, p.utm_campaign),
                               None, p.utm_source, p.utm_medium, p.utm_campaign)]
        if kind == "direct_mail":
            events = [TouchEvent(ts, "direct_mail", p)]
            if rng.random() < 0.15:
                later = business_time(rng, ts + between(rng, DAY, 10 * DAY), spec.offset)
                events.append(TouchEvent(max(later, ts + HOUR), "form_fill", p,
                                         _page_url("/gift")))
            return events
        if kind == "outbound":
            return [TouchEvent(ts, "sales_meeting", p)]
        if kind in ("web_demo", "web_trial"):
            kind_type = "demo_request" if kind == "web_demo" else "trial_start"
            return [TouchEvent(ts, kind_type, p, _page_url("/" + kind_type.split("_")[0]))]
        raise ValueError(f"no touch pattern for program kind {kind!r}")

    def _ad_click(self, p: Program, ts: int) -> list[TouchEvent]:
        rng = self.rng
        url = _utm_url(f"/lp/{p.slug[:40]}", p.utm_source, p.utm_medium, p.utm_campaign)
        term = rng.choice(vocab.PAID_SEARCH_TERMS) if p.kind == "paid_search" else None
        referrer = {"paid_search": f"https://www.{p.utm_source}.com/",
                    "paid_social": f"https://www.{p.utm_source}.com/"}.get(p.kind)
        content = rng.choice(_AD_CONTENT)
        events = [TouchEvent(ts, "ad_click", p, url, referrer, p.utm_source, p.utm_medium,
                             p.utm_campaign, content, term)]
        if rng.random() < 0.4:
            events.append(TouchEvent(ts + between(rng, 30, 900),
                                     rng.choice(("form_fill", "content_download")), p, url,
                                     referrer, p.utm_source, p.utm_medium, p.utm_campaign,
                                     content, term))
        return events

    def _email(self, p: Program, ts: int, click: float, form: float) -> list[TouchEvent]:
        """An open, then perhaps a click minutes to hours later, then perhaps a form."""
        rng = self.rng
        events = [TouchEvent(ts, "email_open", p, None, None, p.utm_source, p.utm_medium,
                             p.utm_campaign)]
        if rng.random() < click:
            clicked = ts + between(rng, MINUTE, 4 * HOUR)
            url = _utm_url(f"/resources/{p.slug[:40]}", p.utm_source, p.utm_medium,
                           p.utm_campaign)
            events.append(TouchEvent(clicked, "email_click", p, url, None, p.utm_source,
                                     p.utm_medium, p.utm_campaign))
            if rng.random() < form:
                events.append(TouchEvent(clicked + between(rng, 20, 600),
                                         rng.choice(("form_fill", "content_download")), p, url,
                                         None, p.utm_source, p.utm_medium, p.utm_campaign))
        return events

    def _webinar(self, p: Program, ts: int) -> list[TouchEvent]:
        """Registration before the webinar; attendance on its date, for about half."""
        rng = self.rng
        from_email = rng.random() < 0.3
        url = (_utm_url(f"/webinars/{p.slug[:50]}", "newsletter", "email", p.utm_campaign)
               if from_email else _page_url(f"/webinars/{p.slug[:50]}"))
        events = [TouchEvent(ts, "webinar_registered", p, url, None,
                             "newsletter" if from_email else None,
                             "email" if from_email else None,
                             p.utm_campaign if from_email else None)]
        attended = p.moment + between(rng, 0, 15 * MINUTE)
        if attended <= self.as_of and attended > ts and rng.random() < 0.55:
            events.append(TouchEvent(attended, "webinar_attended", p))
        return events

    # ----------------------------------------------------------------- website

    def _page(self, spec: TimelineSpec) -> str:
        return (self._buyer_pages if spec.buyer else self._pages).pick(self.rng)

    def _entry_referrer(self) -> str | None:
        rng = self.rng
        group = _ENTRY_REFERRERS.pick(rng)
        return group[int(rng.random() * len(group))] if group else None

    def _web_session(self, ts: int, spec: TimelineSpec, converting: bool) -> list[TouchEvent]:
        """Program-less page views from an outside referrer, then internal navigation."""
        rng = self.rng
        page = self._page(spec)
        if rng.random() < 0.1:
            source, medium = rng.choice(_LOOSE_UTMS)
            campaign = f"{source}-{epoch_day(ts) // 30}"
            events = [TouchEvent(ts, "web_visit", None, _utm_url(page, source, medium, campaign),
                                 None, source, medium, campaign)]
        else:
            events = [TouchEvent(ts, "web_visit", None, _page_url(page), self._entry_referrer())]
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            ts += between(rng, 20, 300)
            nxt = self._page(spec)
            events.append(TouchEvent(ts, "web_visit", None, _page_url(nxt), _page_url(page)))
            page = nxt
        if converting:
            events.append(TouchEvent(ts + between(rng, 30, 300), "form_fill", None,
                                     _page_url("/newsletter"), _page_url(page)))
        return events
