"""The kill switch: `social-care pause` holds every automatic reply, `resume` lets it go; none is lost."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from responders.outbox import OutboxSender
from social_care import lifecycle
from social_care.queue_views import QueueQuery, fetch_page
from social_care.runtime import build_service
from social_care.storage.engine import make_engine
from social_care.storage.tables import CaseEvent, Employee, OutboxEntry, Switch
from social_care.switches import current_pause, pause_automatic_replies, resume_automatic_replies
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.support.clock import FakeClock
from tests.support.configs import demo_config
from tests.support.desk import acknowledged_case
from tests.support.platforms import PlatformWithSideEffect, like
from tests.support.scenario import post, scenario_config
from tests.test_cli import social_care
from tests.web.support import ADMIN, DEMO_PASSWORD, log_in

DIRECT = post("p1", "@velora my Velora Pulse is not working, terrible", direct=True)


def replies(tmp_path: Path) -> list[str]:
    path = tmp_path / "demo-replies.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line)["in_reply_to"] for line in lines]


def test_pause_and_resume_from_the_command_line_are_kept_in_the_database(tmp_path: Path) -> None:
    database = tmp_path / "social-care.db"
    config = tmp_path / "social-care.toml"
    example = (Path(__file__).parent.parent / "config" / "social-care.example.toml").read_text("utf-8")
    config.write_text(example.replace('path = "social-care.db"', f'path = "{database}"'), encoding="utf-8")

    paused = social_care("pause", "--reason", "product recall <b>", "--config", str(config), cwd=tmp_path)
    assert paused.returncode == 0, paused.stderr
    assert "paused (product recall <b>)" in paused.stdout
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        pause = current_pause(session)
        assert pause is not None and pause.reason == "product recall <b>"
        assert "command line" in pause.by

    resumed = social_care("resume", "--config", str(config), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    with Session(engine) as session:
        assert current_pause(session) is None
        assert session.exec(select(Switch)).one().engaged is False
    engine.dispose()


def test_while_paused_the_acknowledgement_waits_pending_and_goes_out_once_on_resume(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    with Session(engine) as session:
        pause_automatic_replies(session, reason="outage", by="chiara", now=clock())
    service.poller.poll("demo")
    clock.advance(minutes=10)
    assert service.sender.run_once().sent == 0
    assert replies(tmp_path) == []
    with Session(engine) as session:
        entry = session.exec(select(OutboxEntry)).one()
        assert (entry.state, entry.attempts) == ("pending", 0)
        queued = session.exec(select(CaseEvent).where(CaseEvent.kind == "acknowledgement_queued")).one()
        assert queued.detail["held"] is True
        resume_automatic_replies(session, by="chiara", now=clock())
    assert service.sender.run_once().sent == 1
    assert service.sender.run_once().sent == 0
    assert replies(tmp_path) == ["p1"]


def test_a_reply_a_person_wrote_still_goes_out_while_automatic_ones_are_paused(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    with Session(engine) as session:
        automatic = session.exec(select(OutboxEntry)).one()
        session.add(
            OutboxEntry(
                idempotency_key=f"case:{automatic.case_id}:reply:1",
                case_id=automatic.case_id,
                source_id="demo",
                purpose="reply",
                in_reply_to="p1",
                text="Hi Anna, Luca here: please try a restart.",
                created_by="luca.marino@velora.example",
                created_at=clock(),
                next_attempt_at=clock(),
            )
        )
        session.commit()
        pause_automatic_replies(session, reason="", by="chiara", now=clock())
    assert service.sender.run_once().sent == 1
    with Session(engine) as session:
        states = {entry.purpose: entry.state for entry in session.exec(select(OutboxEntry))}
    assert states == {"acknowledgement": "pending", "reply": "sent"}


def test_pausing_twice_keeps_the_first_start_and_the_new_reason(engine: Engine, clock: FakeClock) -> None:
    with Session(engine) as session:
        pause_automatic_replies(session, reason="", by="chiara", now=clock())
        started = clock()
        clock.advance(minutes=5)
        pause_automatic_replies(session, reason="recall", by="luca", now=clock())
        pause = current_pause(session)
    assert pause is not None and (pause.since, pause.by, pause.reason) == (started, "chiara", "recall")


def test_the_queue_says_automatic_replies_are_paused_and_why_escaped(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = demo_config(tmp_path)
    build_service(config, engine, clock=clock)
    set_employee_password(config, engine, ADMIN, DEMO_PASSWORD)
    with TestClient(create_app(config, engine, secret_key="k")) as client:
        log_in(client)
        assert "Automatic replies are paused" not in client.get("/queue").text
        with Session(engine) as session:
            pause_automatic_replies(session, reason="<script>recall</script>", by="chiara", now=clock())
        html = client.get("/queue").text
    assert "Automatic replies are paused" in html and "by chiara" in html
    assert "&lt;script&gt;recall&lt;/script&gt;" in html and "<script>recall" not in html


@pytest.mark.parametrize("closed_as", ["spam", "ignored", "resolved"])
def test_an_acknowledgement_held_for_a_case_a_person_closed_is_cancelled_not_sent_on_resume(
    engine: Engine, tmp_path: Path, clock: FakeClock, closed_as: str
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    with Session(engine) as session:
        pause_automatic_replies(session, reason="outage", by="chiara", now=clock())
    service.poller.poll("demo")
    with Session(engine) as session:
        case, person = acknowledged_case(session)
        if closed_as == "resolved":
            lifecycle.resolve(session, case, clock(), employee_id=person)
        else:
            lifecycle.dismiss(session, case, closed_as, clock(), employee_id=person)
        session.commit()
        resume_automatic_replies(session, by="chiara", now=clock())
    assert service.sender.run_once().sent == 0
    assert replies(tmp_path) == []
    with Session(engine) as session:
        entry = session.exec(select(OutboxEntry)).one()
        closing = session.exec(select(CaseEvent).order_by(col(CaseEvent.id).desc())).first()
    assert entry.state == "cancelled" and closed_as in entry.last_error
    assert closing is not None and closing.detail["cancelled_replies"] == [entry.id]


def test_a_pause_given_while_a_batch_is_being_sent_holds_the_rest_of_the_batch(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    second = post("p2", "@velora my Velora Pulse died again", handle="bruno_c", direct=True)
    service = build_service(scenario_config(tmp_path, [DIRECT, second]), engine, clock=clock)
    service.poller.poll("demo")

    def someone_pauses() -> None:
        with Session(engine) as session:
            pause_automatic_replies(session, reason="recall", by="chiara", now=clock())

    platform = like(service.connectors["demo"], PlatformWithSideEffect, after_reply=someone_pauses)
    report = OutboxSender(engine, {"demo": platform}, clock=clock, owner="w").run_once()
    assert report.sent == 1 and len(replies(tmp_path)) == 1
    with Session(engine) as session:
        assert sorted(entry.state for entry in session.exec(select(OutboxEntry))) == ["pending", "sent"]


def test_an_acknowledgement_held_while_a_person_answered_is_cancelled_not_sent_after_the_answer(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [DIRECT]), engine, clock=clock)
    with Session(engine) as session:
        pause_automatic_replies(session, reason="outage", by="chiara", now=clock())
    service.poller.poll("demo")
    with Session(engine) as session:
        case, person = acknowledged_case(session)
        lifecycle.queue_reply(
            session,
            case,
            "Luca here: a restart fixes it.",
            clock(),
            employee_id=person,
            in_reply_to="p1",
            resolves=False,
            request_key="form-of-luca-0003",
        )
        session.commit()
    assert service.sender.run_once().sent == 1
    with Session(engine) as session:
        resume_automatic_replies(session, by="chiara", now=clock())
    assert service.sender.run_once().sent == 0
    lines = (tmp_path / "demo-replies.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["Luca here: a restart fixes it."]
    with Session(engine) as session:
        states = {entry.purpose: entry.state for entry in session.exec(select(OutboxEntry))}
    assert states == {"acknowledgement": "cancelled", "reply": "sent"}
    with Session(engine) as session:
        admin = session.exec(select(Employee).where(Employee.role == "admin")).one()
        page = fetch_page(session, admin, QueueQuery(view="open"), now=clock(), zone=ZoneInfo("UTC"))
        assert [row.reply_state for row in page.rows] == ["sent"], "the latest reply's state"
