"""The acknowledgement policy, through the pipeline: who never gets an automatic reply, and how often."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from responders.acknowledger import is_opt_out
from social_care.config import Config
from social_care.runtime import build_service
from social_care.storage.tables import Author, Case, CaseEvent, Mention, OutboxEntry
from tests.support.clock import FakeClock
from tests.support.scenario import post, scenario_config


def complaint(
    number: int, handle: str | None = None, text: str = "my Velora Pulse is broken"
) -> dict[str, Any]:
    return post(f"p{number}", f"@velora {text}", handle=handle or f"c{number}", name="", direct=True)


def with_policy(config: Config, **changes: Any) -> Config:
    return config.model_copy(update={"acknowledgement": config.acknowledgement.model_copy(update=changes)})


def outcome(engine: Engine, external_id: str) -> tuple[bool, str]:
    """Whether the post's case got an automatic acknowledgement queued, and the recorded reason if not."""
    with Session(engine) as session:
        mention = session.exec(select(Mention).where(Mention.external_id == external_id)).one()
        if mention.case_id is None:
            return False, "no case"
        queued = session.exec(select(OutboxEntry).where(OutboxEntry.case_id == mention.case_id)).first()
        events = session.exec(
            select(CaseEvent)
            .where(CaseEvent.case_id == mention.case_id, col(CaseEvent.kind).like("acknowledgement_%"))
            .order_by(col(CaseEvent.id))
        ).all()
        reasons = [str(event.detail.get("reason", "")) for event in events]
        return queued is not None, reasons[-1] if reasons else ""


def resolve_all(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(update(Case).values(status="resolved"))
        session.commit()


def test_never_to_our_own_or_staff_accounts_which_open_no_case(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        complaint(1, handle="velora_help"),  # the brand's own handle
        complaint(2, handle="luca_at_velora"),  # a colleague's personal account
    ]
    config = scenario_config(tmp_path, posts)
    staff = [
        person.model_copy(update={"handles": ["@Luca_at_Velora"]}) if person.name == "Luca Marino" else person
        for person in config.employees
    ]
    build_service(config.model_copy(update={"employees": staff}), engine, clock=clock).poller.poll("demo")
    assert outcome(engine, "p1") == (False, "no case")
    assert outcome(engine, "p2") == (False, "no case")


def test_never_to_a_blocked_account_whether_configured_or_marked(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [complaint(1, handle="troll"), complaint(2, handle="spammer"), complaint(3, handle="anna")]
    config = with_policy(scenario_config(tmp_path, posts, initial_burst=1), blocked_handles=["@Troll"])
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    with Session(engine) as session:
        session.add(Author(platform="demo", external_id="id-spammer", handle="spammer", blocked=True))
        session.commit()
    clock.advance(minutes=1)
    service.poller.poll("demo")
    assert outcome(engine, "p1") == (False, "the author is blocked")
    assert outcome(engine, "p2") == (False, "the author is blocked")
    assert outcome(engine, "p3") == (True, "")


def test_an_author_who_says_basta_gets_no_more_automatic_replies(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        post("s1", "@velora basta!", handle="giulia", direct=True, lang="it"),
        post("s2", "@velora il mio Velora Pulse non funziona", handle="giulia", direct=True, lang="it"),
    ]
    build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    assert outcome(engine, "s2") == (False, "the author asked for no automatic replies")


@pytest.mark.parametrize(
    "text",
    [
        "u/velora_care stop",
        "/u/velora_care stop",
        "stop u/velora_care",
        "u/velora_care basta",
        "STOP @velora",
        "@velora unsubscribe",
    ],
)
def test_stop_is_heard_wherever_it_stands_next_to_our_account_however_the_platform_names_it(
    text: str,
) -> None:
    assert is_opt_out(text, ["stop", "basta", "unsubscribe"])


@pytest.mark.parametrize("text", ["please stop u/velora_care from spamming me about Velora Pulse", "u/stop"])
def test_stop_inside_a_longer_sentence_or_as_a_name_is_no_opt_out(text: str) -> None:
    assert not is_opt_out(text, ["stop", "basta"])


def test_an_author_who_says_stop_to_an_open_case_gets_no_acknowledgement_for_it(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """The opt-out is heard on every post, not only on one that opens a case."""
    posts = [
        post("k1", "Velora Pulse keeps rebooting, worst purchase ever", handle="rita"),
        post("k2", "u/velora stop", handle="rita", direct=True),
        post("k3", "@velora my Velora Pulse is still broken", handle="rita", direct=True),
    ]
    build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    assert outcome(engine, "k3")[0] is False, "no acknowledgement queued"
    with Session(engine) as session:
        assert session.exec(select(Author).where(Author.handle == "rita")).one().opted_out_at is not None


def test_stop_said_to_someone_else_is_no_opt_out_but_stop_naming_our_account_is(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [
        post("o1", "@bob stop", handle="rita"),
        post("o2", "stop @velora_help", handle="sven"),
        post("o3", "@velora my Velora Pulse is broken", handle="rita", direct=True),
        post("o4", "@velora my Velora Pulse is broken", handle="sven", direct=True),
    ]
    build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    assert outcome(engine, "o3") == (True, "")
    assert outcome(engine, "o4") == (False, "the author asked for no automatic replies")


def test_a_post_older_than_the_limit_is_queued_with_a_suggestion_not_answered(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """At a first start, or after a long outage, a three-day-old complaint gets a person, not a robot."""
    config = scenario_config(tmp_path, [complaint(1)], initial_burst=0, per_minute=1.0)
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")  # the platform's clock starts; the post is written a minute later
    clock.advance(days=3, minutes=1)
    service.poller.poll("demo")
    assert outcome(engine, "p1") == (False, "the post is older than 240 minutes: a person answers it")
    with Session(engine) as session:
        assert "SC-000001" in session.exec(select(Case)).one().suggested_reply


def test_a_post_within_the_age_limit_is_still_answered(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    config = scenario_config(tmp_path, [complaint(1)], initial_burst=0, per_minute=1.0)
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    clock.advance(minutes=200)
    service.poller.poll("demo")
    assert outcome(engine, "p1") == (True, "")


@pytest.mark.parametrize("written", ["u/{name}", "/u/{name}", "@{name}", "{name}", "U/{upper}"])
def test_our_staff_and_blocked_names_match_however_they_are_written(
    engine: Engine, tmp_path: Path, clock: FakeClock, written: str
) -> None:
    posts = [
        complaint(1, handle="velora_care"),  # our own account, written the Reddit way in the source
        complaint(2, handle="luca_at_velora"),  # a colleague
        complaint(3, handle="troll"),  # blocked
        complaint(4, handle="anna"),
    ]
    config = scenario_config(tmp_path, posts)
    source = config.sources[0].model_copy(
        update={"account": written.format(name="velora_care", upper="VELORA_CARE")}
    )
    staff = [
        person.model_copy(update={"handles": [written.format(name="luca_at_velora", upper="LUCA_AT_VELORA")]})
        if person.name == "Luca Marino"
        else person
        for person in config.employees
    ]
    config = with_policy(
        config.model_copy(update={"sources": [source], "employees": staff}),
        blocked_handles=[written.format(name="troll", upper="TROLL")],
    )
    build_service(config, engine, clock=clock).poller.poll("demo")
    assert outcome(engine, "p1") == (False, "no case")
    assert outcome(engine, "p2") == (False, "no case")
    assert outcome(engine, "p3") == (False, "the author is blocked")
    assert outcome(engine, "p4") == (True, "")


def test_a_sentence_that_merely_contains_stop_is_not_an_opt_out(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [complaint(1, handle="mia", text="my Velora Pulse will not stop rebooting, please help")]
    build_service(scenario_config(tmp_path, posts), engine, clock=clock).poller.poll("demo")
    assert outcome(engine, "p1") == (True, "")


def test_the_author_cooldown_holds_a_second_case_back_until_it_has_passed(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    """One post every 100 minutes from the same author, each a new case; the cooldown is 240 minutes."""
    posts = [complaint(n, handle="anna", text=f"my Velora Pulse is broken, issue {n}") for n in range(4)]
    config = with_policy(
        scenario_config(tmp_path, posts, initial_burst=1, per_minute=0.01), author_cooldown_minutes=240
    )
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    for _ in range(3):
        resolve_all(engine)
        clock.advance(minutes=100)
        service.poller.poll("demo")
    assert outcome(engine, "p0") == (True, "")
    assert outcome(engine, "p1") == (False, "the author was acknowledged recently")  # 100 minutes later
    assert outcome(engine, "p2") == (False, "the author was acknowledged recently")  # 200 minutes later
    assert outcome(engine, "p3") == (True, "")  # 300 minutes later


def test_the_hourly_cap_per_source_holds_the_rest_back_as_suggestions_for_an_hour(
    engine: Engine, tmp_path: Path, clock: FakeClock
) -> None:
    posts = [complaint(n) for n in range(4)]
    config = with_policy(
        scenario_config(tmp_path, posts, initial_burst=3, per_minute=1 / 61), hourly_cap_per_source=2
    )
    service = build_service(config, engine, clock=clock)
    service.poller.poll("demo")
    assert [outcome(engine, f"p{n}")[0] for n in range(3)] == [True, True, False]
    assert outcome(engine, "p2") == (False, "this source reached its hourly cap")
    with Session(engine) as session:
        assert session.exec(select(Case).where(Case.suggested_reply != "")).one().id == 3
    clock.advance(minutes=61)
    service.poller.poll("demo")
    assert outcome(engine, "p3") == (True, "")
