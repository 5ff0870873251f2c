"""Registered domains from the bundled public suffix list, never the network."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from connector.engine.domains import domain_keys, host_of, registered_domain
from connector.engine.identity import MemoryIndex, match_account
from connector.state.store import MirrorRow
from tests.factories import mappings, person


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param("jane@us.acme.com", "acme.com", id="email-subdomain"),
    pytest.param("https://www.acme.co.uk/", "acme.co.uk", id="url-two-level-suffix"),
    pytest.param("WWW.Acme.COM.", "acme.com", id="case-and-trailing-dot"),
    pytest.param("http://shop.acme.com:8080/x?y=1", "acme.com", id="port-path-query"),
    pytest.param("a.b.c.co.jp", "c.co.jp", id="deep-subdomain"),
    pytest.param("acme.github.io", "github.io", id="private-suffixes-off"),
    pytest.param("co.uk", None, id="bare-suffix"),
    pytest.param("192.168.1.1", None, id="ip-address"),
    pytest.param("localhost", None, id="no-suffix"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="none"),
])
def test_registered_domain(value: str | None, expected: str | None) -> None:
    assert registered_domain(value) == expected


def test_lookup_keys_most_specific_first() -> None:
    assert domain_keys("jane@us.acme.com") == ("us.acme.com", "acme.com")
    assert domain_keys("https://www.acme.com/") == ("acme.com",)
    assert host_of("jane@US.Acme.com") == "us.acme.com"


def test_no_network_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("registered_domain tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert registered_domain("someone@mail.example-not-cached.co.nz") == "example-not-cached.co.nz"


def account(rid: str, website_domain: str, created: str = "2024-01-01") -> MirrorRow:
    return MirrorRow("Account", rid, {}, map_key=website_domain, created_date=created)


A1, A2 = "001000000000001AAA", "001000000000002AAA"


@pytest.mark.parametrize(("email", "rows", "expected"), [
    pytest.param("jane@us.acme.com", [account(A1, "acme.com")], (A1, "registered_domain"),
                 id="email-subdomain-finds-the-company"),
    pytest.param("jane@acme.co.uk", [account(A1, "acme.co.uk")], (A1, "email_domain"),
                 id="two-level-suffix-exact"),
    pytest.param("jane@acme.com", [account(A1, "shop.acme.com")], (A1, "email_domain"),
                 id="account-on-a-subdomain-found-by-registered-domain"),
    pytest.param("jane@shop.acme.com", [account(A1, "acme.com", "2020-01-01"),
                                        account(A2, "shop.acme.com", "2024-01-01")],
                 (A2, "email_domain"), id="exact-host-beats-the-parent"),
    pytest.param("jane@acme.com", [account(A2, "shop.acme.com", "2020-01-01"),
                                   account(A1, "acme.com", "2024-01-01")],
                 (A1, "email_domain"), id="exact-website-beats-older-subsidiary"),
    pytest.param("jane@mail.gmail.com", [account(A1, "gmail.com")], (None, "free_mail"),
                 id="free-mail-subdomain-never-matches"),
])
def test_account_matching_by_registered_domain(email: str, rows: list[MirrorRow],
                                               expected: tuple[str | None, str]) -> None:
    account_id, rule, _ = match_account(person(email=email), None, MemoryIndex(rows),
                                        mappings().sync.free_mail_domains)
    assert (account_id, rule) == expected
