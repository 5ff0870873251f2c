"""Exact shares to printed numbers: half-up rounding with the remainder placed.

Shares are exact fractions; Salesforce stores a credit with 4 decimals and a
revenue in cents. Rounding each share alone would let the totals drift from
100% and from the opportunity's Amount, so the rounding remainder goes to the
largest share (the earliest touch among equal shares) and the totals are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals, exactly."""
    sign = -1 if value < 0 else 1
    scaled = abs(value) * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(sign * whole).scaleb(-places)


def largest_index(shares: Sequence[Fraction]) -> int:
    """The index of the largest share; the first (earliest touch) among equal ones."""
    best = 0
    for i in range(1, len(shares)):
        if shares[i] > shares[best]:
            best = i
    return best


def allocate(shares: Sequence[Fraction], total: Decimal, scale: Fraction,
             places: int) -> list[Decimal]:
    """``share * scale`` per share, rounded half up, with the remainder making ``total``.

    ``shares`` are in percent (they sum to 100), ``scale`` turns one percent
    into the unit wanted (1 for a credit, Amount/100 for revenue), and
    ``total`` is what the rounded values must add up to.
    """
    if not shares:
        return []
    cache: dict[Fraction, Decimal] = {}
    out: list[Decimal] = []
    for share in shares:
        rounded = cache.get(share)
        if rounded is None:
            rounded = cache[share] = round_half_up(share * scale, places)
        out.append(rounded)
    remainder = total - sum(out, Decimal(0).scaleb(-places))
    if remainder:
        i = largest_index(shares)
        out[i] = (out[i] + remainder).quantize(Decimal(1).scaleb(-places))
    return out


def cents(amount: Decimal) -> Decimal:
    """An opportunity Amount as Salesforce stores currency: half up to cents."""
    return round_half_up(Fraction(amount), 2)
