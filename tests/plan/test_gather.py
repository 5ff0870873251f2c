"""gather_targets: one batch's plain values, read from the state store."""

from __future__ import annotations

from connector.engine.context import Target
from connector.run.gather import gather_targets
from connector.state.store import StateStore
from tests.factories import person, touch
from tests.plan.conftest import contact, day, fill, lead, member, sf_id

K1, K2 = sf_id("Contact", 1), sf_id("Contact", 2)
L1, L2, L3, L4 = (sf_id("Lead", n) for n in (1, 2, 3, 4))
C1, C2, C3 = (sf_id("Campaign", n) for n in (1, 2, 3))


def test_gather_reads_everything_deciding_needs(store: StateStore, run_id: int) -> None:
    fill(store, run_id,
         people=[person("M-1", "a@x.com"), person("M-2", "a2@x.com"), person("M-3", "b@x.com")],
         touches=[touch("t3", 3, map_id="M-2"), touch("t1", 1, map_id="M-1"),
                  touch("t2", 3, map_id="M-1"), touch("tb", 1, map_id="M-3")],
         rows=[contact(1, "a@x.com"),
               # two Leads converted into K1, and one into another contact
               lead(2, converted_to=K1), lead(3, converted_to=K1), lead(4, converted_to=K2),
               lead(1, "b@x.com"),
               member(1, C1, contact_id=K1, status="Attended"),
               member(2, C1, lead_id=L2, status="Sent"),        # the Contact's own wins
               member(3, C2, lead_id=L3, status="Registered"),  # smallest id first...
               member(4, C2, lead_id=L4, status="Opened"),      # (not converted into K1)
               member(5, C3, lead_id=L3, contact_id=K1, status="Sent"),
               member(6, C1, lead_id=L1, status="Opened")])
    store.set_written(run_id, "Contact", [(K1, "Title", "VP")])
    store.add_record_events(run_id, [(L2, day(5), "status: Recycled"),
                                     (K1, day(6), "status: x")])
    store.add_cycle_events(run_id, [("M-2", day(7), "sla")])
    targets = [Target(K1, "Contact", K1, ["M-1", "M-2"]), Target(L1, "Lead", L1, ["M-3"]),
               Target("new:M-9", "Lead", None, ["M-9"], ref="Lead:M-9")]
    ctxs = gather_targets(store, targets)
    assert [c.target.key for c in ctxs] == [K1, L1]  # nobody behind new:M-9 any more
    k, lead_ctx = ctxs
    assert [t.touch_id for t in k.touches] == ["t1", "t2", "t3"]  # by time, then id
    assert [p.map_id for p in k.people] == ["M-1", "M-2"]
    assert k.converted_from == frozenset({L2, L3}) and k.target.converted_from == {L2, L3}
    assert k.record is not None and k.record.id == K1
    assert k.written == {"Title": "VP"}
    assert k.record_history == {K1: ((day(6), "status: x"),), L2: ((day(5), "status: Recycled"),),
                                L3: ()}
    assert k.person_events == ((day(7), "sla"),)
    assert {cid: row.fields["Status"] for cid, row in k.members.items()} == {
        C1: "Attended", C2: "Registered", C3: "Sent"}
    assert lead_ctx.converted_from == frozenset()
    assert {cid: row.id for cid, row in lead_ctx.members.items()} == {
        C1: sf_id("CampaignMember", 6)}
    assert [t.touch_id for t in lead_ctx.touches] == ["tb"]
