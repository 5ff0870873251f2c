"""Registered domains: the part of a host a company actually owns.

People match accounts by registered domain (the label just below the public
suffix), so ``jane@us.acme.com`` matches ``acme.com`` and
``https://www.acme.co.uk/`` matches ``acme.co.uk`` rather than ``co.uk``.
The public suffix list is ``tldextract``'s bundled snapshot: no download, no
cache directory, so results are the same offline, in CI and on a customer's
locked-down host (a newer list only ever changes rare private suffixes).
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

# suffix_list_urls=() and cache_dir=None: never fetch, never write; the
# snapshot shipped inside the package is the list. Private suffixes
# (github.io, herokuapp.com) are off: a company's own domain is what we want.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                 fallback_to_snapshot=True, include_psl_private_domains=False)


def host_of(value: str | None) -> str | None:
    """The lower-cased host of an email address, URL or bare domain, or None."""
    if not value:
        return None
    text = value.strip().lower()
    if not text:
        return None
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".") or None


@lru_cache(maxsize=65_536)
def _registered(host: str) -> str | None:
    parts = _EXTRACT(host)
    if not parts.suffix or not parts.domain:
        return None  # an IP address, 'localhost', or a bare public suffix
    return f"{parts.domain}.{parts.suffix}"


def registered_domain(value: str | None) -> str | None:
    """'jane@us.acme.com' -> 'acme.com'; 'https://www.acme.co.uk/' -> 'acme.co.uk'.

    None for a value with no host, an IP address, or a bare public suffix
    ('co.uk'): none of those identifies a company.
    """
    host = host_of(value)
    return _registered(host) if host else None


def domain_keys(value: str | None) -> tuple[str, ...]:
    """The host and, when different, its registered domain: lookup keys, most specific first."""
    host = host_of(value)
    if not host:
        return ()
    if host.startswith("www."):
        host = host[4:]
    reg = _registered(host)
    if reg is None or reg == host:
        return (host,) if reg else ()
    return (host, reg)
