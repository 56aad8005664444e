"""The hourly rollups, kept current by every change to a case, equal a rebuild from the events."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from social_care.metrics import rollups
from social_care.metrics.contributions import hour_of
from social_care.storage.tables import CareRollup, Case, CaseContribution, Mention, MentionRollup
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk
from tests.support.week import ADMIN, MONDAY, SeededWeek


def snapshot(engine: Engine) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every non-empty rollup row, hours and days, its samples sorted: what a reader can see."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    with Session(engine) as session:
        for table, dims in ((CareRollup, rollups.CARE_DIMS), (MentionRollup, rollups.MENTION_DIMS)):
            for row in session.exec(select(table)):
                values = {
                    name: value
                    for name, value in row.model_dump().items()
                    if name not in ("id", "grain", "hour", "samples", *dims)
                }
                samples = getattr(row, "samples", {})
                values |= {name: sorted(items) for name, items in samples.items() if name != "sla" and items}
                values["sla"] = {k: v for k, v in samples.get("sla", {}).items() if v != [0, 0]}
                if any(values.values()):
                    key = (table.__tablename__, row.grain, row.hour, *(getattr(row, name) for name in dims))
                    rows[key] = values
    return rows


@pytest.fixture
def week(engine: Engine, tmp_path: Path) -> Desk:
    return SeededWeek(engine, demo_config(tmp_path)).run()


def test_the_rollups_kept_current_by_every_change_equal_a_rebuild_from_the_events(
    week: Desk, engine: Engine
) -> None:
    kept = snapshot(engine)
    assert len(kept) > 50, "the week made plenty of rows"
    rollups.rebuild(engine)
    assert snapshot(engine) == kept


def test_every_post_counts_once_in_the_hour_its_customer_wrote_it(week: Desk, engine: Engine) -> None:
    with Session(engine) as session:
        written = Counter(hour_of(min(m.posted_at, m.fetched_at)) for m in session.exec(select(Mention)))
        counted: Counter[datetime] = Counter()
        for row in session.exec(select(MentionRollup).where(MentionRollup.grain == "hour")):
            counted[row.hour] += row.mentions
    assert +counted == written


def test_a_rebuild_after_the_rollups_were_lost_restores_them(week: Desk, engine: Engine) -> None:
    kept = snapshot(engine)
    with Session(engine) as session:
        for row in session.exec(select(CareRollup)):
            row.messages += 1000  # damage, as a bug or a hand-made UPDATE would
            session.add(row)
        session.commit()
    assert snapshot(engine) != kept
    with Session(engine) as session:
        cases = len(session.exec(select(Case.id)).all())
    assert rollups.rebuild(engine) == cases
    assert snapshot(engine) == kept


def test_a_case_whose_events_change_moves_its_share_and_nothing_else(engine: Engine, tmp_path: Path) -> None:
    clock = FakeClock(MONDAY)
    desk = Desk(engine, demo_config(tmp_path), clock)
    first = desk.post(handle="anna")
    other = desk.post(handle="bob")
    before = snapshot(engine)
    clock.advance(hours=2, minutes=15)
    desk.reply(first, ADMIN)
    after = snapshot(engine)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed, "the reply moved figures"
    assert all(key[0] == "care_rollups" for key in changed)
    assert any(key[1:3] == ("hour", hour_of(clock.now)) for key in changed), "counted in the hour it was sent"
    assert any(key[1] == "day" for key in changed), "and in its day"
    assert desk.case(other).status == "new"


def test_a_database_with_cases_but_no_rollups_gets_them_at_start(
    week: Desk, engine: Engine, tmp_path: Path
) -> None:
    """As after the upgrade that made the rollups: the first start fills them from the events."""
    kept = snapshot(engine)
    with Session(engine) as session:
        for table in (CareRollup, MentionRollup, CaseContribution):
            session.execute(delete(table))
        session.commit()
    assert rollups.rebuild(engine, only_if_missing=True) > 0
    assert snapshot(engine) == kept
    assert rollups.rebuild(engine, only_if_missing=True) == 0, "and only when they are missing"


def test_each_day_row_holds_exactly_what_its_24_hour_rows_hold(week: Desk, engine: Engine) -> None:
    """A report over whole days reads day rows: they must add up to the hours they stand for."""
    summed: dict[tuple[Any, ...], dict[str, Any]] = {}
    days: dict[tuple[Any, ...], dict[str, Any]] = {}
    for (table, grain, start, *dims), values in snapshot(engine).items():
        key = (table, start.replace(hour=0), *dims)
        if grain == "day":
            days[key] = values
            continue
        total = summed.setdefault(key, {})
        for name, value in values.items():
            if isinstance(value, int):
                total[name] = total.get(name, 0) + value
            elif isinstance(value, list):
                total[name] = sorted([*total.get(name, []), *value])
            else:
                pairs = total.setdefault(name, {})
                for target, (met, missed) in value.items():
                    pair = pairs.setdefault(target, [0, 0])
                    pair[0], pair[1] = pair[0] + met, pair[1] + missed
    assert len(days) > 10
    for key, total in summed.items():
        expected = {name: value for name, value in total.items() if value not in (0, [], {})}
        assert {name: value for name, value in days[key].items() if value not in (0, [], {})} == expected
