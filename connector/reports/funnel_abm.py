"""The account-based funnel's cohort table: one row per target account's buying
cycle and stage entered in the period.

The cycle boundaries come from the pure engine ``connector.engine.account_cycles``,
fed from the state database: the meaningful engagements and SQL dates of the
people linked to each account (funnel facts), the account's target flag, and its
opportunities from the mirror. Account cycles are derived here, at report time,
rather than stored by the sync, because their inputs change independently of
when an account is planned (a person reaching SQL, an opportunity closing in
Salesforce): derived on each report they are never stale. The engine runs once
per account that matters (target accounts, and accounts with opportunities for
revenue by channel), never per person; everything per person stays in SQL,
driven from those accounts' links so only their people's facts are read.

Only target accounts are counted (DOMAIN: "Target accounts -> Engaged -> SQL ->
Opportunity -> Won"), so every cycle counted starts at Target and the funnel
narrows stage by stage. Other accounts' opportunities still count in pipeline
and won revenue.

A cycle's channel (both views) is that of the earliest Inquiry of a person of
the account within the cycle (after the previous cycle's close day, up to its
own), else of the latest Inquiry before the cycle opened: the journey that was
under way when the account came back. For a one-cycle account this is its first
person's earliest Inquiry.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime
from typing import Any

from connector.engine.account_cycles import (
    CLOSE_DAY,
    STAGES,
    AccountOpportunity,
    account_cycles,
)

TABLES = ("funnel_abm", "funnel_abm_raw", "funnel_opps", "funnel_opp_cycle", "funnel_acct_inq",
          "funnel_abm_cohort", "funnel_abm_ids", "funnel_abm_people")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds") if moment is not None else None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _cycle_rows(db: sqlite3.Connection, params: dict[str, str]
                ) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, int]]]:
    """Every account's cycles (the engine's output) as rows, and each
    opportunity's cycle."""
    as_of = _at(params["as_of"])
    targets: dict[str, datetime | None] = {}
    engagements: dict[str, list[datetime]] = defaultdict(list)
    sqls: dict[str, list[datetime]] = defaultdict(list)
    opps: dict[str, list[AccountOpportunity]] = defaultdict(list)
    for account_id, target, target_at, engaged_at in db.execute("""
            SELECT a.account_id, a.target, a.target_at, a.engaged_at
            FROM temp.funnel_abm_ids i CROSS JOIN funnel_accounts a
                 ON a.account_id = i.account_id"""):
        targets[account_id] = _at(target_at) if target and target_at else None
        if engaged_at:  # the first engagement, kept by the account scores
            engagements[account_id].append(_at(engaged_at))
    for account_id, at in db.execute("""
            SELECT p.account_id, e.at FROM temp.funnel_abm_people p
            CROSS JOIN funnel_engagements e ON e.map_id = p.map_id
            WHERE e.at <= :as_of""", params):
        engagements[account_id].append(_at(at))
    for account_id, at in db.execute("""
            SELECT p.account_id, f.at FROM temp.funnel_abm_people p
            CROSS JOIN funnel_stages f ON f.map_id = p.map_id AND +f.stage = 'SQL'
            WHERE f.at <= :as_of""", params):
        sqls[account_id].append(_at(at))
    for opp_id, account_id, created, close, won, closed in db.execute("""
            SELECT id, account_id, created_at, close_at, won, closed FROM temp.funnel_opps
            WHERE account_id IS NOT NULL"""):
        opps[account_id].append(AccountOpportunity(
            opp_id, _at(created), _at(close) if closed and close else None, bool(won)))
    rows: list[tuple[Any, ...]] = []
    opp_rows: list[tuple[str, str, int]] = []
    for account_id in sorted(set(targets) | set(opps)):
        for c in account_cycles(engagements=engagements.get(account_id, ()),
                                sqls=sqls.get(account_id, ()),
                                opportunities=opps.get(account_id, ()), as_of=as_of,
                                target_at=targets.get(account_id)):
            after = c.previous_closed_at + CLOSE_DAY if c.previous_closed_at else None
            until = c.closed_at + CLOSE_DAY if c.closed_at else None
            rows.append((account_id, c.number, int("Target" in c.dates),
                         int(c.outcome == "lost"), _iso(c.opened_at), _iso(after), _iso(until),
                         *(_iso(c.dates.get(s)) for s in STAGES),
                         *(int(s in c.inferred) for s in STAGES)))
            opp_rows += [(o, account_id, c.number) for o in c.opportunities]
    return rows, opp_rows


def build_abm(db: sqlite3.Connection, params: dict[str, str]) -> None:
    """temp.funnel_opps (the mirrored opportunities), temp.funnel_abm (one row per
    account cycle with its stage dates d0..d4, inferred flags i0..i4 and
    channels), temp.funnel_opp_cycle and temp.funnel_abm_cohort (the target
    accounts' stage entries in the period, shaped like the people's cohort)."""
    for name in TABLES:
        db.execute(f"DROP TABLE IF EXISTS temp.{name}")
    db.execute("""
        CREATE TEMP TABLE funnel_opps AS
        SELECT id, parent_id AS account_id,
               CAST(COALESCE(json_extract(fields, '$.Amount'), 0) AS REAL) AS amount,
               substr(created_date, 1, 19) || '.000000+00:00' AS created_at,
               json_extract(fields, '$.CloseDate') || 'T00:00:00.000000+00:00' AS close_at,
               json_extract(fields, '$.IsWon') IN (1, 'true') AS won,
               json_extract(fields, '$.IsClosed') IN (1, 'true') AS closed
        FROM sf_records WHERE sobject = 'Opportunity' AND is_deleted = 0""")
    # the accounts that matter: target accounts (counted) and accounts with
    # opportunities (revenue by channel); then their people, in one pass over the links
    db.execute("""
        CREATE TEMP TABLE funnel_abm_ids (account_id TEXT PRIMARY KEY)""")
    db.execute("""
        INSERT INTO temp.funnel_abm_ids
        SELECT account_id FROM funnel_accounts WHERE target AND target_at <= :as_of
        UNION SELECT account_id FROM temp.funnel_opps WHERE account_id IS NOT NULL""", params)
    db.execute("""
        CREATE TEMP TABLE funnel_abm_people AS
        SELECT map_id, account_id FROM person_links
        WHERE account_id IN (SELECT account_id FROM temp.funnel_abm_ids)""")
    rows, opp_rows = _cycle_rows(db, params)
    dates = ", ".join(f"d{i} TEXT" for i in range(len(STAGES)))
    flags = ", ".join(f"i{i} INTEGER" for i in range(len(STAGES)))
    db.execute(f"""CREATE TEMP TABLE funnel_abm_raw (account_id TEXT, cycle INTEGER,
                   target INTEGER, lost INTEGER, opened TEXT, after TEXT, until TEXT,
                   {dates}, {flags}, PRIMARY KEY (account_id, cycle))""")
    db.executemany(f"INSERT INTO temp.funnel_abm_raw VALUES ({','.join('?' * 17)})", rows)
    db.execute("CREATE TEMP TABLE funnel_opp_cycle (id TEXT PRIMARY KEY, account_id TEXT, "
               "cycle INTEGER)")
    db.executemany("INSERT OR IGNORE INTO temp.funnel_opp_cycle VALUES (?,?,?)", opp_rows)
    # the Inquiries of the people of those accounts
    db.execute("""
        CREATE TEMP TABLE funnel_acct_inq AS
        SELECT p.account_id AS account_id, f.at || ' ' || f.map_id AS k,
               f.channel AS channel, f.source_channel AS source_channel
        FROM temp.funnel_abm_people p
        CROSS JOIN funnel_stages f ON f.map_id = p.map_id AND +f.stage = 'Inquiry'
        WHERE f.at <= :as_of""", params)
    db.execute("CREATE INDEX temp.ix_funnel_acct_inq ON funnel_acct_inq(account_id, k)")
    # SQLite takes the bare columns from the row holding the MIN (MAX)
    db.execute("""
        CREATE TEMP TABLE funnel_abm AS
        WITH inside AS (
            SELECT c.account_id, c.cycle, MIN(q.k), q.channel, q.source_channel
            FROM temp.funnel_abm_raw c JOIN temp.funnel_acct_inq q
                 ON q.account_id = c.account_id AND (c.after IS NULL OR q.k >= c.after)
                 AND (c.until IS NULL OR q.k < c.until)
            GROUP BY c.account_id, c.cycle),
        before AS (
            SELECT c.account_id, c.cycle, MAX(q.k), q.channel, q.source_channel
            FROM temp.funnel_abm_raw c JOIN temp.funnel_acct_inq q
                 ON q.account_id = c.account_id AND substr(q.k, 1, 32) <= c.opened
            GROUP BY c.account_id, c.cycle)
        SELECT c.*,
               CASE WHEN i.account_id IS NOT NULL THEN i.channel ELSE b.channel END
                   AS channel,
               CASE WHEN i.account_id IS NOT NULL THEN i.source_channel
                    ELSE b.source_channel END AS source_channel
        FROM temp.funnel_abm_raw c
        LEFT JOIN inside i ON i.account_id = c.account_id AND i.cycle = c.cycle
        LEFT JOIN before b ON b.account_id = c.account_id AND b.cycle = c.cycle""")
    db.execute("CREATE INDEX temp.ix_funnel_abm ON funnel_abm(account_id, cycle)")
    db.execute("CREATE TEMP TABLE funnel_abm_cohort AS " + " UNION ALL ".join(
        f"SELECT '{s}' AS stage, d{i} AS at, i{i} AS inferred, "
        f"{f'd{i + 1}' if i + 1 < len(STAGES) else 'NULL'} AS next_at, lost AS ended, "
        f"channel, source_channel FROM temp.funnel_abm "
        f"WHERE target AND d{i} >= :start AND d{i} < :end"
        for i, s in enumerate(STAGES)), params)
