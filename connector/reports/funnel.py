"""The dual funnel: the demand waterfall (people) beside the account-based funnel.

Set-based SQL over the state database: the stage facts each sync keeps
(``connector.state.funnel_facts``), the links (a person's account) and the
mirror (opportunities, their amounts and outcomes). Nothing loops over people
in Python, so the report over a million people stays a handful of queries; the
account funnel runs one pure engine per account for its buying cycles
(``connector.reports.funnel_abm``).

Definitions (the same for marketing and finance):

* Volume of a stage in a period: the people (target accounts) whose stage date
  falls in the period; a person counts once per funnel cycle, an account once
  per buying cycle (it re-enters after a won or closed-lost opportunity).
* Conversion is cohort-based: of those who entered stage S in the period, the
  share that reached a later stage (in the same cycle) by ``as_of``. Those who
  have not, and whose cycle was not recycled (an account: whose cycle did not
  end with its opportunities closed lost), are ``in_flight``.
* Velocity: median, p75 and p90 days from S to the next stage reached, over the
  cohort's converters; percentiles interpolate linearly between ranks.
* An account's stage date it never had itself (an opportunity without an
  engaged date) is the next stage's date, counted as inferred, as for people.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from connector.engine.account_cycles import STAGES as ABM
from connector.errors import ConfigError
from connector.reports.funnel_abm import build_abm

Grain = Literal["month", "quarter"]
DEMAND = ("Inquiry", "MQL", "SAL", "SQL", "Opportunity", "Customer")
NONE = "(none)"
VIEWS = {"first_touch": ("channel", "program_id"),
         "original_source": ("source_channel", "source_program_id")}


def label(stage: str) -> str:
    """The report's name of a lifecycle stage: the Customer stage is ``Won``."""
    return "Won" if stage == "Customer" else stage


@dataclass(frozen=True)
class FunnelQuery:
    as_of: datetime
    start: date
    end: date          # inclusive
    grain: Grain = "month"
    # attributed revenue per channel: the model, and Attribution__c's API names
    # for (model, channel, revenue, opportunity)
    model: str = "w_shaped"
    attribution_fields: tuple[str, str, str, str] = (
        "Model__c", "Channel__c", "Revenue__c", "Opportunity__c")

    def params(self) -> dict[str, str]:
        def at(d: date) -> str:
            return datetime.combine(d, time(), UTC).isoformat(timespec="microseconds")
        return {"start": at(self.start), "end": at(self.end + timedelta(days=1)),
                "as_of": self.as_of.astimezone(UTC).isoformat(timespec="microseconds")}


def default_range(as_of: datetime, grain: Grain) -> tuple[date, date]:
    """The 12 months (4 quarters) up to and including ``as_of``'s."""
    end = as_of.astimezone(UTC).date()
    first = date(end.year, end.month, 1)
    if grain == "quarter":
        first = date(end.year, (end.month - 1) // 3 * 3 + 1, 1)
        months = 9
    else:
        months = 11
    y, m = divmod(first.year * 12 + first.month - 1 - months, 12)
    return date(y, m + 1, 1), end


def periods(start: date, end: date, grain: Grain) -> list[str]:
    out: list[str] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        name = f"{y}-{m:02d}" if grain == "month" else f"{y}-Q{(m + 2) // 3}"
        if name not in out:
            out.append(name)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _period_sql(column: str, grain: Grain) -> str:
    if grain == "month":
        return f"substr({column}, 1, 7)"
    return f"substr({column}, 1, 4) || '-Q' || ((CAST(substr({column}, 6, 2) AS INTEGER) + 2) / 3)"


# --------------------------------------------------------------- cohorts

def _rank(column: str, stages: Sequence[str]) -> str:
    return "CASE " + column + " " + " ".join(
        f"WHEN '{s}' THEN {i}" for i, s in enumerate(stages)) + " END"


def _build_demand(db: sqlite3.Connection, params: dict[str, str]) -> None:
    """Every stage entry in the period with the moment its person reached a later
    stage of the same cycle (by ``as_of``) and whether the cycle ended first."""
    db.execute("DROP TABLE IF EXISTS temp.funnel_demand")
    db.execute(f"""
        CREATE TEMP TABLE funnel_demand AS
        SELECT s.stage AS stage, s.at AS at, s.inferred AS inferred, s.channel AS channel,
               s.source_channel AS source_channel, s.program_id AS program_id,
               s.source_program_id AS source_program_id,
               (SELECT MIN(n.at) FROM funnel_stages n WHERE n.map_id = s.map_id
                  AND n.cycle = s.cycle AND n.at <= :as_of
                  AND {_rank('n.stage', DEMAND)} > {_rank('s.stage', DEMAND)}) AS next_at,
               (s.closed_at IS NOT NULL AND s.closed_at <= :as_of) AS ended
        FROM funnel_stages s
        WHERE s.at >= :start AND s.at < :end AND s.at <= :as_of""", params)


def _empty_row(last: bool) -> dict[str, Any]:
    return {"entered": 0, "inferred": 0, "reached_next": None if last else 0,
            "in_flight": None if last else 0, "conversion": None,
            "median_days": None, "p75_days": None, "p90_days": None}


def _stage_rows(db: sqlite3.Connection, table: str, stages: Sequence[str],
                key: str) -> dict[str, list[dict[str, Any]]]:
    """Per value of ``key``, one STAGE_ROW per stage (zeros where nobody entered):
    two grouped passes over the cohort table, whatever the number of people."""
    last_stage = stages[-1]
    stats: dict[tuple[str, str], dict[str, Any]] = {}
    for k, stage, entered, inferred, reached, flight in db.execute(f"""
            SELECT COALESCE({key}, '{NONE}'), stage, COUNT(*), SUM(inferred), COUNT(next_at),
                   SUM(next_at IS NULL AND NOT ended) FROM {table} GROUP BY 1, 2"""):
        last = stage == last_stage
        stats[(k, stage)] = {
            "entered": entered, "inferred": inferred or 0,
            "reached_next": None if last else reached,
            "in_flight": None if last else flight or 0,
            "conversion": None if last or not entered else round(reached / entered, 4),
            "median_days": None, "p75_days": None, "p90_days": None}
    for k, stage, p, value in db.execute(f"""
            WITH d AS (SELECT COALESCE({key}, '{NONE}') AS key, stage,
                              MAX(0.0, julianday(next_at) - julianday(at)) AS days
                       FROM {table} WHERE next_at IS NOT NULL AND stage != '{last_stage}'),
            r AS (SELECT key, stage, days,
                         ROW_NUMBER() OVER (PARTITION BY key, stage ORDER BY days) - 1 AS k,
                         COUNT(*) OVER (PARTITION BY key, stage) AS n FROM d),
            q AS (SELECT 50 AS p, 0.5 AS f UNION ALL SELECT 75, 0.75 UNION ALL SELECT 90, 0.9),
            x AS (SELECT r.key, r.stage, q.p, r.k, r.days, (r.n - 1) * q.f AS pos FROM r, q)
            SELECT key, stage, p, SUM(CASE WHEN k = CAST(pos AS INTEGER)
                                    THEN days * (1 - (pos - CAST(pos AS INTEGER)))
                                    ELSE days * (pos - CAST(pos AS INTEGER)) END)
            FROM x WHERE k IN (CAST(pos AS INTEGER), CAST(pos AS INTEGER) + 1)
            GROUP BY key, stage, p"""):
        name = {50: "median_days", 75: "p75_days", 90: "p90_days"}[p]
        stats[(k, stage)][name] = round(value, 2)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for k in sorted({k for k, _ in stats}):
        by_key[k] = [{"stage": label(s), **(stats.get((k, s)) or _empty_row(s == last_stage))}
                     for s in stages]
    return by_key


# ----------------------------------------------------------- accounts

def _revenue(db: sqlite3.Connection, params: dict[str, str], key: str | None
             ) -> dict[str, tuple[float, float]]:
    """Pipeline (by created date) and won (by close date) per channel of the
    account cycle each opportunity belongs to."""
    group = f"COALESCE(a.{key}, '{NONE}')" if key else "'all'"
    out: dict[str, tuple[float, float]] = {}
    for k, pipeline, won in db.execute(f"""
            SELECT {group},
                   SUM(CASE WHEN o.created_at >= :start AND o.created_at < :end
                            AND o.created_at <= :as_of THEN o.amount ELSE 0 END),
                   SUM(CASE WHEN o.won AND o.close_at >= :start AND o.close_at < :end
                            AND o.close_at <= :as_of THEN o.amount ELSE 0 END)
            FROM temp.funnel_opps o LEFT JOIN temp.funnel_opp_cycle y ON y.id = o.id
            LEFT JOIN temp.funnel_abm a ON a.account_id = y.account_id AND a.cycle = y.cycle
            GROUP BY 1""", params):
        out[k] = (round(pipeline or 0.0, 2), round(won or 0.0, 2))
    return out


def _attributed(db: sqlite3.Connection, q: FunnelQuery, params: dict[str, str]
                ) -> dict[str, tuple[float, float]]:
    """Attributed pipeline (opportunities created in the period) and won revenue
    (won ones closed in it) per touch channel, under ``q.model``, from the
    Attribution__c rows the mirror holds (``connector attribution run``)."""
    model, channel, revenue, opportunity = (f.replace("'", "") for f in q.attribution_fields)
    out: dict[str, tuple[float, float]] = {}
    for k, pipeline, won in db.execute(f"""
            SELECT COALESCE(json_extract(c.fields, '$.{channel}'), '{NONE}'),
                   SUM(CASE WHEN o.created_at >= :start AND o.created_at < :end
                            AND o.created_at <= :as_of
                            THEN CAST(json_extract(c.fields, '$.{revenue}') AS REAL) END),
                   SUM(CASE WHEN o.won AND o.close_at >= :start AND o.close_at < :end
                            AND o.close_at <= :as_of
                            THEN CAST(json_extract(c.fields, '$.{revenue}') AS REAL) END)
            FROM sf_records c JOIN temp.funnel_opps o
                 ON o.id = json_extract(c.fields, '$.{opportunity}')
            WHERE c.sobject = 'Attribution__c' AND c.is_deleted = 0
              AND json_extract(c.fields, '$.{model}') = :model
            GROUP BY 1""", {**params, "model": q.model}):
        out[k] = (round(pipeline or 0.0, 2), round(won or 0.0, 2))
    return out


# ------------------------------------------------------------- report

def _counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    return {r["stage"]: r["entered"] for r in rows}


def _zero(stages: Sequence[str]) -> list[dict[str, Any]]:
    return [{"stage": label(s), "entered": 0, "inferred": 0,
             "reached_next": None if i == len(stages) - 1 else 0,
             "in_flight": None if i == len(stages) - 1 else 0, "conversion": None,
             "median_days": None, "p75_days": None, "p90_days": None}
            for i, s in enumerate(stages)]


FULL_SYNC = "run `connector sync --full` once"


def check_facts(db: sqlite3.Connection) -> list[str]:
    """Whether the funnel facts a sync keeps are there. None at all while the
    ledger has responses (an install from before the facts, or one never
    synced since): ConfigError, since every number would be zero. The stage
    facts there but no meaningful engagement yet (the facts of an install from
    before migration 7, when the engagements joined them): a warning to return,
    since the report is right except that an account's later buying cycles
    are opened only by a SQL or an opportunity. Three EXISTS probes: cheap."""
    def exists(sql: str) -> bool:
        return bool(db.execute(f"SELECT EXISTS ({sql})").fetchone()[0])

    if not exists("SELECT 1 FROM funnel_stages") and \
            exists("SELECT 1 FROM touches WHERE is_response = 1"):
        raise ConfigError(
            "the funnel facts are missing: the state database has responses but no "
            "stage facts (a sync computes them; this install has not run one since "
            "the funnel report arrived)",
            hint=f"{FULL_SYNC} to compute them for everyone, then run the report again")
    if exists("SELECT 1 FROM funnel_stages") and \
            not exists("SELECT 1 FROM funnel_engagements") and \
            exists("SELECT 1 FROM funnel_accounts WHERE engaged_at IS NOT NULL"):
        return ["the funnel facts have no meaningful engagements yet (they are kept by "
                "syncs since this version): an account's buying cycle after a won or lost "
                "opportunity starts only at a SQL or an opportunity, and its Engaged date "
                f"is inferred; {FULL_SYNC} to fill them"]
    return []


def funnel_report(db: sqlite3.Connection, q: FunnelQuery) -> dict[str, Any]:
    """The CONTRACT's ``report funnel`` JSON (plus ``grain``, ``revenue``,
    ``cost``, ``by_campaign`` and ``warnings``). Raises ConfigError when the
    funnel facts are missing (``check_facts``)."""
    warnings = check_facts(db)
    params = q.params()
    _build_demand(db, params)
    build_abm(db, params)
    demand = _stage_rows(db, "temp.funnel_demand", DEMAND, "'all'").get("all") \
        or _zero(DEMAND)
    abm = _stage_rows(db, "temp.funnel_abm_cohort", ABM, "'all'").get("all") or _zero(ABM)
    total = _revenue(db, params, None).get("all", (0.0, 0.0))
    by_channel = []
    attributed = _attributed(db, q, params)
    for view, (channel_col, _) in VIEWS.items():
        d = _stage_rows(db, "temp.funnel_demand", DEMAND, channel_col)
        a = _stage_rows(db, "temp.funnel_abm_cohort", ABM, channel_col)
        money = _revenue(db, params, channel_col)
        channels = set(d) | set(a) | {k for k, v in money.items() if any(v)} | \
            {k for k, v in attributed.items() if any(v)}
        for channel in sorted(channels):
            drows = d.get(channel) or _zero(DEMAND)
            arows = a.get(channel) or _zero(ABM)
            pipeline, won = money.get(channel, (0.0, 0.0))
            credited = attributed.get(channel, (0.0, 0.0))
            by_channel.append({
                "channel": channel, "view": view, "demand": _counts(drows),
                "abm": _counts(arows), "pipeline": pipeline, "won": won,
                "attributed": {"model": q.model, "pipeline": credited[0],
                               "won": credited[1]},
                "demand_conversion": {r["stage"]: r["conversion"] for r in drows[:-1]}})
    return {
        "as_of": params["as_of"], "from": q.start.isoformat(), "to": q.end.isoformat(),
        "grain": q.grain,
        "demand": {"stages": demand}, "abm": {"stages": abm},
        "revenue": {"pipeline": total[0], "won": total[1]},
        "attributed_revenue": {
            "model": q.model,
            "by_channel": {k: {"pipeline": v[0], "won": v[1]}
                           for k, v in sorted(attributed.items())}},
        "cost": _cost(db, params, demand),
        "by_channel": by_channel,
        "by_campaign": _by_campaign(db, params),
        "periods": _periods(db, q, params),
        "warnings": warnings,
    }


def _periods(db: sqlite3.Connection, q: FunnelQuery, params: dict[str, str]
             ) -> list[dict[str, Any]]:
    names = periods(q.start, q.end, q.grain)
    demand: dict[str, dict[str, int]] = {p: {label(s): 0 for s in DEMAND} for p in names}
    abm: dict[str, dict[str, int]] = {p: {s: 0 for s in ABM} for p in names}
    for period, stage, n in db.execute(f"""
            SELECT {_period_sql('at', q.grain)}, stage, COUNT(*) FROM temp.funnel_demand
            GROUP BY 1, 2"""):
        if period in demand and stage in DEMAND:
            demand[period][label(stage)] = n
    for period, stage, n in db.execute(f"""
            SELECT {_period_sql('at', q.grain)}, stage, COUNT(*) FROM temp.funnel_abm_cohort
            GROUP BY 1, 2"""):
        if period in abm:
            abm[period][stage] = n
    return [{"period": p, "demand": demand[p], "abm": abm[p]} for p in names]


def _programs(db: sqlite3.Connection) -> dict[str, tuple[str | None, float | None, str | None]]:
    """Program id -> (name, cost, start date), from the ledger."""
    return {pid: (name, float(cost) if cost not in (None, "") else None, start)
            for pid, name, cost, start in db.execute(
                "SELECT program_id, json_extract(data, '$.name'), json_extract(data, '$.cost'), "
                "json_extract(data, '$.start_date') FROM programs")}


def _cost(db: sqlite3.Connection, params: dict[str, str],
          demand: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Cost of the programs that started in the period, and per stage entered."""
    start, end = params["start"][:10], params["end"][:10]
    total = sum(c for _, c, s in _programs(db).values()
                if c is not None and s is not None and start <= s < end)
    return {"programs": round(total, 2),
            "per_stage": {r["stage"]: round(total / r["entered"], 2) if r["entered"] and total
                          else None for r in demand}}


def _by_campaign(db: sqlite3.Connection, params: dict[str, str]) -> list[dict[str, Any]]:
    """Demand volumes per program of the first touch (or of the original source),
    with the program's cost per stage entered where it carries a cost."""
    programs = _programs(db)
    out = []
    for view, (_, col) in VIEWS.items():
        counts: dict[str, dict[str, int]] = {}
        for pid, stage, n in db.execute(f"""
                SELECT COALESCE({col}, '{NONE}'), stage, COUNT(*) FROM temp.funnel_demand
                GROUP BY 1, 2"""):
            counts.setdefault(pid, {label(s): 0 for s in DEMAND})[label(stage)] = n
        for pid in sorted(counts):
            name, cost, _ = programs.get(pid, (None, None, None))
            out.append({"campaign": pid, "name": name, "view": view, "demand": counts[pid],
                        "cost": cost,
                        "cost_per": {s: round(cost / n, 2) if cost is not None and n else None
                                     for s, n in counts[pid].items()}})
    return out
