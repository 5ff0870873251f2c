"""An opportunity's attribution as plain JSON-ready data, for ``explain opportunity``.

Everything ``explain`` shows comes from the same ``Attribution`` value the run
writes from: the window, the touches considered with their positions, the
touches left out with the reason, and per model each touch's share with the
rule that gave it and the credit and revenue written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.engine.attribution import Attribution


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def explanation(result: Attribution) -> dict[str, Any]:
    """Stable keys, deterministic order; numbers as strings so they print exactly."""
    opp = result.opportunity
    models = []
    for m in result.models:
        written = {r.touch_id: r for r in m.records}
        shares = []
        for s in m.shares:
            record = written.get(s.touch_id)
            shares.append({
                "touch_id": s.touch_id,
                "share": f"{float(s.share):.6f}",
                "credit": str(record.credit) if record else None,
                "revenue": (str(record.revenue) if record and record.revenue is not None
                            else None),
                "rule": s.rule,
            })
        models.append({"model": m.model, "touches": shares})
    return {
        "opportunity_id": opp.id,
        "amount": str(opp.amount) if opp.amount is not None else None,
        "created_at": _iso(opp.created_at),
        "close_date": opp.close_date.isoformat(),
        "is_closed": opp.is_closed,
        "attributed": result.attributed,
        "window": {"from": _iso(result.window_start), "to": _iso(result.window_end)},
        "positions": dict(result.positions),
        "touches": [{
            "touch_id": t.touch_id, "occurred_at": _iso(t.occurred_at),
            "touch_type": t.touch_type, "channel": t.channel, "campaign_id": t.campaign_id,
            "contact_id": t.contact_id, "person_id": t.person_id,
            "position": result.touch_positions[t.touch_id],
        } for t in result.journey],
        "excluded": [{"touch_id": e.touch_id, "reason": e.reason, "detail": e.detail}
                     for e in result.excluded],
        "models": models,
    }
