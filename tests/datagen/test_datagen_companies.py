"""Company identities: unique domains without memory, firmographics in and out of profile."""

from __future__ import annotations

import random

import pytest

from connector.datagen import vocab
from connector.datagen.companies import COMBINATIONS, company_identity, make_company
from connector.datagen.people import ascii_fold
from connector.mappings import load_mappings
from connector.normalize import normalize_email


def test_root_and_descriptor_concatenations_are_unique() -> None:
    joined = [ascii_fold(r) + ascii_fold(d) for r in vocab.COMPANY_ROOTS
              for d, _ in vocab.DESCRIPTORS]
    assert len(joined) == len(set(joined))
    assert COMBINATIONS >= 150_000  # a million people need ~130k companies


@pytest.mark.parametrize("start", [
    pytest.param(0, id="first"), pytest.param(COMBINATIONS - 3000, id="across-the-wrap"),
])
def test_company_domains_are_unique_and_valid_email_domains(start: int) -> None:
    domains = [company_identity(i, 12345)[2] for i in range(start, start + 6000)]
    assert len(domains) == len(set(domains))
    for domain in domains[:500] + domains[-500:]:
        assert normalize_email(f"jane.doe@{domain}")[1], domain
        assert domain != vocab.VENDOR_DOMAIN


def test_free_mail_domains_are_the_connectors_free_mail_domains() -> None:
    assert set(vocab.FREE_MAIL_DOMAINS) <= load_mappings().sync.free_mail_domains


def test_companies_mix_ideal_profile_and_others() -> None:
    rng = random.Random(1)
    companies = [make_company(rng, i, 0) for i in range(2000)]
    share = sum(c.icp for c in companies) / len(companies)
    assert 0.15 <= share <= 0.45
    assert {c.industry for c in companies} >= {"Technology", "Education", "Government"}


def test_country_specific_domains_carry_their_country() -> None:
    rng = random.Random(2)
    for i in range(3000):
        c = make_company(rng, i, 0)
        if c.domain.endswith(".co.uk"):
            assert c.country == "United Kingdom"
        if c.domain.endswith(".de"):
            assert c.country == "Germany"
