"""Touches naming a person the export does not have.

A touch whose ``map_id`` matches no people row used to sit in the ledger
unreported: the response never reached Salesforce and nobody knew why. Each
one read in a run now becomes a ``rejected_input`` dead letter naming its file,
row and field (``map_id``); the touch itself stays in the ledger, so when the
person appears in a later export it is used like any other (the person is new,
hence in scope, and their touches come with them) and the rejection is
resolved by that run.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from connector.models import Rejection


def reconcile_orphan_touches(store: Any, run_id: int) -> Counter[str]:
    """Reject this run's touches of unknown people; resolve those whose person exists."""
    counts: Counter[str] = Counter()
    rows = store.db.execute(
        "SELECT t.touch_id, t.map_id, t.program_id, t.data FROM touches t "
        "LEFT JOIN people p ON p.map_id = t.map_id "
        "WHERE p.map_id IS NULL AND t.seen_run = ? ORDER BY t.touch_id", (run_id,)).fetchall()
    for touch_id, map_id, program_id, data in rows:
        origin = (json.loads(data) or {}).get("origin") or {}
        store.add_rejection(run_id, Rejection(
            kind="touch", record_id=touch_id, file=origin.get("file"), row=origin.get("row"),
            field="map_id", value=map_id,
            message=f"touch {touch_id} names map_id {map_id!r}, which no people row has; the "
                    f"touch is kept and used once that person appears in the export",
            raw={"touch_id": touch_id, "map_id": map_id, "program_id": program_id}))
        counts["rejected"] += 1
        counts["touches_unknown_person"] += 1
    cur = store.db.execute(
        "UPDATE dead_letters SET resolved_run = ? WHERE kind = 'rejected_input' AND "
        "resolved_run IS NULL AND field = 'map_id' AND ref LIKE 'touch:%' AND "
        "map_id IN (SELECT map_id FROM people)", (run_id,))
    if cur.rowcount:
        counts["rejections_resolved"] += cur.rowcount
    return counts


__all__ = ["reconcile_orphan_touches"]
