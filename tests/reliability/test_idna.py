"""Defect 8: internationalized email domains are sent in their IDNA form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.normalize import normalize_email, website_domain
from tests.e2e.harness import Rig


@pytest.mark.parametrize(("raw", "email", "valid"), [
    pytest.param("user@bücher.de", "user@xn--bcher-kva.de", True, id="umlaut-domain"),
    pytest.param(" User@BÜCHER.de ", "user@xn--bcher-kva.de", True, id="case-and-blanks"),
    pytest.param("info@例え.jp", "info@xn--r8jz45g.jp", True, id="cjk-domain"),
    pytest.param("ada@acme.com", "ada@acme.com", True, id="ascii-unchanged"),
    pytest.param("jürgen@acme.com", "jürgen@acme.com", False, id="unicode-local-part-invalid"),
])
def test_email_domains_are_sent_as_idna(raw: str, email: str, valid: bool) -> None:
    got, ok, problem = normalize_email(raw)
    assert (got, ok) == (email, valid)
    assert (problem is None) == valid


def test_website_domains_match_the_email_form() -> None:
    assert website_domain("https://www.Bücher.de/about") == "xn--bcher-kva.de"


@given(st.emails())
def test_property_valid_emails_normalize_to_ascii(raw: str) -> None:
    email, ok, _ = normalize_email(raw)
    if ok:
        assert email is not None and email.isascii()


@pytest.mark.e2e
def test_an_idn_email_is_written_once_and_not_retried(rig: Rig) -> None:
    rig.export().person("P1", "anna@bücher.de").write()
    first = rig.sync()
    assert first.status == "ok", first.as_json()
    [lead] = rig.query("SELECT Email FROM Lead")
    assert lead["Email"] == "anna@xn--bcher-kva.de"
    again = rig.sync()
    assert sum(o["created"] + o["updated"] + o["failed"] for o in again.objects.values()) == 0
