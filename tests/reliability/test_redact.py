"""Defect 4: secrets are masked in every message, whatever echoes them."""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector import redact as r
from connector.errors import AuthError, SourceError


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    r.forget_all()
    yield
    r.forget_all()


@pytest.mark.parametrize(("text", "leaked"), [
    pytest.param("HubSpot /crm: HTTP 401 invalid token pat-na1-11111111-2222-3333-4444-"
                 "555555555555 supplied", "pat-na1-11111111", id="hubspot-pat"),
    pytest.param("Authorization: Bearer abc.DEF_123-xyz~tok", "abc.DEF_123", id="bearer"),
    pytest.param("session 00D5e000000abcd!AQ8AQH9zZ.keyP3Xr0Y7bq8lmnopQRSTuv rejected",
                 "AQ8AQH9zZ", id="sf-session-id"),
    pytest.param('{"error": "bad", "client_secret": "s3cr3t-value"}', "s3cr3t-value",
                 id="json-keyed"),
    pytest.param("grant_type=password&password=hunter22&x=1", "hunter22", id="form-keyed"),
])
def test_credential_shaped_strings_are_masked(text: str, leaked: str) -> None:
    out = r.redact(text)
    assert leaked not in out
    assert r.MASK in out


def test_registered_secrets_are_masked_anywhere_and_plain_text_survives() -> None:
    r.register("Zq9-SECRET-value", None, "abc")  # too short values are not registered
    assert r.redact("echo: xZq9-SECRET-valuex!") == f"echo: x{r.MASK}x!"
    assert r.redact("abc is a word") == "abc is a word"
    assert r.redact("nothing to hide, 42 leads") == "nothing to hide, 42 leads"


def test_errors_redact_their_message_and_hint_when_built() -> None:
    r.register("TOPSECRET123")
    exc = SourceError("HubSpot said: token TOPSECRET123 is invalid", hint="not TOPSECRET123")
    assert "TOPSECRET123" not in str(exc) and "TOPSECRET123" not in repr(exc.args)
    assert "TOPSECRET123" not in (AuthError("x TOPSECRET123").message)


def test_redact_any_walks_json_structures() -> None:
    r.register("Zq9-SECRET-value")
    out = r.redact_any({"a": ["Zq9-SECRET-value", 3], "b": {"c": "x Zq9-SECRET-value"}})
    assert "Zq9-SECRET-value" not in str(out) and out["a"][1] == 3


SECRET_CHARS = string.ascii_uppercase + string.digits + "-_!.$%"


@given(st.text(alphabet=SECRET_CHARS, min_size=r.MIN_SECRET, max_size=40),
       st.text(max_size=60), st.text(max_size=60))
def test_property_a_registered_secret_never_survives(secret: str, before: str,
                                                     after: str) -> None:
    r.register(secret)
    assert secret not in r.redact(before + secret + after)
