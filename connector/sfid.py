"""Salesforce record ids: 15-character case-sensitive ids and their 18-character form.

Shared by the connector (matching ids the MAP holds) and the emulator (issuing them).
The 18-character form appends a 3-character checksum that encodes, for each
5-character chunk of the 15-character id, which characters are upper case, so
the id survives case-insensitive systems. Key prefixes (the first three
characters) name the object: 001 Account, 003 Contact, 00Q Lead, ...
"""

from __future__ import annotations

import re

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID15 = re.compile(r"[A-Za-z0-9]{15}")
_ID18 = re.compile(r"[A-Za-z0-9]{15}[A-Z0-5]{3}")


def checksum(id15: str) -> str:
    suffix = []
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(id15[chunk * 5: chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        suffix.append(_CHECKSUM_ALPHABET[bits])
    return "".join(suffix)


def to18(record_id: str) -> str:
    """Normalize a 15- or 18-character id to 18 characters; ValueError if malformed."""
    if len(record_id) == 18 and _ID18.fullmatch(record_id):
        if checksum(record_id[:15]) != record_id[15:]:
            # Salesforce matches the 15-character part case-sensitively and
            # recomputes the suffix, so a wrong-cased suffix still resolves.
            return record_id[:15] + checksum(record_id[:15])
        return record_id
    if len(record_id) == 15 and _ID15.fullmatch(record_id):
        return record_id + checksum(record_id)
    raise ValueError(f"{record_id!r} is not a Salesforce id")


def is_valid_id(value: str) -> bool:
    if len(value) == 15:
        return bool(_ID15.fullmatch(value))
    return bool(_ID18.fullmatch(value)) and checksum(value[:15]) == value[15:].upper()


def make_id(key_prefix: str, sequence: int, pod: str = "8d") -> str:
    """The 18-character id of the ``sequence``-th record with ``key_prefix``."""
    if sequence < 0:
        raise ValueError("sequence must be non-negative")
    digits = []
    n = sequence
    while True:
        n, r = divmod(n, 62)
        digits.append(_BASE62[r])
        if n == 0:
            break
    body = "".join(reversed(digits)).rjust(10, "0")
    if len(body) > 10:
        raise ValueError("id sequence exhausted")
    id15 = f"{key_prefix}{pod}{body}"
    return id15 + checksum(id15)
