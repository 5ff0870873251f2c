"""Normalizers shared by every source: emails, timestamps, domains, channels.

Pure functions. Each returns a normalized value or raises ``ValueError`` with a
message fit to show a user next to the file, row and field it came from.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from connector.mappings import ChannelsMapping, TouchesMapping

# A plain ASCII address: a dot-atom local part (RFC 5322 atext) and a host name
# of letters, digits, dots and hyphens. For these the validator's verdict depends
# only on the domain (checked once per domain, below) and on the total length.
_PLAIN_EMAIL = re.compile(
    r"([a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@([a-z0-9.-]+)")
_EMAIL_MAX_LENGTH = 254  # RFC 5321 4.5.3.1.3, as email_validator checks it
_DOMAIN_CACHE_SIZE = 65_536


@functools.lru_cache(maxsize=_DOMAIN_CACHE_SIZE)
def _plain_domain(domain: str) -> tuple[str, str] | None:
    """The validator's (domain, ascii_domain) for a domain, or None when a probe
    address on it is not valid (the caller then validates the real address, so
    its message is the validator's own). Domains repeat across people; the
    validator's domain checks (IDNA, special-use names) dominate its cost."""
    try:
        result = validate_email("a@" + domain, check_deliverability=False,
                                allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return result.domain, result.ascii_domain


def normalize_email(raw: str | None) -> tuple[str | None, bool, str | None]:
    """Return ``(email, valid, problem)``: trimmed and lower-cased; invalid kept, flagged.

    An internationalized domain (``user@bücher.de``) comes back in its IDNA
    (punycode) form, ``user@xn--bcher-kva.de``: the only form Salesforce's Email
    fields accept, and the form it then stores, so matching compares like with
    like. A non-ASCII local part has no such form and is invalid (rejected with
    the reason) rather than sent to fail on every run.

    Plain ASCII addresses take a fast path with the same verdict as
    ``email_validator`` (a property test compares both on generated addresses).
    """
    if raw is None:
        return None, False, None
    email = raw.strip().lower()
    if not email:
        return None, False, None
    plain = _PLAIN_EMAIL.fullmatch(email)
    if plain is not None:
        domains = _plain_domain(plain.group(2))
        if domains is not None:
            local = plain.group(1)
            # the three lengths email_validator checks: as given, normalized, ASCII
            if (len(email) <= _EMAIL_MAX_LENGTH
                    and len(local) + 1 + len(domains[0].encode()) <= _EMAIL_MAX_LENGTH
                    and len(local) + 1 + len(domains[1]) <= _EMAIL_MAX_LENGTH):
                return f"{local}@{domains[1]}".lower(), True, None
    return _validated_email(email)


def _validated_email(email: str) -> tuple[str | None, bool, str | None]:
    """``normalize_email`` through the validator itself (any address)."""
    try:
        result = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return email, False, str(exc)
    ascii_email = (result.ascii_email or email).lower()
    return ascii_email, True, None


def parse_timestamp(raw: str | datetime | None) -> datetime | None:
    """ISO 8601 with an offset -> aware UTC datetime. A naive timestamp is an error:
    guessing its zone would silently move touches across days and cycles."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        value = raw
    else:
        text = raw.strip()
        try:  # the common, well-formed case without any rewriting
            value = datetime.fromisoformat(text)
            if value.tzinfo is UTC:  # already what the checks below would return
                return value
        except ValueError:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            # Salesforce style +0000 -> +00:00
            text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{raw!r} is not an ISO 8601 timestamp") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{raw!r} has no UTC offset; write it as e.g. {value.isoformat()}+00:00"
        )
    return value.astimezone(UTC)


def parse_date(raw: str | None) -> date | None:
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    try:
        if len(text) > 10:
            parsed = parse_timestamp(text)
            assert parsed is not None
            return parsed.date()
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{raw!r} is not an ISO 8601 date") from None


MAX_NUMBER = Decimal("1e18")


def parse_decimal(raw: str | None) -> Decimal | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not a finite number")
    if abs(value) >= MAX_NUMBER:
        # no Salesforce number field holds it; rejected here, with its row, rather
        # than failing the diff (or the write) of the whole run later
        raise ValueError(f"{raw!r} is too large: a Salesforce number has at most 18 digits")
    return value


def parse_int(raw: str | None) -> int | None:
    value = parse_decimal(raw)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise ValueError(f"{raw!r} is not a whole number")
    return int(value)


def website_domain(website: str | None) -> str | None:
    """'https://www.Acme.com/about' -> 'acme.com'."""
    if not website:
        return None
    text = website.strip().lower()
    if not text:
        return None
    if "://" not in text:
        text = "//" + text
    host = urlsplit(text).hostname
    if not host:
        return None
    if host.startswith("www."):
        host = host[4:]
    host = host.rstrip(".")
    if host and not host.isascii():  # the IDNA form, as emails carry it
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host or None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        return urlsplit(text).hostname
    except ValueError:
        return None


def resolve_channel(
    channels: ChannelsMapping,
    touches: TouchesMapping,
    *,
    program_channel: str | None,
    utm_medium: str | None,
    utm_source: str | None,
    referrer: str | None,
    touch_type: str,
) -> tuple[str, str]:
    """The touch's channel and the rule that decided it (for `explain`).

    Order: program channel, UTM rules, referrer rules, touch type, default.
    """
    return _resolve(channels, program_channel, utm_medium, utm_source, _host(referrer),
                    touch_type)


def _resolve(channels: ChannelsMapping, program_channel: str | None, utm_medium: str | None,
             utm_source: str | None, host: str | None, touch_type: str) -> tuple[str, str]:
    """``resolve_channel`` given the referrer's host rather than the referrer."""
    program = channels.canonical(program_channel)
    if program:
        return program, "program_channel"
    medium = (utm_medium or "").strip().lower()
    source = (utm_source or "").strip().lower()
    if medium or source:
        for i, rule in enumerate(channels.utm_rules):
            if rule.medium and medium not in [m.lower() for m in rule.medium]:
                continue
            if rule.source and source not in [s.lower() for s in rule.source]:
                continue
            return rule.channel, f"utm_rules[{i}]"
    if host and not any(
        host == d or host.endswith("." + d) for d in channels.own_domains
    ):
        for i, (patterns, channel) in enumerate(channels.compiled_referrer_rules):
            if any(p.search(host) for p in patterns):
                return channel, f"referrer_rules[{i}]"
        return channels.referral_channel, "referral_channel"
    by_type = channels.touch_type_channels.get(touch_type)
    if by_type:
        return by_type, "touch_type_channels"
    return channels.default_channel, "default_channel"


class ChannelResolver:
    """``resolve_channel`` for one read, remembered per distinct input.

    A read of a million touches meets a few hundred distinct combinations of
    program channel, UTM medium and source, referrer host and touch type, so
    each is resolved once. Referrers are reduced to their host first (also
    remembered), since full referrer URLs vary far more than hosts. Both memos
    are bounded: when one fills up it starts afresh, which costs time, never
    correctness. Build one per read: it assumes the mappings do not change."""

    MAX_ENTRIES = 65_536

    def __init__(self, channels: ChannelsMapping, touches: TouchesMapping) -> None:
        self._channels = channels
        self._touches = touches
        self._hosts: dict[str | None, str | None] = {}
        self._resolved: dict[tuple[str | None, str | None, str | None, str | None, str],
                             tuple[str, str]] = {}

    def resolve(self, *, program_channel: str | None, utm_medium: str | None,
                utm_source: str | None, referrer: str | None,
                touch_type: str) -> tuple[str, str]:
        hosts = self._hosts
        if referrer in hosts:
            host = hosts[referrer]
        else:
            host = _host(referrer)
            if len(hosts) >= self.MAX_ENTRIES:
                hosts.clear()
            hosts[referrer] = host
        key = (program_channel, utm_medium, utm_source, host, touch_type)
        found = self._resolved.get(key)
        if found is None:
            found = _resolve(self._channels, program_channel, utm_medium, utm_source, host,
                             touch_type)
            if len(self._resolved) >= self.MAX_ENTRIES:
                self._resolved.clear()
            self._resolved[key] = found
        return found
