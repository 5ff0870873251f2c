"""The JSON shapes `connector explain` prints for scores, lifecycle and accounts.

docs/interfaces.md fixes ``"scores": {"behavior": {"total", "rules": [...]}, "fit":
{...}, "lead"}`` and ``"lifecycle": {"stage", "cycle", "dates": {STAGE: DATE},
"excluded_reason"}``; the rules' points sum to their totals. Kept next to the
engines so explain and the sync render the very values the engines returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.engine.accounts import AccountScores
from connector.engine.lifecycle import Lifecycle
from connector.engine.scoring import PersonScores, Score, ScoreLine


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def line_json(line: ScoreLine) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": line.rule, "points": line.points, "detail": line.detail}
    if line.touch_id is not None:
        out.update(touch_id=line.touch_id, occurred_at=_iso(line.occurred_at),
                   base_points=line.base_points,
                   decayed_points=round(line.decayed_points or 0.0, 4), capped=line.capped)
    return out


def score_json(score: Score) -> dict[str, Any]:
    return {"total": score.total, "rules": [line_json(line) for line in score.lines]}


def person_scores_json(scores: PersonScores) -> dict[str, Any]:
    return {"behavior": score_json(scores.behavior), "fit": score_json(scores.fit),
            "lead": scores.lead, "excluded_reason": scores.excluded_reason}


def lifecycle_json(life: Lifecycle) -> dict[str, Any]:
    return {
        "stage": life.stage, "cycle": life.cycle,
        "dates": {stage: _iso(at) for stage, at in life.dates.items()},
        "recycled_at": _iso(life.recycled_at), "excluded_reason": life.excluded_reason,
        "cycles": [
            {"number": c.number, "opened_at": _iso(c.opened_at),
             "first_touch": c.first_touch_id, "closed_at": _iso(c.closed_at),
             "close_reason": c.close_reason, "stage": c.stage,
             "dates": {stage: _iso(at) for stage, at in c.dates.items()},
             "inferred": sorted(c.inferred),
             "history": [{"stage": e.stage, "at": _iso(e.at), "inferred": e.inferred,
                          "reason": e.reason} for e in c.history]}
            for c in life.cycles],
    }


def account_scores_json(scores: AccountScores) -> dict[str, Any]:
    engaged = scores.engaged_by
    return {
        "fit": score_json(scores.fit), "engagement": score_json(scores.engagement),
        "buying_stage": scores.buying_stage, "buying_stage_reason": scores.stage_reason,
        "target": scores.target, "qualified": scores.qualified,
        "qualified_date": _iso(scores.qualified_date),
        "engaged_date": _iso(scores.engaged_date),
        "engaged_by": None if engaged is None else {
            "map_id": engaged.map_id, "touch_id": engaged.touch_id,
            "at": _iso(engaged.at), "detail": engaged.detail},
    }
