"""Companies: names, unique domains, firmographics and the ideal customer profile.

Company ``i`` is drawn from a permutation of (root x descriptor x domain variant)
so every domain is unique without remembering the domains already issued: the
generator streams companies one at a time and keeps none of them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from connector.datagen import vocab

_ROOTS = len(vocab.COMPANY_ROOTS)
_DESCRIPTORS = len(vocab.DESCRIPTORS)
_VARIANTS = len(vocab.DOMAIN_VARIANTS)
COMBINATIONS = _ROOTS * _DESCRIPTORS * _VARIANTS
_STRIDE = 104_729  # a prime that divides no vocabulary size: i -> i*STRIDE is a bijection

ICP_EMPLOYEES = (100, 10_000)
"""Company sizes (employees) of the ideal customer profile, inclusive."""

_COUNTRY_NAMES = tuple(c.name for c in vocab.COUNTRIES)
_COUNTRY_WEIGHTS = tuple(c.weight for c in vocab.COUNTRIES)


@dataclass(slots=True)
class Company:
    index: int
    name: str  # the Salesforce Account name, with its legal form
    short_name: str  # how people type it into forms
    domain: str
    industry: str
    employees: int
    annual_revenue: int
    country: str

    @property
    def icp(self) -> bool:
        """In the ideal customer profile: industry, size and country all fit."""
        return (self.industry in vocab.ICP_INDUSTRIES
                and ICP_EMPLOYEES[0] <= self.employees <= ICP_EMPLOYEES[1]
                and vocab.COUNTRY_BY_NAME[self.country].icp)


def _ascii_slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def company_identity(index: int, offset: int) -> tuple[str, str, str, str, str | None]:
    """(short name, account name, domain, industry, fixed country) of company ``index``."""
    j = (index * _STRIDE + offset) % COMBINATIONS
    cycle = index // COMBINATIONS
    root = vocab.COMPANY_ROOTS[j % _ROOTS]
    word, industry = vocab.DESCRIPTORS[(j // _ROOTS) % _DESCRIPTORS]
    tld, legal, country = vocab.DOMAIN_VARIANTS[j // (_ROOTS * _DESCRIPTORS)]
    short = f"{root} {word}"
    if cycle:  # past the vocabulary's combinations: a numbered sibling, still unique
        short = f"{short} {cycle + 1}"
    domain = f"{_ascii_slug(short)}.{tld}"
    return short, short + legal, domain, industry, country


def make_company(rng: random.Random, index: int, offset: int) -> Company:
    short, name, domain, industry, fixed_country = company_identity(index, offset)
    country = fixed_country or rng.choices(_COUNTRY_NAMES, weights=_COUNTRY_WEIGHTS)[0]
    if rng.random() < 0.62:
        employees = int(math.exp(rng.uniform(math.log(ICP_EMPLOYEES[0]),
                                             math.log(ICP_EMPLOYEES[1]))))
    elif rng.random() < 0.7:
        employees = rng.randint(2, ICP_EMPLOYEES[0] - 1)
    else:
        employees = rng.randint(ICP_EMPLOYEES[1] + 1, 250_000)
    revenue_per_head = rng.uniform(80_000, 400_000)
    annual_revenue = int(round(employees * revenue_per_head, -4))
    return Company(index=index, name=name, short_name=short, domain=domain,
                   industry=industry, employees=employees, annual_revenue=annual_revenue,
                   country=country)


def website_forms(domain: str) -> tuple[tuple[str, int], ...]:
    """How an Account's Website is typed in real orgs, with relative frequency."""
    return ((f"https://www.{domain}", 40), (domain, 15), (f"http://{domain}/", 10),
            (f"www.{domain}", 15), (f"https://{domain}/", 10), (f"https://www.{domain}/about", 5),
            (f"HTTPS://WWW.{domain.upper()}", 2))


def pick_website(rng: random.Random, domain: str) -> str:
    forms = website_forms(domain)
    return rng.choices([f for f, _ in forms], weights=[w for _, w in forms])[0]


def people_at(rng: random.Random, company: Company) -> int:
    """How many MAP people work at a company: heavy-tailed, larger firms have more."""
    mu = 0.9 + 0.22 * math.log10(max(company.employees, 2))
    return min(400, 1 + int(rng.lognormvariate(mu, 0.95)))
