"""The read path's fast paths give exactly what the plain code gives.

Each shortcut of the export read (emails validated per domain, channels
remembered per input, touches and origins built without re-validation, one
serialisation per ledger record) is compared with the straightforward
computation it replaces: on tables of edge cases, on generated values
(hypothesis), and on every record of generated exports in both file formats.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.datagen import generate
from connector.datagen.generate import DEFAULT_AS_OF
from connector.mappings import Mappings
from connector.models import Origin, Person, Program, Rejection, TargetAccount, Touch
from connector.normalize import ChannelResolver, normalize_email, resolve_channel
from connector.sources.canonical import TouchFactory, trusted
from connector.sources.files import FileExportReader
from connector.state.store import _data_and_hash, _hash

# ------------------------------------------------------------------ emails


def reference_email(raw: str | None) -> tuple[str | None, bool, str | None]:
    """``normalize_email`` as it was before the per-domain fast path."""
    if raw is None:
        return None, False, None
    email = raw.strip().lower()
    if not email:
        return None, False, None
    try:
        result = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return email, False, str(exc)
    return (result.ascii_email or email).lower(), True, None


EMAILS = [
    pytest.param("Ann.Lee@Example.COM", id="plain"),
    pytest.param("  ann@acme.io ", id="spaces"),
    pytest.param("a.b+tag@sub.acme.co.uk", id="plus-and-subdomains"),
    pytest.param("a..b@acme.com", id="two-dots"),
    pytest.param(".a@acme.com", id="leading-dot"),
    pytest.param("a.@acme.com", id="trailing-dot"),
    pytest.param("a@acme", id="no-dot-in-domain"),
    pytest.param("a@acme.123", id="numeric-tld"),
    pytest.param("a@localhost", id="localhost"),
    pytest.param("a@x.test", id="special-use"),
    pytest.param("a@x.local", id="special-use-local"),
    pytest.param("a@-acme.com", id="label-starts-with-hyphen"),
    pytest.param("a@acme-.com", id="label-ends-with-hyphen"),
    pytest.param("a@ab--cd.com", id="double-hyphen"),
    pytest.param("a@xn--bcher-kva.de", id="punycode-domain"),
    pytest.param("a@xn--zz.de", id="bad-punycode"),
    pytest.param("a@bücher.de", id="idna-domain"),
    pytest.param("jürgen@acme.de", id="non-ascii-local"),
    pytest.param("a@acme..com", id="two-dots-in-domain"),
    pytest.param("a@acme.com.", id="trailing-dot-domain"),
    pytest.param("a@b@acme.com", id="two-at-signs"),
    pytest.param("acme.com", id="no-at"),
    pytest.param("@acme.com", id="empty-local"),
    pytest.param("a@", id="empty-domain"),
    pytest.param('"a b"@acme.com', id="quoted-local"),
    pytest.param("Ann <ann@acme.com>", id="display-name"),
    pytest.param("info@acme.com", id="case-insensitive-mailbox"),
    pytest.param("x" * 64 + "@acme.com", id="long-local"),
    pytest.param("x" * 65 + "@acme.com", id="longer-local"),
    pytest.param("x" * 200 + "@" + "d" * 50 + ".com", id="too-long"),
    pytest.param("x" * 240 + "@acme.com", id="too-long-by-a-little"),
    pytest.param("a@" + ".".join(["d" * 63] * 3) + ".com", id="long-domain"),
    pytest.param("a@" + "d" * 64 + ".com", id="label-too-long"),
    pytest.param("a@[127.0.0.1]", id="domain-literal"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param(None, id="none"),
]


@pytest.mark.parametrize("raw", EMAILS)
def test_email_fast_path_matches_the_validator(raw: str | None) -> None:
    assert normalize_email(raw) == reference_email(raw)
    assert normalize_email(raw) == reference_email(raw)  # again, with the domain cached


_EMAIL_PIECES = st.sampled_from([*"abcxyz019.-_+'@!#~ AZ", "ü", "..", "xn--", "@@"])


@settings(max_examples=400, deadline=None)
@given(local=st.lists(_EMAIL_PIECES, max_size=12).map("".join),
       domain=st.lists(_EMAIL_PIECES, max_size=14).map("".join),
       tld=st.sampled_from(["com", "io", "de", "test", "1", "", "co.uk", "local"]))
def test_email_fast_path_matches_the_validator_on_generated_addresses(
        local: str, domain: str, tld: str) -> None:
    raw = f"{local}@{domain}.{tld}" if tld else f"{local}@{domain}"
    assert normalize_email(raw) == reference_email(raw)


# ---------------------------------------------------------------- channels

_PROGRAM_CHANNELS = [None, "", "Webinar", "paid_search", "PPC", "Unknown Channel"]
_MEDIUMS = [None, "", "cpc", "CPC ", "email", "paid_social", "social", "banner", "nope"]
_SOURCES = [None, "", "linkedin", "LinkedIn", "google", "newsletter"]
_REFERRERS = [None, "", "https://www.google.com/", "https://www.google.de/search?q=x",
              "https://t.co/abc", "https://mail.google.com/", "https://www.lumora.io/pricing",
              "www.bing.com", "https://partner.example.org/", "http://[::1", "not a url"]
_TYPES = ["web_visit", "email_open", "webinar_attended", "sales_meeting", "unknown_type"]


@settings(max_examples=300, deadline=None)
@given(calls=st.lists(st.tuples(st.sampled_from(_PROGRAM_CHANNELS), st.sampled_from(_MEDIUMS),
                                st.sampled_from(_SOURCES), st.sampled_from(_REFERRERS),
                                st.sampled_from(_TYPES)), min_size=1, max_size=40),
       capacity=st.sampled_from([1, 3, 65_536]))
def test_channel_resolver_matches_resolve_channel(
        mappings: Mappings, calls: list[tuple[Any, ...]], capacity: int) -> None:
    """Remembered answers equal fresh ones, also when a memo fills up and restarts."""
    resolver = ChannelResolver(mappings.channels, mappings.touches)
    resolver.MAX_ENTRIES = capacity
    for program, medium, source, referrer, touch_type in calls + calls:
        kwargs = {"program_channel": program, "utm_medium": medium, "utm_source": source,
                  "referrer": referrer, "touch_type": touch_type}
        assert resolver.resolve(**kwargs) == resolve_channel(
            mappings.channels, mappings.touches, **kwargs)


# ------------------------------------------------------------------ touches


def assert_same_record(built: Any, validated: Any, *, fields_set: bool = True) -> None:
    assert built == validated
    assert type(built) is type(validated)
    assert built.model_dump_json() == validated.model_dump_json()
    assert list(built.__dict__) == list(validated.__dict__)
    if fields_set:
        assert built.model_fields_set == validated.model_fields_set


_TEXT = st.one_of(st.none(), st.text(max_size=6))


@settings(max_examples=300, deadline=None)
@given(touch_id=st.text(max_size=4), map_id=st.text(max_size=4),
       touch_type=st.sampled_from(_TYPES),
       occurred_at=st.datetimes(timezones=st.sampled_from(
           [UTC, timezone(timedelta(hours=2)), timezone(timedelta(0))])),
       program_id=_TEXT, url=_TEXT, referrer=st.sampled_from(_REFERRERS),
       utms=st.dictionaries(st.sampled_from(["utm_source", "utm_medium", "utm_campaign",
                                             "utm_content", "utm_term"]), _TEXT),
       extra=st.one_of(st.none(), st.dictionaries(st.text(max_size=3), st.integers())),
       row=st.one_of(st.none(), st.integers(1, 10**6)))
def test_touches_are_the_validated_touch_or_its_rejection(
        mappings: Mappings, touch_id: str, map_id: str, touch_type: str,
        occurred_at: datetime, program_id: str | None, url: str | None,
        referrer: str | None, utms: dict[str, str | None], extra: dict[str, Any] | None,
        row: int | None) -> None:
    webinar = Program(program_id="P1", channel="Webinar")
    factory = TouchFactory(mappings, {"P1": webinar})
    origin = Origin(kind="files", file="touches.csv", row=row) if row else None
    built = factory.build(touch_id=touch_id, map_id=map_id, touch_type=touch_type,
                          occurred_at=occurred_at, program_id=program_id, url=url,
                          referrer=referrer, utms=utms, extra=extra, origin=origin)
    if isinstance(built, Rejection):
        assert touch_type not in mappings.touches.touch_types or not touch_id or not map_id
        return
    decl = mappings.touches.touch_types[touch_type]
    channel, rule = resolve_channel(
        mappings.channels, mappings.touches, program_channel=(
            webinar.channel if program_id == "P1" else None),
        utm_medium=utms.get("utm_medium"), utm_source=utms.get("utm_source"),
        referrer=referrer, touch_type=touch_type)
    validated = Touch(
        touch_id=touch_id, map_id=map_id, program_id=program_id or None,
        touch_type=touch_type, occurred_at=occurred_at, url=url or None,
        referrer=referrer or None, utm_source=utms.get("utm_source") or None,
        utm_medium=utms.get("utm_medium") or None,
        utm_campaign=utms.get("utm_campaign") or None,
        utm_content=utms.get("utm_content") or None, utm_term=utms.get("utm_term") or None,
        channel=channel, channel_rule=rule, is_response=decl.response,
        is_conversion=decl.conversion, extra=extra or {}, origin=origin)
    assert_same_record(built, validated)
    if extra:
        assert built.extra is not extra  # a copy, as validation makes


def test_trusted_needs_every_field_in_order() -> None:
    assert_same_record(trusted(Origin, {"kind": "files", "file": "a.csv", "row": 2}),
                       Origin(kind="files", file="a.csv", row=2))
    with pytest.raises(TypeError):
        trusted(Origin, {"file": "a.csv", "kind": "files", "row": 2})
    with pytest.raises(TypeError):
        trusted(Origin, {"kind": "files", "file": "a.csv"})


# ------------------------------------------------------------------- hashes


RECORDS = [
    pytest.param(Touch(touch_id="1", map_id="2", touch_type="web_visit",
                       occurred_at=datetime(2024, 1, 1, tzinfo=UTC), channel="Website",
                       channel_rule="default_channel", is_response=False,
                       is_conversion=False,
                       extra={"origin": ',"origin":{"x":1}', "n": "é\u2028\"'"},
                       origin=Origin(kind="files", file='t,"origin":.csv', row=3)),
                 id="touch-with-origin-lookalikes"),
    pytest.param(Person(map_id="m", email="a@b.com", annual_revenue=Decimal("1.50"),
                        created_at=datetime(2024, 1, 1, 5, tzinfo=timezone(
                            timedelta(hours=2))), origin=None), id="person-without-origin"),
    pytest.param(Program(program_id="P", cost=Decimal("10"), extra={"origin": None},
                         origin=Origin(kind="marketo")), id="program"),
    pytest.param(TargetAccount(domain="acme.com", origin=Origin(kind="hubspot")),
                 id="target-account"),
]


@pytest.mark.parametrize("record", RECORDS)
def test_one_serialisation_gives_the_stored_json_and_the_same_hash(record: Any) -> None:
    assert _data_and_hash(record) == (record.model_dump_json(), _hash(record))


@settings(max_examples=200, deadline=None)
@given(extra=st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8),
                                                              st.integers(), st.none())),
       file=st.one_of(st.none(), st.text(max_size=10)), map_id=st.text(min_size=1))
def test_hash_of_generated_records_is_unchanged(extra: dict[str, Any], file: str | None,
                                                map_id: str) -> None:
    origin = Origin(kind="files", file=file, row=1) if file is not None else None
    person = Person(map_id=map_id, extra=extra, origin=origin)
    assert _data_and_hash(person) == (person.model_dump_json(), _hash(person))


# ---------------------------------------------------------- whole exports


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_record_of_a_generated_export_is_what_validation_gives(
        tmp_path: Path, mappings: Mappings, fmt: str) -> None:
    """A dirty generated world, read whole: each record equals its own fields
    validated again, and its stored JSON and hash are what they always were."""
    data = generate(tmp_path / "world", people=60, seed=5, dirty=0.3, fmt=fmt)  # type: ignore[arg-type]
    # the world's own as-of: touches after it are rejected as future
    items = list(FileExportReader(data.map_dir, mappings, as_of=DEFAULT_AS_OF).read(None, {}))
    kinds = {type(item) for item in items}
    assert {Person, Program, Touch, Rejection} <= kinds
    for item in items:
        fields = dict(item.__dict__)
        if fields.get("origin") is not None:
            fields["origin"] = fields["origin"].model_dump()
        validated = type(item).model_validate(fields)
        # touches are built with every field given, the others validated as ever
        assert_same_record(item, validated, fields_set=isinstance(item, Touch))
        if isinstance(item, Touch) and item.origin is not None:
            assert_same_record(item.origin, Origin(**item.origin.__dict__))
        if isinstance(item, Rejection):
            assert item.file and item.row and item.message
            json.dumps(item.raw)
        else:
            assert _data_and_hash(item) == (item.model_dump_json(), _hash(item))
