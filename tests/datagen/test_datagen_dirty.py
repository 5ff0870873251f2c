"""Dirty data: the requested share, every kind present, counted, and still valid CSV."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from connector.datagen import generate
from connector.datagen.dirty import PERSON_KINDS, TOUCH_KINDS
from connector.mappings import load_mappings
from connector.normalize import normalize_email, parse_decimal, parse_timestamp
from tests.datagen.conftest import Dataset


def observed_defects(data: Dataset) -> Counter[str]:
    """Defects found by reading the files, without the generator's help."""
    found: Counter[str] = Counter()
    free_mail = load_mappings().sync.free_mail_domains
    emails: Counter[str] = Counter()
    for p in data.people:
        email, valid, _ = normalize_email(p["email"])
        if not valid:
            found["invalid_email"] += 1
        elif email is not None:
            emails[email] += 1
            found["free_mail"] += email.rsplit("@", 1)[1] in free_mail
        for column in ("employees", "annual_revenue"):
            try:
                parse_decimal(p[column] or None)
            except ValueError:
                found["bad_number"] += 1
        found["too_long"] += len(p["title"]) == 300 or len(p["company"]) == 300
    found["duplicate_person"] = sum(n - 1 for n in emails.values())
    programs = {p["program_id"] for p in data.programs}
    ids: Counter[str] = Counter()
    for t in data.touches:
        ids[t["touch_id"]] += 1
        try:
            parse_timestamp(t["occurred_at"])
        except ValueError:
            found["naive_timestamp"] += 1
        found["unknown_program"] += bool(t["program_id"]) and t["program_id"] not in programs
    found["duplicate_touch_id"] = sum(n - 1 for n in ids.values())
    return found


@pytest.mark.parametrize("rate", [
    pytest.param(0.02, id="2pct"), pytest.param(0.05, id="5pct"), pytest.param(0.2, id="20pct"),
])
def test_dirty_rate_sets_the_share_of_defective_rows(tmp_path: Path, rate: float) -> None:
    s = generate(tmp_path, people=1500, seed=13, dirty=rate).summary
    assert s["dirty_people"] == sum(s["dirty"][k] for k in PERSON_KINDS)
    assert s["dirty_touches"] == sum(s["dirty"][k] for k in TOUCH_KINDS)
    assert abs(s["dirty_people"] / s["people"] - rate) <= max(0.3 * rate, 0.006)
    assert abs(s["dirty_touches"] / s["touches"] - rate) <= 0.15 * rate


def test_every_kind_appears_and_matches_its_count(very_dirty: Dataset) -> None:
    counted = very_dirty.summary["dirty"]
    assert set(counted) == set(PERSON_KINDS) | set(TOUCH_KINDS)
    assert all(n > 0 for n in counted.values()), counted
    observed = observed_defects(very_dirty)
    for kind, n in counted.items():
        assert observed[kind] == n, kind


def test_no_dirt_without_a_dirty_rate(clean: Dataset) -> None:
    assert clean.summary["dirty_people"] == clean.summary["dirty_touches"] == 0
    assert all(n == 0 for n in observed_defects(clean).values())


@pytest.mark.parametrize("value", [
    pytest.param("bob@", id="no-domain"),
    pytest.param("no-at-sign.com", id="no-at"),
    pytest.param("a b@c.com", id="space"),
])
def test_the_invalid_email_shapes_are_rejected_by_the_connector(value: str) -> None:
    assert normalize_email(value)[1] is False


def test_duplicate_people_differ_only_in_case_or_padding(very_dirty: Dataset) -> None:
    raw_by_email: dict[str, set[str]] = {}
    for p in very_dirty.people:
        email, valid, _ = normalize_email(p["email"])
        if valid and email:
            raw_by_email.setdefault(email, set()).add(p["email"])
    variants = [raws for raws in raw_by_email.values() if len(raws) > 1]
    assert variants
    for raws in variants:
        assert len({r.strip().lower() for r in raws}) == 1


def test_dirty_rows_are_still_valid_csv(very_dirty: Dataset) -> None:
    """Loading already asserted every row has the header's width; check the tricky ones
    survived the round trip unchanged."""
    commas = [p["email"] for p in very_dirty.people if "," in p["email"]]
    padded = [p["email"] for p in very_dirty.people if p["email"] != p["email"].strip()]
    assert commas and padded
    assert any(p["employees"] == "lots" or p["annual_revenue"] == "$5M"
               or p["employees"] == "n/a" for p in very_dirty.people)
