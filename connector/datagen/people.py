"""People: who they are (names, emails, titles, firmographics) and their defects.

A profile holds both what the MAP exports (possibly dirty) and the clean truth
behind it, so the Salesforce side can be generated from the truth while the
export carries the defect.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

from connector.datagen import dirty, vocab
from connector.datagen.companies import Company

_SENIORITIES = tuple(vocab.SENIORITY_WEIGHTS)
_SENIORITY_WEIGHTS = tuple(vocab.SENIORITY_WEIGHTS.values())
_TITLES_BY_SENIORITY = {s: tuple(t.title for t in vocab.TITLES if t.seniority == s)
                        for s in _SENIORITIES}
_LOCAL_PATTERNS = ("first.last", "flast", "first", "firstlast", "first_last", "last.first")
_LOCAL_WEIGHTS = (50, 20, 8, 10, 5, 7)


def ascii_fold(text: str) -> str:
    """'Søren O'Brien' -> 'sorenobrien': what survives into an email address."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())


@dataclass(slots=True)
class Profile:
    map_id: str
    first_name: str
    last_name: str
    email: str  # as exported, possibly invalid or oddly cased
    email_key: str | None  # trimmed, lower-cased, valid; None when the export's is invalid
    company: str
    title: str
    seniority: str
    industry: str | None
    employees: int | str | None
    annual_revenue: int | str | None
    country: str | None  # as exported
    clean_country: str
    offset: int  # local UTC offset, seconds
    display_offset: int  # the offset the export writes this person's timestamps in
    defect: str | None = None
    free_mail: bool = False
    created_at: int = 0
    updated_at: int = 0
    source: str = ""
    buyer_of: int | None = None  # index of the account's opportunity this person buys on
    primary: bool = False
    re_engaged: bool = False
    imported: bool = False
    first_touch_channel: str | None = None
    touch_count: int = 0
    dirty_touches: int = 0
    # (time, Salesforce Campaign _key) of responses on seeded campaigns, for buyers
    responses_on_campaigns: list[tuple[int, str]] = field(default_factory=list)
    attended: bool = False  # a buyer who attended a webinar or event before the opportunity
    original: Profile | None = None  # the earlier record a duplicate_person repeats

    @property
    def matchable(self) -> bool:
        """A clean corporate address that matching by domain can use."""
        return self.email_key is not None and not self.free_mail

    @property
    def title_clean(self) -> str:
        return self.title if len(self.title) <= 128 else self.title.split(" | ")[0]

    @property
    def company_clean(self) -> str:
        return self.company if len(self.company) <= 255 else self.company.split(" | ")[0]


def local_part(rng: random.Random, first: str, last: str) -> str:
    f, la = ascii_fold(first) or "x", ascii_fold(last) or "x"
    pattern = rng.choices(_LOCAL_PATTERNS, weights=_LOCAL_WEIGHTS)[0]
    return {"first.last": f"{f}.{la}", "flast": f"{f[0]}{la}", "first": f,
            "firstlast": f"{f}{la}", "first_last": f"{f}_{la}", "last.first": f"{la}.{f}"}[pattern]


def unique_local(local: str, used: set[str]) -> str:
    candidate, n = local, 2
    while candidate in used:
        candidate = f"{local}{n}"
        n += 1
    used.add(candidate)
    return candidate


def _export_country(rng: random.Random, country: str) -> str | None:
    r = rng.random()
    if r < 0.08:
        return None
    if r < 0.25:
        return rng.choice(vocab.COUNTRY_BY_NAME[country].variants)
    return country


def new_profile(rng: random.Random, company: Company, map_id: str, used_locals: set[str],
                defect: str | None, serial: int) -> Profile:
    """A person at ``company`` with the given defect (one of dirty.PERSON_KINDS or None).

    ``duplicate_person`` is applied afterwards by the caller, which knows the
    earlier people it can duplicate.
    """
    first = rng.choice(vocab.FIRST_NAMES)
    last = rng.choice(vocab.LAST_NAMES)
    seniority = rng.choices(_SENIORITIES, weights=_SENIORITY_WEIGHTS)[0]
    title = rng.choice(_TITLES_BY_SENIORITY[seniority])
    local = unique_local(local_part(rng, first, last), used_locals)
    email_key: str | None = f"{local}@{company.domain}"
    email = f"{local}@{company.domain}"
    if rng.random() < 0.1:  # people type their address with capitals: Jane.Doe@acme.com
        email = ".".join(part.capitalize() for part in local.split(".")) + "@" + company.domain
    free_mail = False
    if defect == "free_mail":
        free_mail = True
        email_key = f"{local}{serial}@{rng.choice(vocab.FREE_MAIL_DOMAINS)}"
        email = email_key
    elif defect == "invalid_email":
        email_key = None
        email = dirty.invalid_email(rng, local, company.domain)
    country = company.country
    offsets = vocab.COUNTRY_BY_NAME[country].utc_offsets_minutes
    offset = rng.choice(offsets) * 60
    employees: int | str | None = company.employees
    revenue: int | str | None = company.annual_revenue
    r = rng.random()
    if r < 0.25:
        employees, revenue = None, None
    elif r < 0.4:
        employees = int(round(company.employees, -1 if company.employees < 100 else -2)) or 1
    if defect == "bad_number":
        column, value = dirty.bad_number(rng)
        if column == "employees":
            employees = value
        else:
            revenue = value
    company_name = company.short_name if rng.random() < 0.6 else company.name
    if defect == "too_long":
        if rng.random() < 0.5:
            title = dirty.too_long(rng, title)
        else:
            company_name = dirty.too_long(rng, company_name)
    return Profile(
        map_id=map_id, first_name=first, last_name=last, email=email,
        email_key=email_key.lower() if email_key else None, company=company_name, title=title,
        seniority=seniority,
        industry=company.industry if rng.random() < 0.85 else None,
        employees=employees, annual_revenue=revenue,
        country=_export_country(rng, country), clean_country=country, offset=offset,
        display_offset=offset if rng.random() < 0.3 else 0, defect=defect, free_mail=free_mail,
    )


def duplicate_of(rng: random.Random, original: Profile, map_id: str) -> Profile:
    """A second MAP record for the same person: same address, cased or padded differently."""
    assert original.email_key is not None
    return Profile(
        map_id=map_id, first_name=original.first_name, last_name=original.last_name,
        email=dirty.duplicate_email(rng, original.email_key), email_key=original.email_key,
        company=original.company_clean, title=original.title_clean,
        seniority=original.seniority,
        industry=original.industry, employees=None, annual_revenue=None,
        country=original.country, clean_country=original.clean_country,
        offset=original.offset, display_offset=original.display_offset,
        defect="duplicate_person", free_mail=original.free_mail, original=original,
    )
