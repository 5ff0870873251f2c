"""Why a connection failed, in words a user can act on.

``requests`` wraps the real cause several layers deep (urllib3's
``MaxRetryError`` around a ``NameResolutionError`` around a ``socket.gaierror``);
"ConnectionError" alone sends people to check everything. This walks the chain
and names the cause: DNS, refused, TLS (and which CA bundle was trusted),
timeout, reset.
"""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        stack.extend([item.__cause__, item.__context__])
        stack.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return seen


def ca_bundle_in_use(configured: Path | str | None) -> str:
    """The CA bundle a request trusted: SF_CA_BUNDLE, else the environment's, else certifi."""
    if configured:
        return f"SF_CA_BUNDLE {configured}"
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if os.environ.get(name):
            return f"{name} {os.environ[name]}"
    try:
        import certifi

        return f"the default bundle {certifi.where()}"
    except ImportError:  # pragma: no cover - requests depends on certifi
        return "the system default bundle"


def connection_reason(exc: BaseException) -> str:
    """One phrase: 'DNS lookup failed', 'connection refused', 'TLS ...', 'timed out'."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or \
            "certificate verify failed" in text:
        return "TLS: the server's certificate is not trusted"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text:
        return "TLS handshake failed"
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in \
            text or "nodename nor servname" in text or "failed to resolve" in text or \
            "getaddrinfo" in text or "name resolution" in text:
        return "DNS lookup failed (no such host)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return "connection refused (nothing listens on that host and port)"
    if any(isinstance(e, (TimeoutError, socket.timeout)) or "Timeout" in type(e).__name__
           for e in chain) or \
            "timed out" in text or "timeout" in text:
        return "timed out"
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset" in text:
        return "connection reset by the server or a proxy"
    return type(exc).__name__


__all__ = ["ca_bundle_in_use", "connection_reason"]
