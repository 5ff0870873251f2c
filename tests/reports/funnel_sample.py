"""A small hand-built funnel dataset; every number the report gives for it is
worked out by hand in test_funnel.py (the comments there show the arithmetic).

People (stage dates per cycle; first-touch channel/program; original source):
  p1: Inquiry 01-01, MQL 01-11, SAL 01-21, SQL 02-10, Opportunity 03-02, Won 03-31 12:00
      Paid Search/P1; source Paid Search/P1; account A1
  p2: Inquiry 01-05, MQL 01-25, SAL 02-14 (inferred), SQL 02-14
      Webinar/P2; source Paid Search/P1; account A1
  p3: cycle 1 Inquiry 02-01, MQL 02-05, recycled 03-10; cycle 2 Inquiry 03-20
      Webinar/P2; source Webinar/P2; account A2
  p4: Inquiry 03-01; Email, no program; source Email; account A5; meaningful
      engagements (pricing page, demo request) 01-20 15:00, 02-03, 03-20
  p5: Inquiry 2025-12-20, MQL 01-04, SAL 01-09; Paid Search/P1; source Paid Search/P1; A3
  p6: Inquiry 03-25, MQL 03-28 (inferred), SAL 03-28; Webinar/P2; source Webinar/P2; A2
Accounts: A1 target since 01-01, engaged 01-15; A2 target since 02-01, never engaged;
  A3 not a target, engaged 01-10; A4 target since 03-01, engaged 03-11;
  A5 target since 01-01, engaged 01-20 15:00 (the re-entry case: a lost deal,
  back, a won deal, back again).
Opportunities: O1 (A1) created 03-02, 1000, won, closes 03-31; O2 (A2) created 03-15,
  500, closed lost 04-10; O3 (A3) created 2025-12-01, 300, open; O4 (A5) created 01-05,
  200, closed lost 01-20; O5 (A5) created 02-20, 800, won, closes 03-10.
Programs: P1 cost 1200 starting 01-01; P2 cost 600 starting 2025-11-01; P3 no cost.
Dates are 2026 unless said otherwise; the report runs 01-01..03-31 at as_of 04-15.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from connector.models import Program
from connector.reports.funnel import FunnelQuery
from connector.state import funnel_facts
from connector.state.funnel_facts import AccountFact, StageFact
from connector.state.store import StateStore
from connector.values import Link, MirrorRow

AS_OF = datetime(2026, 4, 15, tzinfo=UTC)
QUERY = FunnelQuery(AS_OF, date(2026, 1, 1), date(2026, 3, 31), "month")


def _d(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _person(map_id: str, cycle: int, stages: list[tuple[str, str, bool]], channel: str,
            program: str | None, source: str, source_program: str | None,
            closed: str | None = None) -> list[StageFact]:
    return [StageFact(map_id, cycle, stage, _d(at), inferred, _d(closed) if closed else None,
                      channel, program, source, source_program)
            for stage, at, inferred in stages]


FULL = [("Inquiry", "2026-01-01", False), ("MQL", "2026-01-11", False),
        ("SAL", "2026-01-21", False), ("SQL", "2026-02-10", False),
        ("Opportunity", "2026-03-02", False), ("Customer", "2026-03-31T12:00", False)]


def build(path: Path) -> StateStore:
    store = StateStore(path)
    run = store.start_run("test", AS_OF)
    facts = {
        "p1": _person("p1", 1, FULL, "Paid Search", "P1", "Paid Search", "P1"),
        "p2": _person("p2", 1, [("Inquiry", "2026-01-05", False), ("MQL", "2026-01-25", False),
                                ("SAL", "2026-02-14", True), ("SQL", "2026-02-14", False)],
                      "Webinar", "P2", "Paid Search", "P1"),
        "p3": _person("p3", 1, [("Inquiry", "2026-02-01", False),
                                ("MQL", "2026-02-05", False)],
                      "Webinar", "P2", "Webinar", "P2", closed="2026-03-10")
        + _person("p3", 2, [("Inquiry", "2026-03-20", False)], "Webinar", "P2", "Webinar", "P2"),
        "p4": [*_person("p4", 1, [("Inquiry", "2026-03-01", False)], "Email", None, "Email",
                        None),
               StageFact("p4", 0, funnel_facts.ENGAGED, _d("2026-01-20T15:00"), False, None,
                         "Website", None, "Email", None),
               StageFact("p4", 0, funnel_facts.ENGAGED, _d("2026-02-03"), False, None,
                         "Website", None, "Email", None),
               StageFact("p4", 1, funnel_facts.ENGAGED, _d("2026-03-20"), False, None,
                         "Email", None, "Email", None)],
        "p5": _person("p5", 1, [("Inquiry", "2025-12-20", False), ("MQL", "2026-01-04", False),
                                ("SAL", "2026-01-09", False)],
                      "Paid Search", "P1", "Paid Search", "P1"),
        "p6": _person("p6", 1, [("Inquiry", "2026-03-25", False), ("MQL", "2026-03-28", True),
                                ("SAL", "2026-03-28", False)], "Webinar", "P2", "Webinar", "P2"),
    }
    with store.transaction():
        funnel_facts.set_person_stages(store, facts)
        funnel_facts.set_accounts(store, [
            AccountFact("A1", True, _d("2026-01-01"), _d("2026-01-15")),
            AccountFact("A2", True, _d("2026-02-01"), None),
            AccountFact("A3", False, None, _d("2026-01-10")),
            AccountFact("A4", True, _d("2026-03-01"), _d("2026-03-11")),
            AccountFact("A5", True, _d("2026-01-01"), _d("2026-01-20T15:00")),
        ])
        accounts = {"p1": "A1", "p2": "A1", "p3": "A2", "p4": "A5", "p5": "A3", "p6": "A2"}
        store.set_links(run, [Link(m, "Contact", f"C{m}", "email", {}, a)
                              for m, a in accounts.items()])
        store.mirror_upsert([
            MirrorRow("Opportunity", "O1", {"Amount": 1000, "IsClosed": True, "IsWon": True,
                                            "CloseDate": "2026-03-31"}, parent_id="A1",
                      created_date="2026-03-02T00:00:00.000+00:00"),
            MirrorRow("Opportunity", "O2", {"Amount": 500, "IsClosed": True, "IsWon": False,
                                            "CloseDate": "2026-04-10"}, parent_id="A2",
                      created_date="2026-03-15T00:00:00.000+00:00"),
            MirrorRow("Opportunity", "O3", {"Amount": 300, "IsClosed": False, "IsWon": False,
                                            "CloseDate": "2026-06-30"}, parent_id="A3",
                      created_date="2025-12-01T00:00:00.000+00:00"),
            MirrorRow("Opportunity", "O4", {"Amount": 200, "IsClosed": True, "IsWon": False,
                                            "CloseDate": "2026-01-20"}, parent_id="A5",
                      created_date="2026-01-05T00:00:00.000+00:00"),
            MirrorRow("Opportunity", "O5", {"Amount": 800, "IsClosed": True, "IsWon": True,
                                            "CloseDate": "2026-03-10"}, parent_id="A5",
                      created_date="2026-02-20T00:00:00.000+00:00"),
        ])
        store.upsert_programs(run, [
            Program(program_id="P1", name="Search Q1", cost=Decimal("1200"),
                    start_date=date(2026, 1, 1)),
            Program(program_id="P2", name="Webinar series", cost=Decimal("600"),
                    start_date=date(2025, 11, 1)),
            Program(program_id="P3", name="No cost", start_date=date(2026, 2, 1)),
        ])
    return store
