"""Retention: each kind of data is purged after its days, in bounded batches, and the figures stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from social_care.compliance.retention import RetentionPurge, cases_were_purged
from social_care.config.models import RetentionSettings
from social_care.metrics import Filters, Period, measure
from social_care.storage import migrate
from social_care.storage.engine import make_engine
from social_care.storage.tables import (
    AuditEvent,
    Author,
    Case,
    CaseContribution,
    CaseEvent,
    MailEntry,
    Mention,
    OutboxEntry,
    RejectedPayload,
)
from tests.metrics.test_rollups import snapshot
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import Desk
from tests.support.week import CLOSED, MONDAY, SeededWeek
from tests.test_cli import social_care

KEEP_ALL = {
    "post_text_days": 0,
    "raw_payload_days": 0,
    "author_profile_days": 0,
    "closed_case_days": 0,
    "mail_days": 0,
    "audit_days": 0,
}


def settings(**days: int) -> RetentionSettings:
    return RetentionSettings(**{**KEEP_ALL, **days})


def count(engine: Engine, table: object, *where: object) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table).where(*where)).one())  # type: ignore[arg-type,call-overload]


@pytest.fixture
def week(engine: Engine, tmp_path: Path) -> Desk:
    return SeededWeek(engine, demo_config(tmp_path)).run()


def the_weeks_figures(desk: Desk) -> object:
    with Session(desk.engine) as session:
        week = Period(MONDAY - timedelta(days=1), MONDAY + timedelta(days=30))
        return measure(session, desk.config, week, Filters(), backlog_ages=False)


def test_closed_cases_past_their_days_are_deleted_in_batches_and_the_figures_do_not_change(
    week: Desk, engine: Engine
) -> None:
    figures, rows = the_weeks_figures(week), snapshot(engine)
    closed = count(engine, Case, col(Case.status).in_(CLOSED))
    still_open = count(engine, Case) - closed
    assert closed > 10 and still_open > 0
    clock = FakeClock(week.clock.now + timedelta(days=31))
    purge = RetentionPurge(
        engine, settings(closed_case_days=30, batch_size=10, max_batches_per_run=2), clock=clock
    )

    first = purge.run_once()
    assert first.purged["closed cases"] == 20 and first.unfinished == ["closed cases"]
    while purge.run_once().unfinished:
        pass

    assert count(engine, Case, col(Case.status).in_(CLOSED)) == 0
    assert count(engine, Case) == still_open
    with Session(engine) as session:
        kept = set(session.exec(select(Case.id)).all())
        for table in (Mention, CaseEvent, OutboxEntry, CaseContribution):
            owners = set(session.exec(select(table.case_id).distinct()).all())  # type: ignore[attr-defined]
            assert owners <= kept | {None}, f"{table.__name__} rows of deleted cases are left"
    assert snapshot(engine) == rows, "the rollups stay as they were"
    assert the_weeks_figures(week) == figures, "a report over the purged days reads the same"


def test_a_closed_case_with_recent_activity_and_every_open_case_are_kept(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    desk = Desk(engine, demo_config(tmp_path), clock)
    old_closed = desk.post(handle="anna_b")
    desk.resolve(old_closed, "admin@velora.example")
    old_open = desk.post(handle="bruno")
    clock.advance(days=20)
    recent_closed = desk.post(handle="carla")
    desk.resolve(recent_closed, "admin@velora.example")
    clock.advance(days=11)

    report = RetentionPurge(engine, settings(closed_case_days=30), clock=clock).run_once()

    assert report.purged["closed cases"] == 1
    with Session(engine) as session:
        assert sorted(session.exec(select(Case.id)).all()) == sorted([old_open, recent_closed])


def test_post_texts_and_raw_payloads_expire_but_the_posts_and_their_cases_stay(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    desk = Desk(engine, demo_config(tmp_path), clock)
    old = desk.post(handle="anna_b", text="my Velora Pulse died, call me on 555-0101")
    with Session(engine) as session:
        for mention in session.exec(select(Mention)):
            mention.raw = {"id": "1", "author": {"phone": "555-0101"}}
            session.add(mention)
        session.add(RejectedPayload(source_id="demo", received_at=clock.now, reason="bad", payload="{...}"))
        session.commit()
    clock.advance(days=10)
    recent = desk.post(handle="bruno", text="Velora Casa works great")
    clock.advance(days=1)

    RetentionPurge(engine, settings(raw_payload_days=5), clock=clock).run_once()
    with Session(engine) as session:
        first = session.exec(select(Mention).where(Mention.case_id == old)).one()
        assert first.raw == {} and first.raw_dropped_at == clock.now
        assert first.text.startswith("my Velora Pulse"), "the text has days of its own"
    assert count(engine, RejectedPayload) == 0

    report = RetentionPurge(engine, settings(post_text_days=5), clock=clock).run_once()
    assert report.purged["post texts"] == 1
    with Session(engine) as session:
        first = session.exec(select(Mention).where(Mention.case_id == old)).one()
        assert (first.text, first.url, first.removed) == ("", "", "expired")
        assert session.get_one(Case, old).status == "new", "the case stays as it was"
        kept = session.exec(select(Mention).where(Mention.case_id == recent)).one()
        assert kept.text == "Velora Casa works great"
        events = session.exec(select(CaseEvent.kind).where(CaseEvent.case_id == old)).all()
        assert "post_removed" not in events, "an expiry is policy, not news on the timeline"


def test_an_author_profile_is_blanked_once_their_last_post_is_old_enough(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    desk = Desk(engine, demo_config(tmp_path), clock)
    desk.post(handle="anna_b")
    desk.post(handle="bruno")
    clock.advance(days=40)
    desk.post(handle="bruno")

    RetentionPurge(engine, settings(author_profile_days=30), clock=clock).run_once()

    with Session(engine) as session:
        profiles = {a.external_id: (a.handle, a.erased_at) for a in session.exec(select(Author))}
    assert profiles["id-anna_b"] == ("", clock.now)
    assert profiles["id-bruno"] == ("bruno", None)


def test_finished_mails_and_old_audit_rows_go_pending_mail_stays(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    with Session(engine) as session:
        for number, state in enumerate(("sent", "dead", "pending")):
            session.add(
                MailEntry(
                    idempotency_key=f"mail-{number}",
                    purpose="assignment",
                    subject="s",
                    text="t",
                    html="h",
                    state=state,
                    created_at=clock.now,
                    next_attempt_at=clock.now,
                )
            )
        session.add(AuditEvent(at=clock.now, kind="signed_in", actor="a@velora.example"))
        session.commit()
    clock.advance(days=100)

    report = RetentionPurge(engine, settings(mail_days=90, audit_days=90), clock=clock).run_once()

    assert (report.purged["mails"], report.purged["audit events"]) == (2, 1)
    with Session(engine) as session:
        assert session.exec(select(MailEntry.state)).all() == ["pending"]
        assert [event.kind for event in session.exec(select(AuditEvent))] == ["retention_purged"]


def test_zero_days_keeps_everything_for_ever(week: Desk, engine: Engine) -> None:
    cases, mentions = count(engine, Case), count(engine, Mention, col(Mention.removed) == "")
    clock = FakeClock(week.clock.now + timedelta(days=10_000))

    report = RetentionPurge(engine, settings(), clock=clock).run_once()

    assert not any(report.purged.values())
    assert (count(engine, Case), count(engine, Mention, col(Mention.removed) == "")) == (cases, mentions)


def test_once_cases_were_purged_a_rebuild_must_be_told_it_drops_their_figures(tmp_path: Path) -> None:
    database, config = tmp_path / "social-care.db", tmp_path / "social-care.toml"
    example = (Path(__file__).parents[2] / "config" / "social-care.example.toml").read_text("utf-8")
    config.write_text(example.replace('path = "social-care.db"', f'path = "{database}"'), encoding="utf-8")
    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    long_ago = FakeClock(datetime(2023, 1, 9, 9, 0, tzinfo=UTC))
    desk = Desk(engine, demo_config(tmp_path), long_ago)
    desk.resolve(desk.post(handle="anna_b"), "admin@velora.example")

    purged = social_care("retention", "run", "--config", str(config), cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert "1 closed cases" in purged.stdout
    refused = social_care("rollups", "rebuild", "--config", str(config), cwd=tmp_path)
    assert refused.returncode == 2 and "--drop-purged-figures" in refused.stderr
    forced = social_care("rollups", "rebuild", "--drop-purged-figures", "--config", str(config), cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr

    later = FakeClock(datetime(2030, 1, 1, tzinfo=UTC))
    RetentionPurge(engine, settings(audit_days=1), clock=later).run_once()
    with Session(engine) as session:
        assert cases_were_purged(session), "the audit purge keeps the record that cases were purged"
    engine.dispose()
