"""Dead-letter keys that survive the create of the record they depend on.

A write's ``ref`` names it within one run. For a Campaign Member that ref
contains the person's *target*: ``new:<map id>`` while the Lead does not exist
yet, the Lead's id once it does. A member kept after a failed run under the
first form would be written by a later run under the second, and its dead
letter would wait forever while the person is re-planned on every run. So
failed writes are keyed by what does not change: the program and the MAP
person (``CampaignMember:<program>:<map id>``); a success resolves the keys of
every MAP person behind the record, and the legacy forms too.
"""

from __future__ import annotations

from collections.abc import Sequence

MEMBER = "CampaignMember:"


def _program(ref: str, map_ids: Sequence[str]) -> str | None:
    if not ref.startswith(MEMBER):
        return None
    rest = ref[len(MEMBER):]
    for map_id in map_ids:
        suffix = f":new:{map_id}"
        if rest.endswith(suffix):
            return rest[:-len(suffix)]
    program, sep, _target = rest.rpartition(":")  # the target is a record id
    return program if sep else None


def dead_letter_key(sobject: str, ref: str, map_ids: Sequence[str]) -> str:
    """The key a failed write is kept under."""
    program = _program(ref, map_ids) if sobject == "CampaignMember" else None
    if program is None or not map_ids:
        return ref
    return f"{MEMBER}{program}:{map_ids[0]}"


def resolved_keys(sobject: str, ref: str, map_ids: Sequence[str]) -> list[str]:
    """Every key a successful write settles: its ref, and per MAP person behind it
    the stable key and the legacy ``new:`` form older versions stored."""
    keys = [ref]
    program = _program(ref, map_ids) if sobject == "CampaignMember" else None
    if program is not None:
        for map_id in map_ids:
            keys.append(f"{MEMBER}{program}:{map_id}")
            keys.append(f"{MEMBER}{program}:new:{map_id}")
    return keys


__all__ = ["dead_letter_key", "resolved_keys"]
