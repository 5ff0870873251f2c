"""Plan: step order, counts, drift, and absorbing batch plans into a run's plan."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.plan.model import Plan, PlannedWrite
from connector.state.store import Finding
from connector.values import Link

# name, sobject, action, order (the steps a sync makes, in shuffled creation order)
STEPS = [("campaign members", "CampaignMember", "create", 60),
         ("new leads", "Lead", "upsert", 50),
         ("campaigns (level 1)", "Campaign", "upsert", 11),
         ("member status updates", "CampaignMemberStatus", "update", 41),
         ("campaigns (level 0)", "Campaign", "upsert", 10),
         ("lead updates", "Lead", "update", 51),
         ("member statuses", "CampaignMemberStatus", "create", 40)]


def test_steps_run_by_order_whatever_order_they_were_made_in() -> None:
    plan = Plan()
    for name, sobject, action, order in STEPS:
        plan.step(name, sobject, action, order=order)  # type: ignore[arg-type]
    assert [s.name for s in plan.steps] == [
        "campaigns (level 0)", "campaigns (level 1)", "member statuses",
        "member status updates", "new leads", "lead updates", "campaign members"]


def test_step_is_made_once_and_keeps_its_first_settings() -> None:
    plan = Plan()
    first = plan.step("new leads", "Lead", "upsert", order=50, external_id_field="MAP_Id__c")
    again = plan.step("new leads", "Lead", "upsert", order=99)
    assert again is first and len(plan.steps) == 1
    assert first.order == 50 and first.external_id_field == "MAP_Id__c"


def test_an_update_of_a_record_made_by_a_create_is_not_a_create() -> None:
    assert PlannedWrite("Lead:M-1", "Lead", None, {}).is_create
    assert not PlannedWrite("Lead:1", "Lead", "00Q000000000001AAA", {}).is_create
    implicit = PlannedWrite("CampaignMemberStatus:P:Responded", "CampaignMemberStatus", None,
                            {"SortOrder": 8}, depends={"Id": "CampaignMemberStatus:P:responded"})
    assert not implicit.is_create
    # depending on a campaign for a field other than the id is still a create
    assert PlannedWrite("CampaignMember:P:M-1", "CampaignMember", None, {},
                        depends={"CampaignId": "Campaign:P"}).is_create


def test_counts_and_drift_per_object() -> None:
    plan = Plan()
    statuses = plan.step("member status updates", "CampaignMemberStatus", "update", order=41)
    statuses.writes.append(PlannedWrite("s", "CampaignMemberStatus", None, {"SortOrder": 8},
                                        depends={"Id": "implicit"}))
    leads = plan.step("lead updates", "Lead", "update", order=51)
    leads.writes += [PlannedWrite("a", "Lead", "id-a", {"X": 1}, drift=("X", "Y")),
                     PlannedWrite("b", "Lead", "id-b", {"X": 1}, drift=("X",))]
    plan.step("new leads", "Lead", "upsert", order=50).writes.append(
        PlannedWrite("c", "Lead", None, {"X": 1}))
    plan.unchanged.update({"Lead": 4, "Contact": 2})
    assert plan.counts() == {
        "CampaignMemberStatus": {"create": 0, "update": 1, "unchanged": 0},
        "Lead": {"create": 1, "update": 2, "unchanged": 4},
        "Contact": {"create": 0, "update": 0, "unchanged": 2}}
    assert plan.drift == Counter({"Lead.X": 2, "Lead.Y": 1})
    assert plan.total_writes == 4


# --------------------------------------------------------------- absorb


@dataclass(frozen=True)
class W:
    """A generated write: which step, how it is made, which fields drifted."""

    step: int
    kind: str  # create | update | implicit
    drift: tuple[str, ...]


def _write(i: int, w: W) -> PlannedWrite:
    _, sobject, _, _ = STEPS[w.step]
    if w.kind == "create":
        return PlannedWrite(f"{sobject}:{i}", sobject, None, {"N": i}, drift=w.drift)
    if w.kind == "implicit":
        return PlannedWrite(f"{sobject}:{i}", sobject, None, {"N": i},
                            depends={"Id": f"implicit:{i}"}, drift=w.drift)
    return PlannedWrite(f"{sobject}:{i}", sobject, f"id{i}", {"N": i}, drift=w.drift)


def _plan(writes: list[tuple[int, W]], unchanged: int = 0) -> Plan:
    plan = Plan()
    for i, w in writes:
        name, sobject, action, order = STEPS[w.step]
        plan.step(name, sobject, action, order=order).writes.append(  # type: ignore[arg-type]
            _write(i, w))
        plan.findings.append(Finding("duplicate", sobject, None, str(i)))
        plan.links[str(i)] = Link(str(i), "Lead", f"id{i}", "email_lead", {})
    plan.unchanged["Lead"] += unchanged
    plan.skipped["invalid_email"] += unchanged
    plan.people_in_scope = len(writes) + unchanged
    return plan


writes_st = st.lists(st.builds(W, st.integers(0, len(STEPS) - 1),
                               st.sampled_from(["create", "update", "implicit"]),
                               st.lists(st.sampled_from(["A", "B", "C"]), max_size=2,
                                        unique=True).map(tuple)),
                     max_size=40)


def _split(n: int, cuts: list[int]) -> list[tuple[int, int]]:
    """Consecutive (start, end) batches of ``n`` writes cut at ``cuts``; at least one."""
    points = sorted({0, n, *(c % (n + 1) for c in cuts)})
    return list(itertools.pairwise(points)) or [(0, 0)]


@settings(max_examples=200, deadline=None)
@given(writes=writes_st, cuts=st.lists(st.integers(0, 100), max_size=6),
       unchanged=st.lists(st.integers(0, 3), min_size=7, max_size=7),
       keep=st.one_of(st.none(), st.integers(0, 4)))
def test_absorbing_batches_counts_like_one_plan(writes: list[W], cuts: list[int],
                                                unchanged: list[int], keep: int | None) -> None:
    numbered = list(enumerate(writes))
    batches = _split(len(numbered), cuts)
    kept_unchanged = [unchanged[b % 7] for b in range(len(batches))]
    whole = _plan(numbered, sum(kept_unchanged))
    run = Plan()
    for (start, end), n in zip(batches, kept_unchanged, strict=True):
        run.absorb(_plan(numbered[start:end], n), keep=keep)
    assert run.counts() == whole.counts()
    assert run.drift == whole.drift
    assert run.total_writes == whole.total_writes
    assert [s.name for s in run.steps] == [s.name for s in whole.steps]
    assert len(run.findings) == len(whole.findings)
    for mine, theirs in zip(run.steps, whole.steps, strict=True):
        kept = len(theirs.writes) if keep is None else min(keep, len(theirs.writes))
        # the samples are the first writes of the step, in plan order
        assert [w.ref for w in mine.writes] == [w.ref for w in theirs.writes[:kept]]
        assert mine.total == theirs.total
    if keep is None:
        assert all(not s.dropped for s in run.steps) and not run.dropped_drift


def test_absorb_without_keep_is_the_whole_plan() -> None:
    batches = [[(0, W(0, "create", ())), (1, W(1, "create", ("A",)))],
               [(2, W(0, "update", ("A",))), (3, W(3, "implicit", ()))]]
    run = Plan()
    for batch in batches:
        run.absorb(_plan(batch, 1))
    whole = _plan([w for batch in batches for w in batch], 2)
    assert [(s.name, [w.ref for w in s.writes]) for s in run.steps] == \
        [(s.name, [w.ref for w in s.writes]) for s in whole.steps]
    assert run.unchanged == whole.unchanged and run.skipped == whole.skipped
    assert run.people_in_scope == whole.people_in_scope


def test_absorb_keeps_samples_and_counts_the_rest_exactly() -> None:
    run = Plan()
    for start in (0, 3):
        batch = Plan()
        step = batch.step("campaign members", "CampaignMember", "create", order=60)
        step.writes += [PlannedWrite(f"m{i}", "CampaignMember", None, {}) for i in
                        range(start, start + 3)]
        updates = batch.step("lead updates", "Lead", "update", order=51)
        updates.writes += [PlannedWrite(f"l{i}", "Lead", f"id{i}", {"X": 1}, drift=("X",))
                           for i in range(start, start + 3)]
        batch.implicit[f"s{start}"] = (f"Campaign:{start}", "sent")
        run.absorb(batch, keep=2)
    members = run.step("campaign members", "CampaignMember", "create", order=60)
    leads = run.step("lead updates", "Lead", "update", order=51)
    assert [w.ref for w in members.writes] == ["m0", "m1"]
    assert members.dropped == Counter({"create": 4}) and members.total == 6
    assert [w.ref for w in leads.writes] == ["l0", "l1"]
    assert leads.dropped == Counter({"update": 4})
    assert run.dropped_drift == Counter({"Lead.X": 4})
    assert run.drift == Counter({"Lead.X": 6})
    assert run.counts()["CampaignMember"]["create"] == 6
    assert run.implicit == {"s0": ("Campaign:0", "sent"), "s3": ("Campaign:3", "sent")}
