"""From a polled post to a case in the queue and an acknowledgement sent once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from social_care import lifecycle
from social_care.metrics import Period, measure
from social_care.poller import Poller
from social_care.runtime import Service, build_service
from social_care.storage.tables import (
    Author,
    Case,
    CaseEvent,
    Classification,
    Employee,
    Mention,
    OutboxEntry,
    SourceState,
    TermMatch,
)
from tests.support.clock import FakeClock
from tests.support.platforms import FixedPosts, like
from tests.support.scenario import post, scenario_config

COMPLAINT_DIRECT = post(
    "p1", "@velora my Velora Pulse is not working since the update, terrible", direct=True
)
COMPLAINT_KEYWORD = post("p2", "Velora Casa keeps dropping wifi, worst router ever", handle="bob", name="Bob")
PRAISE = post("p3", "Thanks Velora, the Pulse is amazing", handle="carla", name="Carla")


def replies_sent(tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "demo-replies.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def case_of(session: Session, external_id: str) -> Case:
    mention = session.exec(select(Mention).where(Mention.external_id == external_id)).one()
    assert mention.case_id is not None, f"{external_id} opened no case"
    return session.get_one(Case, mention.case_id)


def events_of(session: Session, case: Case) -> list[str]:
    return list(
        session.exec(select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id)))
    )


def test_a_poll_stores_classifies_and_opens_cases(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    config = scenario_config(tmp_path, [COMPLAINT_DIRECT, COMPLAINT_KEYWORD, PRAISE])
    report = build_service(config, engine, clock=clock).poller.poll("demo")
    assert (report.fetched, report.new, report.opened) == (3, 3, 3)
    with Session(engine) as session:
        case = case_of(session, "p1")
        assert (case.category, case.product, case.brand, case.status) == (
            "complaint",
            "Velora Pulse",
            "Velora",
            "assigned",
        )
        assert case.ack_due_at is not None and (case.ack_due_at - case.opened_at).total_seconds() == 15 * 60
        verdict = session.exec(select(Classification).where(Classification.current)).first()
        assert verdict is not None and verdict.reasons
        assert session.exec(select(TermMatch.term).where(TermMatch.term == "Velora Pulse")).first()
        assert session.get_one(SourceState, "demo").cursor is not None


def acknowledgement_at(when: datetime, text: str, engine: Engine, tmp_path: Path) -> str:
    """The acknowledgement a direct complaint gets at ``when``, the SLA counted in office hours."""
    config = scenario_config(tmp_path, [post("p1", text, direct=True)])
    office = [policy.model_copy(update={"calendar": "office"}) for policy in config.sla]
    service = build_service(config.model_copy(update={"sla": office}), engine, clock=FakeClock(when))
    service.poller.poll("demo")
    assert service.sender.run_once().sent == 1
    [reply] = replies_sent(tmp_path)
    return reply["text"]


def test_the_promised_answer_time_follows_office_hours(engine: Engine, tmp_path: Path) -> None:
    monday_morning = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Rome, the office is open
    assert "within 1 hour" in acknowledgement_at(monday_morning, COMPLAINT_DIRECT["text"], engine, tmp_path)


def test_a_complaint_on_friday_evening_is_promised_an_answer_on_monday_morning(
    engine: Engine, tmp_path: Path
) -> None:
    friday_evening = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # 17:30 in Rome: 30 office minutes left
    text = acknowledgement_at(friday_evening, COMPLAINT_DIRECT["text"], engine, tmp_path)
    assert "by Monday at 09:30 CET" in text and "within" not in text


def test_the_italian_promise_names_the_day_in_italian(engine: Engine, tmp_path: Path) -> None:
    friday_evening = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    italian = "@velora il mio Velora Pulse non funziona dopo l'aggiornamento, pessimo"
    assert "entro lunedì alle 09:30 CET" in acknowledgement_at(friday_evening, italian, engine, tmp_path)


def test_fetching_the_same_posts_again_stores_nothing_twice(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, [COMPLAINT_DIRECT, COMPLAINT_KEYWORD])
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    with Session(engine) as session:
        state = session.get_one(SourceState, "demo")
        state.cursor = None
        session.add(state)
        session.commit()
    again = service.poller.poll("demo")
    assert (again.fetched, again.new) == (2, 0)
    with Session(engine) as session:
        assert len(session.exec(select(Mention)).all()) == 2
        assert len(session.exec(select(Case)).all()) == 2


def test_a_crash_after_fetching_loses_nothing(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    config = scenario_config(tmp_path, [COMPLAINT_DIRECT, COMPLAINT_KEYWORD])
    service = build_service(config, engine, clock=clock)
    service.connectors["demo"].fetch(None)  # fetched, then the process died before storing
    report = service.poller.poll("demo")
    assert report.new == 2


def test_a_direct_complaint_is_acknowledged_once(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    service = build_service(scenario_config(tmp_path, [COMPLAINT_DIRECT]), engine, clock=clock)
    service.poller.poll("demo")
    clock.advance(seconds=5)
    assert service.sender.run_once().sent == 1
    assert service.sender.run_once().sent == 0
    [reply] = replies_sent(tmp_path)
    assert reply["in_reply_to"] == "p1"
    assert "Anna Bruni" in reply["text"] and "SC-000001" in reply["text"] and "within 1 hour" in reply["text"]
    with Session(engine) as session:
        case = case_of(session, "p1")
        assert case.acknowledged_at == clock.now
        assert events_of(session, case) == ["opened", "assigned", "acknowledgement_queued", "acknowledged"]


def test_a_keyword_only_complaint_gets_a_suggested_reply_not_an_automatic_one(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [COMPLAINT_KEYWORD]), engine, clock=clock)
    service.poller.poll("demo")
    service.sender.run_once()
    assert replies_sent(tmp_path) == []
    with Session(engine) as session:
        case = case_of(session, "p2")
        assert "Bob" in case.suggested_reply
        assert "acknowledgement_suggested" in events_of(session, case)
        assert session.exec(select(OutboxEntry)).all() == []


def test_praise_is_not_acknowledged_automatically(engine: Engine, tmp_path: Path, clock: FakeClock) -> None:
    service = build_service(
        scenario_config(tmp_path, [post("p3", "@velora thanks, the Pulse is amazing", direct=True)]),
        engine,
        clock=clock,
    )
    service.poller.poll("demo")
    with Session(engine) as session:
        assert session.exec(select(OutboxEntry)).all() == []
        assert "acknowledgement_skipped" in events_of(session, case_of(session, "p3"))


def test_retweets_our_own_posts_and_excluded_names_open_no_case(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        post("rt", "RT @bob: Velora Casa keeps dropping wifi, worst router ever", retweet=True),
        post("own", "Velora Pulse firmware 4.2.1 is rolling out now", handle="velora_help", name="Velora"),
        post("hotel", "Lovely weekend at Villa Velora on Lake Garda"),
    ]
    report = build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    assert (report.new, report.opened) == (3, 0)
    with Session(engine) as session:
        assert session.exec(select(Case)).all() == []
        assert all(mention.processed_at for mention in session.exec(select(Mention)))


def test_a_follow_up_by_the_customer_in_the_conversation_joins_their_case(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [COMPLAINT_DIRECT, post("p9", "@velora still nothing, hello?", direct=True, reply_to="p1")]
    build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    with Session(engine) as session:
        assert case_of(session, "p9").id == case_of(session, "p1").id
        assert len(session.exec(select(Case)).all()) == 1


def test_a_second_person_in_an_answered_thread_gets_a_case_and_an_acknowledgement_of_their_own(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        COMPLAINT_DIRECT,
        post(
            "p9", "@velora same here, my Velora Pulse is dead too", direct=True, reply_to="p1", handle="zed"
        ),
    ]
    service = build_service(scenario_config(tmp_path, posts), engine, clock=clock)
    service.poller.poll("demo")
    service.sender.run_once()
    with Session(engine) as session:
        assert case_of(session, "p9").id != case_of(session, "p1").id
    assert sorted(reply["in_reply_to"] for reply in replies_sent(tmp_path)) == ["p1", "p9"]


def test_a_direct_complaint_joining_a_case_opened_by_praise_gets_the_acknowledgement_once(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        post("g1", "@velora thanks, the Pulse is amazing", direct=True),
        post("g2", "@velora update: my Velora Pulse is not working since the update, terrible", direct=True),
        post("g3", "@velora and it is still broken, this is awful", direct=True),
    ]
    service = build_service(scenario_config(tmp_path, posts), engine, clock=clock)
    service.poller.poll("demo")
    service.sender.run_once()
    assert [reply["in_reply_to"] for reply in replies_sent(tmp_path)] == ["g2"]
    with Session(engine) as session:
        case = case_of(session, "g1")
        assert case.id == case_of(session, "g3").id and case.category == "complaint"
        assert case.acknowledged_at is not None
        assert events_of(session, case).count("acknowledged") == 1


def test_a_direct_complaint_after_a_keyword_only_one_is_acknowledged(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """On X a keyword hit may not be answered automatically; the same customer's later post to
    our account may."""
    posts = [
        post("k1", "Velora Casa keeps dropping wifi, worst router ever", handle="bob", name="Bob"),
        post("k2", "@velora my Velora Casa keeps dropping wifi, please help", handle="bob", direct=True),
    ]
    service = build_service(scenario_config(tmp_path, posts), engine, clock=clock)
    service.poller.poll("demo")
    service.sender.run_once()
    assert [reply["in_reply_to"] for reply in replies_sent(tmp_path)] == ["k2"]


def test_the_customers_wait_starts_when_they_wrote_not_when_we_fetched_it(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, [COMPLAINT_DIRECT], initial_burst=0, per_minute=1.0)
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")  # the platform's clock starts; the post is written a minute later
    written = clock.now + timedelta(minutes=1)
    clock.advance(minutes=6)  # fetched five minutes after it was written
    service.poller.poll("demo")
    service.sender.run_once()
    with Session(engine) as session:
        case = case_of(session, "p1")
        assert case.opened_at == written and case.awaiting_reply_since == written
        assert case.ack_due_at is None and case.response_due_at == written + timedelta(hours=1)
        report = measure(session, config, Period(written - timedelta(days=1), clock.now + timedelta(days=1)))
    assert report.acknowledgement.median == timedelta(minutes=5)


def test_a_post_dated_in_the_future_waits_from_when_we_fetched_it(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    service = build_service(scenario_config(tmp_path, [COMPLAINT_DIRECT]), engine, clock=clock)
    fetched_at = clock.now
    platform = service.connectors["demo"]
    batch = platform.fetch(None)
    ahead = [replace(batch.posts[0], created_at=fetched_at + timedelta(minutes=3))]
    future = like(platform, FixedPosts, batch=replace(batch, posts=ahead))
    Poller(engine, {"demo": future}, service.pipeline, clock=clock, owner="w").poll("demo")
    with Session(engine) as session:
        assert case_of(session, "p1").opened_at == fetched_at


def test_an_author_who_says_stop_gets_no_more_automatic_replies(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        post("s1", "@velora stop", direct=True),
        post("s2", "@velora my Velora Pulse is broken again", direct=True),
    ]
    build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    with Session(engine) as session:
        author = session.exec(select(Author).where(Author.handle == "anna_b")).one()
        assert author.opted_out_at is not None
        assert session.exec(select(OutboxEntry)).all() == []


def test_cases_go_to_the_team_and_person_the_rules_name(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(hour=10)  # a Monday morning in Rome: everyone is on shift
    posts = [
        post("it", "@velora il mio Velora Pulse non funziona, che delusione", direct=True, lang="it"),
        post("pay", "@velora I was charged twice for Velora Pay, I want a refund", direct=True, handle="dan"),
        post("en", "@velora is the Velora Casa compatible with Android?", direct=True, handle="eve"),
    ]
    build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    with Session(engine) as session:
        names = {row.id: row.name for row in session.exec(select(Employee))}
        routed = {key: case_of(session, key) for key in ("it", "pay", "en")}
        assert {key: case.team for key, case in routed.items()} == {
            "it": "care-it",
            "pay": "payments",
            "en": "care-en",
        }
        assert names[routed["it"].assignee_id] in {"Chiara Conti", "Luca Marino", "Sara Greco"}
        assert names[routed["pay"].assignee_id] in {"Chiara Conti", "Paola Ricci"}
        assert names[routed["en"].assignee_id] in {"Chiara Conti", "Sara Greco", "James Wright"}


def a_person_answers(engine: Engine, service: Service, external_id: str, clock: FakeClock) -> None:
    """Someone of the desk replies to the case of ``external_id``; the reply goes out now."""
    with Session(engine) as session:
        case = case_of(session, external_id)
        person = session.exec(select(Employee)).first()
        assert person is not None and person.id is not None
        lifecycle.queue_reply(
            session,
            case,
            "Thanks, we are looking into it.",
            clock.now,
            employee_id=person.id,
            in_reply_to=external_id,
            resolves=False,
            request_key="form-1",
        )
        session.commit()
    service.sender.run_once()


def test_a_message_written_before_our_reply_went_out_waits_from_that_reply(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """The customer wrote again while we were answering, and we fetched it after our answer went
    out: the new reply clock runs from our answer, not from before it."""
    posts = [COMPLAINT_DIRECT, post("p2", "@velora also the strap broke", direct=True, reply_to="p1")]
    service = build_service(
        scenario_config(tmp_path, posts, initial_burst=1, per_minute=0.2), engine, clock=clock
    )
    service.poller.poll("demo")  # p1; p2 is written five minutes later
    clock.advance(minutes=10)
    a_person_answers(engine, service, "p1", clock)
    answered_at = clock.now
    clock.advance(minutes=10)
    service.poller.poll("demo")
    with Session(engine) as session:
        case = case_of(session, "p2")
        assert case.id == case_of(session, "p1").id
        assert case.awaiting_reply_since == answered_at


def test_a_complaint_joining_a_case_a_person_already_answered_gets_no_automatic_acknowledgement(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [post("g1", "@velora thanks, the Pulse is amazing", direct=True), COMPLAINT_DIRECT]
    service = build_service(
        scenario_config(tmp_path, posts, initial_burst=1, per_minute=0.2), engine, clock=clock
    )
    service.poller.poll("demo")
    a_person_answers(engine, service, "g1", clock)
    clock.advance(minutes=6)
    service.poller.poll("demo")
    service.sender.run_once()
    assert [reply["in_reply_to"] for reply in replies_sent(tmp_path)] == ["g1"], "only the person's reply"
    with Session(engine) as session:
        assert case_of(session, "p1").id == case_of(session, "g1").id
        assert session.exec(select(OutboxEntry).where(OutboxEntry.purpose == "acknowledgement")).all() == []
