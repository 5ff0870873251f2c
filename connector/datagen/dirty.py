"""The kinds of dirty data real MAP exports carry, and how each is injected.

``dirty`` is a rate: that share of people rows, and that share of touch rows,
carry one defect each, the kind drawn by the weights below. Every defect keeps
the file syntactically valid; it is the content a connector must cope with.
"""

from __future__ import annotations

import random
from typing import Final

PERSON_KINDS: Final = {
    "free_mail": 40,  # a legitimate person on gmail.com & co: never matches an Account
    "invalid_email": 15,  # "bob@", "no-at-sign.com", "a b@c.com"
    "duplicate_person": 15,  # a second map_id for an email already exported, cased/padded
    "bad_number": 15,  # employees "lots", annual_revenue "n/a"
    "too_long": 15,  # a 300-character title or company
}
TOUCH_KINDS: Final = {
    "naive_timestamp": 40,  # occurred_at without a UTC offset
    "unknown_program": 30,  # program_id absent from programs
    "duplicate_touch_id": 30,  # the same touch row exported twice
}
KINDS: Final = tuple(PERSON_KINDS) + tuple(TOUCH_KINDS)

_PERSON_NAMES = tuple(PERSON_KINDS)
_PERSON_WEIGHTS = tuple(PERSON_KINDS.values())
_TOUCH_NAMES = tuple(TOUCH_KINDS)
_TOUCH_WEIGHTS = tuple(TOUCH_KINDS.values())
UNKNOWN_PROGRAM_BASE = 900_000
"""Program ids from here up are never issued, so touches naming them are orphans."""


def person_defect(rng: random.Random, rate: float) -> str | None:
    if rate <= 0 or rng.random() >= rate:
        return None
    return rng.choices(_PERSON_NAMES, weights=_PERSON_WEIGHTS)[0]


def touch_defect(rng: random.Random, rate: float) -> str | None:
    if rate <= 0 or rng.random() >= rate:
        return None
    return rng.choices(_TOUCH_NAMES, weights=_TOUCH_WEIGHTS)[0]


def invalid_email(rng: random.Random, local: str, domain: str) -> str:
    """An address no validator accepts, in the shapes people actually type."""
    first = local.split(".")[0] or "bob"
    return rng.choice((
        f"{first}@",
        f"{local}{domain}",
        f"{first} {local}@{domain}",
        f"{local}@@{domain}",
        f"{local}@{domain.split('.')[0]}",
        f"{local}@{domain},",
    ))


def duplicate_email(rng: random.Random, email: str) -> str:
    """The same address as typed a second time: other case, stray spaces."""
    variants = (email.upper(), f" {email}", f"{email} ", email.title(), f"  {email.capitalize()}")
    return rng.choice(variants)


def bad_number(rng: random.Random) -> tuple[str, str]:
    """(column, value) for a number column holding text."""
    return rng.choice((("employees", "lots"), ("employees", "n/a"), ("employees", "50-200"),
                       ("employees", "approx. 5000"), ("annual_revenue", "unknown"),
                       ("annual_revenue", "$5M"), ("annual_revenue", "10 million")))


def too_long(rng: random.Random, value: str) -> str:
    """A 300-character value, as produced by a form field pasted into twice over."""
    filler = f"{value} | " if value else "N/A | "
    return (filler * (300 // len(filler) + 1))[:300]
