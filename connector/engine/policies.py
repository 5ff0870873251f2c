"""Write policies: the one place that decides whether a field is written.

Every connector-owned field carries a policy in ``mappings/fields.yaml``. For a
field, ``decide`` compares what Salesforce holds now, what the connector wants,
and what the connector itself last wrote there, and says: write (which value)
or leave, and whether the difference is drift (a hand edit of a field the
connector owns) or a conflict (a write-once field that disagrees).

Values are compared in a canonical form per field type (datetimes to the
millisecond in UTC, numbers to the field's scale, text as-is), so
``2026-01-31T09:30:00.000+0000`` from the API equals the datetime the engine
computed, and a re-run with nothing changed writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.mappings import FieldDecl, WritePolicy
from connector.normalize import parse_timestamp


def canonical(decl: FieldDecl, value: Any) -> Any:
    """A comparable, JSON-ready form of ``value`` for a field of ``decl``'s type."""
    if value is None or value == "":
        return None
    t = decl.type
    if t == "datetime":
        moment = value if isinstance(value, datetime) else parse_timestamp(str(value))
        assert moment is not None
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if t == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)[:10]
    if t in ("double", "currency", "percent", "int"):
        scale = 0 if t == "int" else (decl.scale if decl.scale is not None else 2)
        number = Decimal(str(value)).quantize(Decimal(1).scaleb(-scale), ROUND_HALF_UP)
        return int(number) if scale == 0 else float(number)
    if t == "boolean":
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)
    text = str(value)
    if decl.length and len(text) > decl.length:
        if t in ("email", "url"):
            return None  # a cut address is a wrong address: leave the field alone
        text = text[:decl.length]  # the ledger keeps the full value
    return text


@dataclass(frozen=True)
class FieldDecision:
    write: bool
    value: Any = None
    drift: bool = False
    conflict: bool = False
    reason: str = ""


KEEP = FieldDecision(False, reason="unchanged")


def decide(
    decl: FieldDecl,
    *,
    current: Any,
    desired: Any,
    last_written: Any = None,
    has_written: bool = False,
    new_cycle: bool = False,
) -> FieldDecision:
    """Apply ``decl.policy``; all values are canonical (see ``canonical``)."""
    policy: WritePolicy = decl.policy
    if policy == "never":
        return FieldDecision(False, reason="never written")
    if current == desired:
        return KEEP
    blank = current is None
    if policy == "always":
        if desired is None:
            # Clear only what the connector itself put there; a blank computed
            # value must not wipe data another tool owns.
            if has_written and last_written is not None:
                return FieldDecision(True, None, drift=current != last_written,
                                     reason="the connector's value no longer applies")
            return FieldDecision(False, reason="nothing to write")
        drift = has_written and current != last_written
        return FieldDecision(True, desired, drift=drift,
                             reason="put back after a hand edit" if drift else "changed")
    if policy == "if_blank":
        if blank and desired is not None:
            return FieldDecision(True, desired, reason="filled while blank")
        return FieldDecision(False, reason="kept: already filled")
    if policy == "write_once":
        if blank and desired is not None:
            return FieldDecision(True, desired, reason="filled once while blank")
        if not blank and desired is not None:
            return FieldDecision(False, conflict=True,
                                 reason="write-once: Salesforce keeps its value")
        return FieldDecision(False, reason="write-once: never cleared")
    # monotonic: set once per funnel cycle, never moved earlier or cleared within it
    if new_cycle:
        return FieldDecision(desired is not None or not blank, desired,
                             reason="a new funnel cycle restarts the date")
    if blank and desired is not None:
        return FieldDecision(True, desired, reason="stage reached in this cycle")
    return FieldDecision(False, reason="kept: set earlier in this cycle")
