"""Customizable Campaign Influence, as the org behaves.

Influence models are metadata: the API can query ``CampaignInfluenceModel`` but
never write it, so the org holds them from the start, as if deployed: the
Primary Campaign Source model, and the connector's own model when the mappings
enable ``CampaignInfluence`` output (``connector schema export`` declares it for
a real org). A ``CampaignInfluence`` row's ``RevenueShare`` is the org's to
compute: ``Influence`` percent of the opportunity's ``Amount``, in cents, kept
current when either changes.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.emulator.schema import Schema, format_datetime
from connector.emulator.store import Store

MODEL_OBJECT = "CampaignInfluenceModel"


def ensure_influence_models(store: Store, schema: Schema, user_id: str, now: Any) -> None:
    """Create the schema's influence models that the org does not hold yet."""
    obj = schema.objects.get(MODEL_OBJECT)
    if obj is None or not schema.influence_models:
        return
    stamp = format_datetime(now)
    with store.transaction():
        for developer_name, label, default in schema.influence_models:
            found = store.conn.execute(
                f'SELECT Id FROM "{MODEL_OBJECT}" WHERE DeveloperName = ? AND IsDeleted = 0',
                (developer_name,)).fetchone()
            if found is not None:
                continue
            store.conn.execute(
                f'INSERT INTO "{MODEL_OBJECT}" (Id, IsDeleted, CreatedDate, CreatedById, '
                "LastModifiedDate, LastModifiedById, SystemModstamp, DeveloperName, MasterLabel, "
                "IsActive, IsDefaultModel, IsModelLocked, RecordPreference) "
                "VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 'AllRecords')",
                (store.new_id(obj.key_prefix), stamp, user_id, stamp, user_id, stamp,
                 developer_name, label, int(default), int(not default)))


def revenue_share(influence: Any, amount: Any) -> float | None:
    """``Influence``% of ``Amount``, half up to cents; None when either is blank."""
    if influence is None or amount is None:
        return None
    share = Decimal(str(influence)) * Decimal(str(amount)) / 100
    return float(share.quantize(Decimal("0.01"), ROUND_HALF_UP))


def opportunity_amount(store: Store, opportunity_id: Any) -> Any:
    if not opportunity_id:
        return None
    row = store.conn.execute('SELECT Amount FROM "Opportunity" WHERE Id = ?',
                             (opportunity_id,)).fetchone()
    return row[0] if row is not None else None


def refresh_revenue_shares(store: Store, opportunity_id: str, amount: Any) -> None:
    """After an opportunity's Amount changed: recompute its rows' RevenueShare."""
    rows = store.conn.execute(
        'SELECT Id, Influence FROM "CampaignInfluence" WHERE OpportunityId = ? '
        "AND IsDeleted = 0", (opportunity_id,)).fetchall()
    for rid, influence in rows:
        store.conn.execute('UPDATE "CampaignInfluence" SET RevenueShare = ? WHERE Id = ?',
                           (revenue_share(influence, amount), rid))
