"""Exact shares to printed numbers: half-up rounding with the remainder placed.

Shares are exact fractions; Salesforce stores a credit with 4 decimals and a
revenue in cents. Rounding each share alone would let the totals drift from
100% and from the opportunity's Amount, so the rounding remainder goes to the
largest share (the earliest touch among equal shares) and the totals are exact.
Rounding works on the fractions' integers directly (no intermediate Fraction
objects): attribution rounds millions of shares per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction


def _half_up(numerator: int, denominator: int, places: int) -> Decimal:
    """numerator/denominator (denominator > 0) rounded half away from zero."""
    sign = -1 if numerator < 0 else 1
    whole, rest = divmod(abs(numerator) * 10**places, denominator)
    if 2 * rest >= denominator:
        whole += 1
    return Decimal(sign * whole).scaleb(-places)


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals, exactly."""
    return _half_up(value.numerator, value.denominator, places)


def largest_index(shares: Sequence[Fraction]) -> int:
    """The index of the largest share; the first (earliest touch) among equal ones."""
    best = 0
    bn, bd = shares[0].numerator, shares[0].denominator
    for i in range(1, len(shares)):
        n, d = shares[i].numerator, shares[i].denominator
        if n * bd > bn * d:  # n/d > bn/bd, denominators being positive
            best, bn, bd = i, n, d
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
    a, b = scale.numerator, scale.denominator
    out = [_half_up(s.numerator * a, s.denominator * b, places) for s in shares]
    remainder = total - sum(out, Decimal(0).scaleb(-places))
    if remainder:
        i = largest_index(shares)
        out[i] = (out[i] + remainder).quantize(Decimal(1).scaleb(-places))
    return out


def cents(amount: Decimal) -> Decimal:
    """An opportunity Amount as Salesforce stores currency: half up to cents."""
    return round_half_up(Fraction(amount), 2)
