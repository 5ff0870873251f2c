"""The streamed ledger equals what the engine computes touch by touch.

``reference`` is the earlier implementation (every touch kept as a model,
``score_touches`` and ``fit_score`` per person); the compact ledger must give
the same arrays, on hand-made histories with ties and caps and on a generated
world read through the streaming loader, so the learned results do not move.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from connector.datagen.generate import DEFAULT_AS_OF
from connector.engine.scoring import Profile, fit_score, score_touches
from connector.learn.history import History
from connector.learn.ledger import Ledger, ledger_of
from connector.learn.sources import from_generated
from connector.models import Person, Touch
from connector.sources.files import FileExportReader
from tests.factories import T0, mappings, person, touch

TYPES = ("web_visit", "form_fill", "email_open", "email_click", "webinar_attended",
         "content_download", "demo_request")
URLS = ("https://x.example/pricing", "https://x.example/blog/a", "https://x.example/careers",
        None)


def reference(history: History) -> dict[str, Any]:
    m = mappings()
    assert m.scoring is not None
    rules, fit_rules = m.scoring.behavior.rules, m.scoring.fit.rules
    rule_index = {r.name: i for i, r in enumerate(rules)}
    fit_index = {r.name: i for i, r in enumerate(fit_rules)}
    free_mail = frozenset(m.sync.free_mail_domains)
    map_ids = sorted(history.people)
    out: dict[str, Any] = {k: [] for k in ("created", "fit_points", "t_person", "t_time",
                                            "t_rule", "t_points", "t_type", "t_channel")}
    fit = np.zeros((len(map_ids), len(fit_rules)), dtype=np.float32)
    types: dict[str, int] = {}
    channels: dict[str, int] = {}
    end = datetime.max.replace(tzinfo=T0.tzinfo)
    for i, map_id in enumerate(map_ids):
        p = history.people[map_id]
        touches = sorted(history.touches.get(map_id, []), key=lambda t: t.order_key)
        first = touches[0].occurred_at if touches else None
        start = p.created_at or first
        created = start.timestamp() if start is not None else -np.inf
        if first is not None and first.timestamp() < created:
            created = first.timestamp()
        out["created"].append(created)
        score = fit_score(Profile.of(p), fit_rules, free_mail)
        out["fit_points"].append(float(score.total))
        for line in score.lines:
            fit[i, fit_index[line.rule]] = 1.0
        scored = {s.touch_id: s for s in score_touches(touches, rules, end)}
        for t in touches:
            s = scored.get(t.touch_id)
            out["t_person"].append(i)
            out["t_time"].append(t.occurred_at.timestamp())
            out["t_rule"].append(rule_index[s.rule] if s is not None and not s.capped else -1)
            out["t_points"].append(float(s.base_points) if s is not None else 0.0)
            out["t_type"].append(types.setdefault(t.touch_type, len(types)))
            out["t_channel"].append(channels.setdefault(t.channel, len(channels)))
    arrays = {k: np.asarray(v) for k, v in out.items()}
    return arrays | {"fit": fit, "map_ids": map_ids, "types": list(types),
                     "channels": list(channels)}


def assert_same(ledger: Ledger, ref: dict[str, Any]) -> None:
    assert ledger.map_ids == ref["map_ids"]
    assert ledger.types == ref["types"] and ledger.channels == ref["channels"]
    for name in ("created", "fit_points", "t_person", "t_time", "t_rule", "t_points",
                 "t_type", "t_channel", "fit"):
        np.testing.assert_array_equal(getattr(ledger, name), ref[name], err_msg=name)


def _history(seed: int) -> History:
    """Bursts of the same page (caps), equal timestamps (ties by touch id), people
    without touches, and touches of people the ledger does not know."""
    rng = random.Random(seed)
    ps: dict[str, Person] = {}
    ts: dict[str, list[Touch]] = {}
    for i in range(30):
        mid = f"M-{rng.randint(0, 99):02d}"
        ps[mid] = person(mid, f"p{i}@acme{i % 4}.com",
                         title=rng.choice(("VP Sales", "Student", None, "CEO")),
                         employees=rng.choice((5, 300, None)),
                         created_at=None if rng.random() < 0.2 else T0 + timedelta(days=i))
        items = ts.setdefault(mid, [])
        for j in range(rng.randint(0, 25)):
            day = rng.choice((3, 3, 10, rng.randint(0, 120)))
            items.append(touch(f"T-{i}-{j:02d}-{rng.randint(0, 9)}", day, rng.choice(TYPES),
                               map_id=mid, url=rng.choice(URLS)))
    ts["M-ghost"] = [touch("T-ghost", 5, "web_visit", map_id="M-ghost")]
    return History(ps, ts)


def test_a_repeated_touch_row_counts_once() -> None:
    m = mappings()
    assert m.scoring is not None
    t = touch("T-1", 3, "demo_request")
    h = History({"M-1": person()}, {"M-1": [t, t, touch("T-2", 4, "demo_request")]})
    ledger = ledger_of(h, m.scoring, frozenset(m.sync.free_mail_domains))
    assert ledger.t_points.tolist() == [60.0, 60.0]


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(5)])
def test_ledger_equals_the_engine_touch_by_touch(seed: int) -> None:
    m = mappings()
    assert m.scoring is not None
    h = _history(seed)
    assert_same(ledger_of(h, m.scoring, frozenset(m.sync.free_mail_domains)), reference(h))


def test_streamed_generated_world_equals_the_model_path(small_dir: Path) -> None:
    """The loader that streams the export gives what reading every row as a model did."""
    m = mappings()
    people: dict[str, Person] = {}
    touches: dict[str, list[Touch]] = {}
    latest: dict[str, Touch] = {}
    for item in FileExportReader(small_dir / "map", m, as_of=DEFAULT_AS_OF).read(None, {}):
        if isinstance(item, Person):
            people[item.map_id] = item
        elif isinstance(item, Touch):
            latest[item.touch_id] = item  # the state ledger keeps one touch per id
    for t in latest.values():
        touches.setdefault(t.map_id, []).append(t)
    ledger = from_generated(small_dir, m, DEFAULT_AS_OF)
    assert len(ledger.t_time) > 10_000
    assert_same(ledger, reference(History(people, touches)))
    # people are matched to accounts, and accounts reach opportunities
    assert (ledger.person_account >= 0).mean() > 0.5
    assert len(ledger.account_reached) > 10
