"""Hand-off: the right person gets the case and an e-mail; nobody eligible, the supervisor hears of it;
a case left waiting, or whose assignee becomes unavailable, goes back to the pool."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from social_care import lifecycle
from social_care.config import Config
from social_care.runtime import Service, build_service
from social_care.storage.tables import Case, CaseEvent, Employee, MailEntry
from tests.fakes.smtp_server import MailServer
from tests.support.clock import FakeClock
from tests.support.configs import Raw, config_from, example_raw

ELIGIBLE = ("ann@velora.example", "ben@velora.example", "cid@velora.example")
ALL_DAY = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00:00", "end": "23:59:59"}


def person(name: str, **changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "email": f"{name}@velora.example",
        "name": name.title(),
        "teams": ["care"],
        "accounts": ["demo"],
        "working_hours": ALL_DAY,
        "competences": {"languages": ["en"]},
    }
    spec.update(changes)
    return spec


PEOPLE = [
    person("boss", role="supervisor", teams=["care"], working_hours={"days": ["sun"]}),
    person("ann"),
    person("ben"),
    person("cid", capacity=2),
    person("dan", competences={"languages": ["it"]}),  # not competent: Italian only
    person("eve", accounts=["x-velora"]),  # not authorised to answer from the demo account
    person("fay", working_hours={"days": ["sat", "sun"]}),  # off shift on a Monday
    person("gus", available=False),  # marked unavailable
    person("hal", teams=["other"]),  # not in the team
    person("ivy", competences={"languages": ["en"], "categories": ["praise"]}),  # not for complaints
]


def handoff_config(
    tmp_path: Path, posts: list[dict[str, Any]], *, strategy: str, burst: int | None = None, **handoff: Any
) -> Config:
    """The example with one team "care" of ``PEOPLE`` and ``posts`` to replay, ``burst`` of them at once."""
    raw: Raw = example_raw()
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in posts), encoding="utf-8")
    raw["database"]["path"] = str(tmp_path / "social-care.db")
    source = raw["sources"][0]
    source["options"].update(
        {
            "posts_file": str(path),
            "initial_burst": len(posts) if burst is None else burst,
            "loop": False,
            "replies_file": str(tmp_path / "demo-replies.jsonl"),
        }
    )
    raw["teams"] = [
        {"name": "care", "supervisor": "boss@velora.example", "strategy": strategy},
        {"name": "other"},
    ]
    raw["employees"] = PEOPLE
    raw["routing"] = [{"name": "everything", "team": "care"}]
    raw["handoff"] = {"reassign_after_minutes": 30, **handoff}
    return config_from(raw)


def complaint(number: int, text: str = "my Velora Pulse is broken <b>again</b>") -> dict[str, Any]:
    handle = f"customer{number}"
    return {
        "id": f"p{number}",
        "author": {"id": f"id-{handle}", "handle": handle, "name": f"Customer {number}", "followers": 10},
        "text": f"@velora {text}",
        "lang": "en",
        "direct": True,
        "reply_to": None,
        "retweet": False,
    }


def assignees(engine: Engine) -> list[str]:
    """Who holds each case, in the order the cases were opened ("" for nobody)."""
    with Session(engine) as session:
        emails = dict(session.exec(select(Employee.id, Employee.email)).all())
        cases = session.exec(select(Case).order_by(col(Case.id))).all()
        return [emails.get(case.assignee_id, "") for case in cases]


def mails(engine: Engine, purpose: str) -> list[MailEntry]:
    with Session(engine) as session:
        return list(
            session.exec(select(MailEntry).where(MailEntry.purpose == purpose).order_by(col(MailEntry.id)))
        )


def set_available(engine: Engine, emails: Sequence[str], *, available: bool) -> None:
    """Mark people available or away, as `social-care user away|back` would."""
    with Session(engine) as session:
        session.execute(update(Employee).where(col(Employee.email).in_(emails)).values(available=available))
        session.commit()


def start(config: Config, engine: Engine, clock: FakeClock) -> Service:
    return build_service(config, engine, clock=clock)


def test_round_robin_takes_turns_among_the_eligible_and_skips_whoever_is_full(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(n) for n in range(9)], strategy="round_robin")
    start(config, engine, clock).poller.poll("demo")
    ann, ben, cid = (email.split("@")[0] for email in ELIGIBLE)
    assert [email.split("@")[0] for email in assignees(engine)] == [
        ann,
        ben,
        cid,
        ann,
        ben,
        cid,
        ann,
        ben,
        ann,
    ]


def test_least_loaded_gives_the_next_case_to_whoever_holds_fewest_open_ones(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(n) for n in range(4)], strategy="least_loaded", burst=3)
    service = start(config, engine, clock)
    service.poller.poll("demo")
    assert assignees(engine) == list(ELIGIBLE)
    with Session(engine) as session:
        session.execute(update(Case).where(col(Case.id) == 2).values(status="resolved"))  # ben's
        session.commit()
    clock.advance(minutes=1)
    service.poller.poll("demo")
    assert assignees(engine) == [*ELIGIBLE, "ben@velora.example"], "round robin would have chosen ann"


def test_random_only_ever_picks_among_the_eligible(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    config = handoff_config(tmp_path, [complaint(n) for n in range(24)], strategy="random")
    start(config, engine, clock).poller.poll("demo")
    chosen = assignees(engine)
    assert set(chosen) <= set(ELIGIBLE) and "" not in chosen
    assert chosen.count("cid@velora.example") <= 2, "cid's capacity is 2"
    assert len(set(chosen)) > 1


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded", "random"])
def test_nobody_ineligible_is_ever_chosen_and_the_team_queue_takes_the_rest(
    engine: Engine, tmp_path: Path, clock: FakeClock, strategy: str
) -> None:
    """Eleven complaints for three people whose capacities add up to 2 + 20 + 20: all taken by them."""
    config = handoff_config(tmp_path, [complaint(n) for n in range(11)], strategy=strategy)
    start(config, engine, clock).poller.poll("demo")
    assert set(assignees(engine)) <= set(ELIGIBLE)


def test_the_assignee_gets_an_email_with_the_case_escaped_and_a_link(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
    service = start(config, engine, clock)
    service.poller.poll("demo")
    [entry] = mails(engine, "assignment")
    assert entry.recipients == ["ann@velora.example"]
    assert entry.subject.startswith("[SC-000001]") and "@customer1" in entry.subject
    assert "&lt;b&gt;again&lt;/b&gt;" in entry.html and "<b>again" not in entry.html
    assert "<b>again</b>" in entry.text
    assert 'href="http://127.0.0.1:8000/cases/1"' in entry.html
    assert "Answer by: 2026-11-23 10:00 UTC" in entry.text


def test_the_mail_reaches_the_smtp_server_once(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    server = MailServer()
    try:
        config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
        config = config.model_copy(update={"smtp": config.smtp.model_copy(update={"port": server.port})})
        service = start(config, engine, clock)
        service.poller.poll("demo")
        assert service.mail_sender.run_once().sent == 1
        assert service.mail_sender.run_once().sent == 0
    finally:
        server.stop()
    [received] = server.inbox.mails
    assert received.recipients == ["ann@velora.example"]
    assert "&lt;b&gt;again&lt;/b&gt;" in received.part("html")


def test_a_mail_the_server_refuses_is_retried_later_and_not_lost(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
    config = config.model_copy(
        update={"smtp": config.smtp.model_copy(update={"port": 9, "timeout_seconds": 2})}
    )
    service = start(config, engine, clock)
    service.poller.poll("demo")
    assert service.mail_sender.run_once().failed == 1
    assert service.mail_sender.run_once().failed == 0, "not before its backoff"
    [entry] = mails(engine, "assignment")
    assert entry.state == "failed" and "127.0.0.1:9" in entry.last_error


def test_nobody_eligible_leaves_the_case_with_the_team_and_alerts_its_supervisor_once(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
    service = start(config, engine, clock)
    set_available(engine, ELIGIBLE, available=False)
    service.poller.poll("demo")
    assert assignees(engine) == [""]
    [alert] = mails(engine, "team_queue")
    assert alert.recipients == ["boss@velora.example"]
    assert "nobody in care" in alert.subject and "no one eligible" in alert.text
    assert mails(engine, "assignment") == []
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert (case.team, case.assignee_id) == ("care", None)
    clock.advance(minutes=45)
    assert service.sweep_handoffs().returned == 0
    assert len(mails(engine, "team_queue")) == 1


def test_an_unanswered_case_goes_to_someone_else_after_the_configured_time(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin", reassign_after_minutes=30)
    service = start(config, engine, clock)
    service.poller.poll("demo")
    clock.advance(minutes=29)
    assert service.sweep_handoffs().reassigned == 0
    clock.advance(minutes=1)
    assert service.sweep_handoffs().reassigned == 1
    assert assignees(engine) == ["ben@velora.example"]
    assert [entry.recipients for entry in mails(engine, "assignment")] == [
        ["ann@velora.example"],
        ["ben@velora.example"],
    ]
    clock.advance(minutes=10)
    assert service.sweep_handoffs().reassigned == 0, "ben's 30 minutes start when he got it"
    with Session(engine) as session:
        event = session.exec(select(CaseEvent).where(CaseEvent.kind == "reassigned")).one()
        assert event.detail["reason"] == "no answer within 30 minutes"


def test_a_case_already_answered_is_not_taken_back(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
    service = start(config, engine, clock)
    service.poller.poll("demo")
    with Session(engine) as session:
        session.execute(update(Case).values(status="responded", first_response_at=clock()))
        session.commit()
    clock.advance(hours=3)
    assert service.sweep_handoffs().reassigned == 0
    assert assignees(engine) == ["ann@velora.example"]


def test_a_case_whose_assignee_answered_is_not_taken_back_while_the_reply_waits_to_be_sent(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin", reassign_after_minutes=30)
    service = start(config, engine, clock)
    service.poller.poll("demo")
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        lifecycle.queue_reply(
            session,
            case,
            "Ann here: on it.",
            clock(),
            employee_id=case.assignee_id or 0,
            in_reply_to="p1",
            resolves=False,
            request_key="form-of-ann-00001",
        )
        session.commit()
    clock.advance(minutes=45)  # the platform is down: the reply is still in the outbox
    assert service.sweep_handoffs().reassigned == 0
    assert assignees(engine) == ["ann@velora.example"]


def test_zero_minutes_never_reassigns(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin", reassign_after_minutes=0)
    service = start(config, engine, clock)
    service.poller.poll("demo")
    clock.advance(days=2)
    assert service.sweep_handoffs().reassigned == 0


def test_a_case_whose_assignee_becomes_unavailable_returns_to_the_pool(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
    service = start(config, engine, clock)
    service.poller.poll("demo")
    set_available(engine, ELIGIBLE[:1], available=False)
    clock.advance(minutes=1)
    assert service.sweep_handoffs().reassigned == 1
    assert assignees(engine) == ["ben@velora.example"]


def test_with_nobody_else_eligible_a_case_returns_to_the_team_queue_and_the_supervisor_hears(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
    service = start(config, engine, clock)
    service.poller.poll("demo")
    set_available(engine, ELIGIBLE[1:], available=False)
    clock.advance(minutes=30)
    report = service.sweep_handoffs()
    assert (report.reassigned, report.returned) == (0, 1)
    assert assignees(engine) == [""]
    [alert] = mails(engine, "team_queue")
    assert alert.recipients == ["boss@velora.example"] and "no answer within 30 minutes" in alert.text
    with Session(engine) as session:
        assert session.exec(select(Case)).one().status in {"new", "acknowledged"}
    assert service.sweep_handoffs().returned == 0, "alerted once"


def test_hand_off_mails_speak_italian_when_configured(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin", language="it")
    start(config, engine, clock).poller.poll("demo")
    [entry] = mails(engine, "assignment")
    assert entry.subject.endswith("assegnato a te")
    assert "Rispondi entro: 2026-11-23 10:00 UTC" in entry.text and "Ha scritto:" in entry.text
    assert ">Apri SC-000001</a>" in entry.html


def test_user_away_and_back_from_the_command_line_mark_someone_unavailable_and_available(
    tmp_path: Path,
) -> None:
    from social_care.storage.engine import make_engine
    from tests.test_cli import social_care

    database = tmp_path / "social-care.db"
    example = (Path(__file__).parent.parent / "config" / "social-care.example.toml").read_text("utf-8")
    path = tmp_path / "social-care.toml"
    path.write_text(example.replace('path = "social-care.db"', f'path = "{database}"'), encoding="utf-8")
    away = social_care("user", "away", "Luca.Marino@velora.example", "--config", str(path), cwd=tmp_path)
    assert away.returncode == 0, away.stderr
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        luca = session.exec(select(Employee).where(Employee.email == "luca.marino@velora.example")).one()
        assert luca.available is False
    back = social_care("user", "back", "luca.marino@velora.example", "--config", str(path), cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    with Session(engine) as session:
        assert (
            session.exec(select(Employee).where(Employee.email == "luca.marino@velora.example"))
            .one()
            .available
        )
    engine.dispose()
    unknown = social_care("user", "away", "nobody@velora.example", "--config", str(path), cwd=tmp_path)
    assert unknown.returncode == 2 and "No employee 'nobody@velora.example'" in unknown.stderr


def test_a_case_waiting_in_the_team_queue_goes_to_the_first_person_who_can_take_it(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="round_robin")
    service = start(config, engine, clock)
    set_available(engine, ELIGIBLE, available=False)
    service.poller.poll("demo")
    assert service.sweep_handoffs().assigned == 0
    set_available(engine, ELIGIBLE[2:3], available=True)
    clock.advance(minutes=1)
    assert service.sweep_handoffs().assigned == 1
    assert assignees(engine) == ["cid@velora.example"]
    assert [entry.recipients for entry in mails(engine, "assignment")] == [["cid@velora.example"]]


def test_whoever_let_a_case_wait_does_not_get_it_back_from_the_queue(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = handoff_config(tmp_path, [complaint(1)], strategy="least_loaded")  # would pick ann first
    service = start(config, engine, clock)
    service.poller.poll("demo")
    set_available(engine, ELIGIBLE[1:], available=False)
    clock.advance(minutes=30)
    assert service.sweep_handoffs().returned == 1, "ann let it wait, nobody else can take it"
    set_available(engine, ELIGIBLE, available=True)
    clock.advance(minutes=1)
    assert service.sweep_handoffs().assigned == 1
    assert assignees(engine) == ["ben@velora.example"]
