"""The MAP's program catalogue: every channel, quarterly parents, dated programs.

Programs are few (hundreds to a few thousand) and every touch names one, so the
whole catalogue is held in memory with a week-by-week index of which programs
can receive touches, so a timeline can pick "a program running then" cheaply.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from connector.datagen import vocab
from connector.datagen.clock import (
    DAY,
    HOUR,
    date_to_day,
    day_to_date,
    epoch_day,
    weekday_at,
)
from connector.mappings import ChannelsMapping

WEBINAR_REGISTRATION_DAYS = 21
EMAIL_OPEN_DAYS = 14
HORIZON_BEFORE_DAYS = 760
"""Programs start this long before ``as_of``: people are created over the 24 months
before it, and their first touches need programs running at the time."""
HORIZON_AFTER_DAYS = 75
"""Planned programs after ``as_of`` (webinars open for registration, future events)."""

# Programs of these kinds are picked for a person's journeys by channel.
JOURNEY_KINDS = frozenset({
    "paid_search", "paid_social", "display", "email_send", "email_nurture", "webinar", "event",
    "syndication", "seo", "social", "web_contact", "referral", "partner", "direct_mail",
    "outbound",
})


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(slots=True)
class Program:
    """One MAP program, plus what the generator needs to place touches on it."""

    program_id: str
    name: str
    channel: str  # the taxonomy's spelling
    channel_raw: str  # as the export spells it
    kind: str
    type: str
    start_day: int
    end_day: int
    cost: float | None
    parent_id: str | None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    slug: str = ""
    moment: int = 0  # webinar start, newsletter send or mail drop (epoch seconds, UTC)
    window_start: int = 0  # when touches on it can happen
    window_end: int = 0
    campaign_key: str | None = None  # seeded as a Salesforce Campaign under this _key
    is_parent: bool = False

    def accepts(self, ts: int) -> bool:
        """Whether a touch at ``ts`` can be this program's first touch for a person."""
        if not self.window_start <= ts <= self.window_end:
            return False
        if self.kind == "webinar":
            return ts < self.moment - 600
        return self.kind != "email_send"  # nobody is created by opening an email


class Catalogue:
    """The programs, in export order (parents before children), and their indexes."""

    def __init__(self, programs: list[Program]) -> None:
        self.programs = programs
        self.by_id = {p.program_id: p for p in programs}
        self._weeks: dict[int, dict[str, list[Program]]] = defaultdict(lambda: defaultdict(list))
        self._yearly: dict[tuple[str, int], Program] = {}
        for p in programs:
            if p.is_parent:
                continue
            if p.kind in ("web_contact", "web_demo", "web_trial"):
                self._yearly[(p.kind, day_to_date(p.start_day).year)] = p
            if p.kind not in JOURNEY_KINDS:
                continue
            for week in range(epoch_day(p.window_start) // 7, epoch_day(p.window_end) // 7 + 1):
                self._weeks[week][p.channel].append(p)

    def running(self, ts: int) -> dict[str, list[Program]]:
        """Channel -> programs that can receive touches in the week of ``ts``."""
        return self._weeks.get(epoch_day(ts) // 7, {})

    def yearly(self, kind: str, ts: int) -> Program | None:
        """The always-on website program of ``kind`` for the year of ``ts``."""
        year = day_to_date(epoch_day(ts)).year
        return self._yearly.get((kind, year)) or self._yearly.get((kind, year - 1))


@dataclass(frozen=True, slots=True)
class _Quarter:
    year: int
    q: int

    @property
    def start(self) -> date:
        return date(self.year, 3 * (self.q - 1) + 1, 1)

    @property
    def end(self) -> date:
        nxt = _Quarter(self.year + self.q // 4, self.q % 4 + 1)
        return date.fromordinal(nxt.start.toordinal() - 1)

    @property
    def label(self) -> str:
        return f"{self.year} Q{self.q}"


def _quarter_of(value: date) -> _Quarter:
    return _Quarter(value.year, (value.month - 1) // 3 + 1)


class _Builder:
    """Creates programs in export order with sequential ids and varied channel spellings."""

    def __init__(self, rng: random.Random, scale: float, channels: ChannelsMapping) -> None:
        self.rng = rng
        self.scale = scale
        self.channels = channels
        self.programs: list[Program] = []
        self._next_id = 1001
        self._names: set[str] = set()

    def count(self, base: float) -> int:
        return max(1, round(base * self.scale))

    def spelling(self, channel: str) -> str:
        """Exports spell channels loosely: 'paid_search', 'PAID SEARCH', or an alias."""
        r = self.rng.random()
        if r < 0.72:
            return channel
        if r < 0.9:
            return self.rng.choice((channel.lower().replace(" ", "_"), channel.upper(),
                                    channel.lower(), channel.lower().replace(" ", "-")))
        aliases = next((c.aliases for c in self.channels.channels if c.name == channel), [])
        return self.rng.choice(aliases) if aliases else channel

    def add(self, name: str, channel: str, kind: str, ptype: str, start: date, end: date, *,
            cost: float | None = None, parent: Program | None = None, moment: int = 0,
            utm: tuple[str, str] | None = None, is_parent: bool = False) -> Program:
        unique = name
        n = 2
        while unique in self._names:
            unique = f"{name} #{n}"
            n += 1
        self._names.add(unique)
        if len(unique) > 80:  # Campaign.Name is 80 characters
            raise ValueError(f"program name too long for a Campaign: {unique!r}")
        start_day, end_day = date_to_day(start), date_to_day(end)
        if kind == "webinar":
            window = (moment - WEBINAR_REGISTRATION_DAYS * DAY, moment + 2 * HOUR)
        elif kind == "email_send":
            window = (moment, moment + EMAIL_OPEN_DAYS * DAY)
        elif kind == "direct_mail":
            window = (moment, moment + 45 * DAY)
        else:
            window = (start_day * DAY, (end_day + 1) * DAY - 1)
        slug = slugify(unique)
        program = Program(
            program_id=str(self._next_id), name=unique, channel=channel,
            channel_raw=self.spelling(channel), kind=kind, type=ptype, start_day=start_day,
            end_day=end_day, cost=round(cost, 2) if cost is not None else None,
            parent_id=parent.program_id if parent else None,
            utm_source=utm[0] if utm else None, utm_medium=utm[1] if utm else None,
            utm_campaign=slug[:60] if utm else None, slug=slug, moment=moment,
            window_start=window[0], window_end=window[1], is_parent=is_parent,
        )
        self._next_id += 1
        self.programs.append(program)
        return program

    def parent(self, name: str, channel: str, start: date, end: date) -> Program:
        return self.add(name, channel, "parent", "Program Folder", start, end, is_parent=True)

    # ------------------------------------------------------------- per year

    def year_programs(self, year: int) -> tuple[Program, Program]:
        rng = self.rng
        jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
        self.add(f"{year} SEO - Gated Content", "Organic Search", "seo", "Content", jan1, dec31)
        if self.scale > 1.5:
            self.add(f"{year} SEO - Blog Subscriptions", "Organic Search", "seo", "Content",
                     jan1, dec31)
        self.add(f"{year} Organic Social", "Organic Social", "social", "Content", jan1, dec31,
                 utm=("linkedin", "social"))
        forms = self.parent(f"{year} Website Forms", "Website", jan1, dec31)
        self.add(f"Website - Contact Us {year}", "Website", "web_contact", "Web Form", jan1,
                 dec31, parent=forms)
        self.add(f"Website - Demo Request {year}", "Website", "web_demo", "Web Form", jan1,
                 dec31, parent=forms)
        self.add(f"Website - Free Trial {year}", "Website", "web_trial", "Web Form", jan1,
                 dec31, parent=forms)
        self.add(f"{year} Customer Referral Program", "Referral", "referral", "Referral", jan1,
                 dec31, cost=rng.uniform(500, 6000))
        events = self.parent(f"{year} Events", "Event", jan1, dec31)
        webinars = self.parent(f"{year} Webinar Series", "Webinar", jan1, dec31)
        return events, webinars

    # ---------------------------------------------------------- per quarter

    def quarter_programs(self, qt: _Quarter, events: Program, webinars: Program,
                         counter: dict[str, int]) -> None:
        rng = self.rng
        qs, qe = qt.start, qt.end
        qs_day, qe_day = date_to_day(qs), date_to_day(qe)
        qlen = qe_day - qs_day + 1
        label = qt.label

        def flight() -> tuple[date, date]:
            if rng.random() < 0.7:
                return qs, qe
            a = qs_day + rng.randrange(0, qlen // 2)
            return day_to_date(a), day_to_date(min(qe_day, a + rng.randrange(21, 60)))

        parent = self.parent(f"{label} Paid Search", "Paid Search", qs, qe)
        for i in range(self.count(3)):
            group = vocab.PAID_SEARCH_ADGROUPS[i % len(vocab.PAID_SEARCH_ADGROUPS)]
            source = "google" if rng.random() < 0.8 else "bing"
            a, b = flight()
            self.add(f"{label} Paid Search - {group}", "Paid Search", "paid_search",
                     "Paid Media", a, b, cost=rng.uniform(2000, 40000), parent=parent,
                     utm=(source, "cpc"))

        parent = self.parent(f"{label} Paid Social", "Paid Social", qs, qe)
        for i in range(self.count(2)):
            adset, source = vocab.PAID_SOCIAL_ADSETS[i % len(vocab.PAID_SOCIAL_ADSETS)]
            a, b = flight()
            self.add(f"{label} Paid Social - {adset}", "Paid Social", "paid_social",
                     "Paid Media", a, b, cost=rng.uniform(1500, 30000), parent=parent,
                     utm=(source, "paid_social"))

        parent = self.parent(f"{label} Display", "Display", qs, qe)
        for i in range(self.count(1)):
            line, source = vocab.DISPLAY_LINES[i % len(vocab.DISPLAY_LINES)]
            a, b = flight()
            self.add(f"{label} Display - {line}", "Display", "display", "Paid Media", a, b,
                     cost=rng.uniform(1000, 20000), parent=parent, utm=(source, "display"))

        parent = self.parent(f"{label} Email", "Email", qs, qe)
        for month in range(3):
            first = date(qt.year, qs.month + month, 1)
            send_day = weekday_at(date_to_day(first) + rng.randrange(7, 20))
            moment = send_day * DAY + rng.choice((13, 14, 15)) * HOUR
            self.add(f"Newsletter - {first:%Y-%m}", "Email", "email_send", "Email",
                     day_to_date(send_day), day_to_date(send_day),
                     cost=rng.choice((None, 0.0, rng.uniform(50, 400))), parent=parent,
                     moment=moment, utm=("newsletter", "email"))
        for i in range(self.count(1)):
            track = vocab.NURTURE_TRACKS[i % len(vocab.NURTURE_TRACKS)]
            self.add(f"{label} {track}", "Email", "email_nurture", "Nurture", qs, qe,
                     parent=parent, utm=("marketo", "email"))

        for i in range(self.count(2)):
            n = self.count(2)
            day = weekday_at(qs_day + int((i + 0.5) * qlen / n) + rng.randrange(-5, 6))
            topic = vocab.WEBINAR_TOPICS[counter["webinar"] % len(vocab.WEBINAR_TOPICS)]
            counter["webinar"] += 1
            moment = day * DAY + rng.choice((15, 16, 17)) * HOUR
            self.add(f"Webinar - {topic} ({day_to_date(day)})", "Webinar", "webinar",
                     "Webinar", day_to_date(day), day_to_date(day),
                     cost=rng.uniform(300, 4000), parent=webinars, moment=moment,
                     utm=("webinar", "webinar"))

        for _ in range(self.count(1.5)):
            name = vocab.EVENT_NAMES[counter["event"] % len(vocab.EVENT_NAMES)]
            counter["event"] += 1
            day = weekday_at(qs_day + rng.randrange(5, qlen - 10))
            days = rng.choice((1, 2, 3))
            self.add(f"Event - {name} {qt.year}", "Event", "event", "Event",
                     day_to_date(day), day_to_date(day + days - 1),
                     cost=rng.uniform(5000, 90000), parent=events)

        for _ in range(self.count(1)):
            vendor = rng.choice(vocab.SYNDICATION_VENDORS)
            begin = qs_day + rng.randrange(0, 30)
            self.add(f"Content Synd - {vendor} - {label}", "Content Syndication",
                     "syndication", "Content Syndication", day_to_date(begin),
                     day_to_date(min(qe_day, begin + rng.randrange(42, 70))),
                     cost=rng.uniform(4000, 30000), utm=(slugify(vendor), "syndication"))

        for _ in range(self.count(1)):
            partner = rng.choice(vocab.PARTNERS)
            self.add(f"Partner - {partner} Co-Marketing {label}", "Partner", "partner",
                     "Partner", qs, qe, cost=rng.uniform(1000, 15000),
                     utm=(slugify(partner), "partner"))

        for _ in range(self.count(0.6)):
            theme = rng.choice(vocab.DIRECT_MAIL_THEMES)
            drop = weekday_at(qs_day + rng.randrange(10, 50))
            self.add(f"Direct Mail - {theme} {label}", "Direct Mail", "direct_mail",
                     "Direct Mail", day_to_date(drop), day_to_date(drop + 30),
                     cost=rng.uniform(2000, 25000), moment=drop * DAY + 10 * HOUR)

        for i in range(self.count(1)):
            play = vocab.OUTBOUND_PLAYS[i % len(vocab.OUTBOUND_PLAYS)]
            self.add(f"{play} - {label}", "Outbound Sales", "outbound", "Sales Sequence", qs,
                     qe)


def build_catalogue(rng: random.Random, as_of_ts: int, people: int,
                    channels: ChannelsMapping) -> Catalogue:
    """Programs across every channel from ~25 months before ``as_of`` to ~2 after.

    The number of programs per quarter grows with the cube root of the people
    count: a real MAP has hundreds of programs whatever the size of its database.
    """
    scale = max(0.4, people ** (1 / 3) / 10)
    builder = _Builder(rng, scale, channels)
    as_of_day = epoch_day(as_of_ts)
    first = _quarter_of(day_to_date(as_of_day - HORIZON_BEFORE_DAYS))
    last = _quarter_of(day_to_date(as_of_day + HORIZON_AFTER_DAYS))
    counter = {"webinar": 0, "event": 0}
    for year in range(first.year, last.year + 1):
        events, webinars = builder.year_programs(year)
        for q in range(1, 5):
            qt = _Quarter(year, q)
            if (first.year, first.q) <= (year, q) <= (last.year, last.q):
                builder.quarter_programs(qt, events, webinars, counter)
    known = {c.name for c in channels.channels}
    unknown = {p.channel for p in builder.programs} - known
    if unknown:
        raise ValueError(f"the generator uses channels missing from channels.yaml: {unknown}")
    return Catalogue(builder.programs)
