"""Point-in-time snapshots: no future leaks in, labels follow the horizon, and the
rule score riding along equals what the scoring engine computes at that moment."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.scoring import Profile, score_person
from connector.learn.history import History, Reached
from connector.learn.snapshots import build, grid, prepare
from tests.factories import T0, mappings, person, touch

TYPES = ("web_visit", "form_fill", "email_open", "email_click", "webinar_attended",
         "demo_request", "content_download")
URLS = ("https://x.example/pricing", "https://x.example/blog/a", "https://x.example/careers",
        "https://x.example/product", None)


def _history(seed: int, people: int = 12, future_touch: bool = False) -> History:
    rng = random.Random(seed)
    ps, ts, reached = {}, {}, {}
    titles = ("VP Marketing", "Student", "Marketing Manager", "CEO", None)
    for i in range(people):
        mid = f"M-{i}"
        ps[mid] = person(mid, f"p{i}@acme{i % 3}.com", title=rng.choice(titles),
                         employees=rng.choice((5, 300, 5000, None)), industry="Technology")
        items = []
        for j in range(rng.randint(0, 15)):
            day = rng.randint(-20, 200)
            items.append(touch(f"T-{i}-{j}", day, rng.choice(TYPES), map_id=mid,
                               url=rng.choice(URLS)))
        if future_touch:
            items.append(touch(f"T-{i}-late", 400, "demo_request", map_id=mid))
        ts[mid] = sorted(items, key=lambda t: t.order_key)
        if rng.random() < 0.4:
            at = T0 + timedelta(days=rng.randint(0, 260))
            reached[mid] = [Reached(at, at + timedelta(days=30) if rng.random() < 0.5
                                    else None)]
    return History(ps, ts, reached)


def _dates() -> list:
    return [T0 + timedelta(days=d) for d in (60, 120, 180)]


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(4)])
def test_rule_score_equals_the_engine_at_each_snapshot(seed: int) -> None:
    m = mappings()
    assert m.scoring is not None
    h = _history(seed)
    p = prepare(h, m.scoring, m.sync.free_mail_domains, "opportunity")
    split = build(p, _dates(), [], horizon_days=90, active_days=10_000)
    s = split.train
    assert len(s) > 0
    for row in range(len(s)):
        mid = p.map_ids[s.person[row]]
        when = _dates()[0] + timedelta(seconds=float(s.date[row]) - _dates()[0].timestamp())
        expected = score_person(Profile.of(h.people[mid]), h.touches[mid], m.scoring,
                                m.sync.free_mail_domains, when)
        assert s.rule_score[row] == expected.lead, (mid, when)


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(3)])
def test_touches_after_the_snapshot_change_nothing(seed: int) -> None:
    m = mappings()
    assert m.scoring is not None
    a = prepare(_history(seed), m.scoring, m.sync.free_mail_domains, "opportunity")
    b = prepare(_history(seed, future_touch=True), m.scoring, m.sync.free_mail_domains,
                "opportunity")
    sa = build(a, _dates(), [], 90, 10_000).train
    sb = build(b, _dates(), [], 90, 10_000).train
    names_a, names_b = a.feature_names, b.feature_names
    common = [n for n in names_a if n in names_b]
    ia = [names_a.index(n) for n in common]
    ib = [names_b.index(n) for n in common]
    np.testing.assert_array_equal(sa.x[:, ia], sb.x[:, ib])
    np.testing.assert_array_equal(sa.rule_score, sb.rule_score)
    np.testing.assert_array_equal(sa.y, sb.y)


def test_labels_follow_the_horizon_and_converted_people_leave() -> None:
    m = mappings()
    assert m.scoring is not None
    at = T0 + timedelta(days=100)
    h = History({"M-1": person("M-1")}, {"M-1": [touch("T-1", 1, "web_visit", map_id="M-1")]},
                {"M-1": [Reached(at, None)]})
    p = prepare(h, m.scoring, m.sync.free_mail_domains, "opportunity")
    dates = [T0 + timedelta(days=d) for d in (5, 20, 60, 99, 101)]
    s = build(p, dates, [], 90, 10_000).train
    # day 5: reached 95 days later (outside 90); 20, 60, 99: inside; 101: already reached
    assert s.y.tolist() == [0, 1, 1, 1]
    won = prepare(h, m.scoring, m.sync.free_mail_domains, "won")
    assert build(won, dates, [], 90, 10_000).train.y.tolist() == [0, 0, 0, 0, 0]


@settings(max_examples=60, deadline=None)
@given(test_span=st.integers(0, 400), horizon=st.integers(1, 120), step=st.integers(1, 60),
       history=st.integers(0, 900))
def test_grid_never_lets_a_training_label_see_the_test_period(
        test_span: int, horizon: int, step: int, history: int) -> None:
    test_until = T0 + timedelta(days=1000)
    train_until = test_until - timedelta(days=test_span)
    train, test = grid(train_until, test_until, horizon, step,
                       test_until - timedelta(days=history))
    assert all(d + timedelta(days=horizon) <= train_until for d in train)
    assert all(d >= train_until and d + timedelta(days=horizon) <= test_until for d in test)
    assert train == sorted(train) and test == sorted(test)
