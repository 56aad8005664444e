"""Deletion compliance: the posts kept are checked with X and Reddit in batches, and what their
authors deleted or hid, or the platform removed, loses its words while the case keeps its times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import tomli_w
from fastapi.testclient import TestClient
from jinja2 import Environment
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from social_care.cli import app as command
from social_care.compliance import person
from social_care.runtime import Service
from social_care.storage.tables import (
    AuditEvent,
    Author,
    Case,
    CaseEvent,
    DigestRun,
    MailEntry,
    Mention,
    SourceState,
)
from social_care.users import set_employee_password
from social_care.web.app import create_app
from tests.connectors.test_reddit import reddit_service
from tests.fakes.reddit_api import FakeReddit
from tests.fakes.x_api import FakeX
from tests.metrics.test_rollups import snapshot
from tests.support.clock import FakeClock
from tests.support.configs import example_raw
from tests.support.x_desk import x_config_raw, x_environ, x_service
from tests.web.support import ADMIN, DEMO_PASSWORD, log_in

SOURCE = "x-velora"
DAY_AND_A_BIT = 25  # hours: a post read is checked once it has stood for a day
TEMPLATES = Environment(autoescape=True)  # as the mail and digest templates escape


def copies_quoting(engine: Engine, clock: FakeClock, texts: list[str]) -> None:
    """A digest and a crisis mail (no case of its own) that quote these posts, rendered as ours are."""
    quote = TEMPLATES.from_string("<ul>{% for text in texts %}<li>{{ text }}</li>{% endfor %}</ul>")
    with Session(engine) as session:
        session.add(
            DigestRun(
                recipient="boss@velora.example",
                day=(clock.now + timedelta(days=1)).date(),
                state="queued",
                made_at=clock.now,
                text="\n".join(texts),
                html=quote.render(texts=texts),
            )
        )
        session.add(
            MailEntry(
                idempotency_key="crisis-1",
                purpose="crisis",
                subject="Complaints spike",
                text="\n".join(texts),
                html=quote.render(texts=texts),
                state="sent",
                created_at=clock.now,
                next_attempt_at=clock.now,
            )
        )
        session.commit()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeX]:
    server = FakeX(clock=clock).start()
    yield server
    server.stop()


def look_ups(fake: FakeX) -> list[list[str]]:
    return [
        request.params["ids"].split(",")
        for request in fake.requests
        if (request.method, request.path) == ("GET", "/2/tweets")
    ]


def mention(engine: Engine, external_id: str) -> Mention:
    with Session(engine) as session:
        return session.exec(select(Mention).where(Mention.external_id == external_id)).one()


def author(engine: Engine, handle_or_id: str) -> Author:
    with Session(engine) as session:
        return session.exec(select(Author).where(Author.external_id == handle_or_id)).one()


def test_a_deleted_tweet_loses_its_words_and_the_case_keeps_its_times_and_figures(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    deleted = fake.add_tweet("anna", "@velora my Velora Pulse isn't working, call me on 555-0101")
    kept = fake.add_tweet("anna", "@velora and my Velora Casa too, it keeps dropping wifi")
    service.poller.poll(SOURCE)
    assert service.sender.run_once().sent >= 1
    before = mention(engine, deleted)
    with Session(engine) as session:
        case = session.get_one(Case, before.case_id)
    figures = snapshot(engine)
    copies_quoting(engine, clock, [mention(engine, deleted).text])
    fake.delete_tweet(deleted)
    clock.advance(hours=DAY_AND_A_BIT)

    report = service.deletion_checks.run_once()

    [checked] = report.sources
    assert (checked.asked, dict(checked.gone), checked.requests) == (2, {"deleted": 1}, 1)
    assert sorted(look_ups(fake)[0]) == sorted([deleted, kept])
    after = mention(engine, deleted)
    assert (after.text, after.url, after.raw, after.removed) == ("", "", {}, "deleted")
    assert after.deleted_at == clock.now
    assert mention(engine, kept).text.startswith("@velora and my Velora Casa")
    assert mention(engine, kept).checked_at == clock.now
    assert author(engine, after_author_id(engine, deleted)).handle == "@anna", "anna still has a post kept"
    with Session(engine) as session:
        unchanged = session.get_one(Case, case.id)
        assert (unchanged.opened_at, unchanged.acknowledged_at, unchanged.status) == (
            case.opened_at,
            case.acknowledged_at,
            case.status,
        )
        assert unchanged.last_activity_at == case.last_activity_at, "nothing for a person to look at"
        [removed] = session.exec(select(CaseEvent).where(CaseEvent.kind == "post_removed")).all()
        assert removed.detail == {"mention_id": after.id, "why": "deleted"}
        assert session.exec(select(AuditEvent.kind)).all() == ["compliance_checked"]
    assert snapshot(engine) == figures, "figures do not change"
    with Session(engine) as session:
        digest = session.exec(select(DigestRun)).one()
        mail = session.exec(select(MailEntry).where(MailEntry.purpose == "crisis")).one()
    for document in (digest.text, digest.html, mail.text, mail.html):
        assert "555-0101" not in document and "Post removed by its author" in document

    set_employee_password(service.config, engine, ADMIN, DEMO_PASSWORD)
    with TestClient(create_app(service.config, engine, secret_key="k")) as client:
        log_in(client, ADMIN)
        page = client.get(f"/cases/{case.id}").text
    assert "Post removed by its author" in page
    assert "555-0101" not in page


def after_author_id(engine: Engine, external_id: str) -> str:
    with Session(engine) as session:
        found = session.exec(
            select(Author.external_id)
            .join(Mention, col(Mention.author_id) == col(Author.id))
            .where(Mention.external_id == external_id)
        ).one()
    return found


def test_a_protected_account_hides_its_posts_and_its_profile(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    hidden = fake.add_tweet("bob", "@velora where is my Velora Pulse order?")
    fake.add_tweet("carla", "@velora thanks, Velora Casa works great")
    service.poller.poll(SOURCE)
    bob = after_author_id(engine, hidden)
    fake.protect_user(bob)
    clock.advance(hours=DAY_AND_A_BIT)

    report = service.deletion_checks.run_once()

    assert dict(report.sources[0].gone) == {"protected": 1} and report.sources[0].profiles == 1
    assert mention(engine, hidden).removed == "protected"
    profile = author(engine, bob)
    assert (profile.handle, profile.name, profile.followers, profile.erased_at) == ("", "", None, clock.now)


def test_each_post_is_asked_about_once_a_day_oldest_check_first_in_batches_of_a_hundred(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path, max_results=100, first_poll_pages=2)
    for number in range(130):
        fake.add_tweet(f"user{number % 7}", f"@velora Velora Pulse question number {number}")
    service.poller.poll(SOURCE)
    clock.advance(hours=1)
    assert service.deletion_checks.run_once().sources[0].asked == 0, "a post just read needs no check"
    clock.advance(hours=DAY_AND_A_BIT)

    first = service.deletion_checks.run_once()
    assert [len(ids) for ids in look_ups(fake)] == [100, 30]
    assert first.sources[0].reads == 130, "X bills each post returned"
    clock.advance(hours=23)
    assert service.deletion_checks.run_once().sources[0].asked == 0, "not due again within the day"
    clock.advance(hours=2)
    assert service.deletion_checks.run_once().sources[0].asked == 130
    with Session(engine) as session:
        state = session.get_one(SourceState, SOURCE)
    assert state.reads_used >= 260, "checks count against the source's read budget"


def test_checks_stop_at_the_share_of_the_read_budget_kept_for_polling(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path, source={"monthly_read_quota": 300})
    for number in range(120):
        fake.add_tweet("anna", f"@velora Velora Pulse note {number}")
    service.poller.poll(SOURCE)  # 10 posts: a first poll reads one page
    with Session(engine) as session:
        stored = len(session.exec(select(Mention.id)).all())
        state = session.get_one(SourceState, SOURCE)
        state.reads_used = 145  # half the quota (150) is for checks: 5 are left, a batch needs 10
        session.add(state)
        session.commit()
    clock.advance(hours=DAY_AND_A_BIT)

    report = service.deletion_checks.run_once()

    [checked] = report.sources
    assert checked.asked == 0 and "read budget" in checked.stopped
    assert checked.still_due == stored
    assert look_ups(fake) == []


def test_a_platform_failure_leaves_the_posts_due_and_polling_alone(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    fake.add_tweet("anna", "@velora my Velora Pulse is not working")
    service.poller.poll(SOURCE)
    fake.fail_next(503, path="/2/tweets")
    clock.advance(hours=DAY_AND_A_BIT)

    report = service.deletion_checks.run_once()

    [checked] = report.sources
    assert checked.asked == 0 and "503" in checked.stopped and checked.still_due == 1
    with Session(engine) as session:
        state = session.get_one(SourceState, SOURCE)
        assert (state.status, state.lease_owner) == ("ok", None)
    assert service.deletion_checks.run_once().sources[0].asked == 1, "the next run checks it"


def test_a_source_being_polled_is_not_checked_at_the_same_time(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    fake.add_tweet("anna", "@velora my Velora Pulse is not working")
    service.poller.poll(SOURCE)
    with Session(engine) as session:
        state = session.get_one(SourceState, SOURCE)
        state.lease_owner, state.lease_expires_at = "another-worker", clock.now + timedelta(seconds=15)
        session.add(state)
        session.commit()
    clock.advance(seconds=5)

    report = service.deletion_checks.run_once()

    assert report.sources[0].asked == 0 and "busy" in report.sources[0].stopped
    assert look_ups(fake) == []


def test_reddit_posts_deleted_removed_or_gone_are_scrubbed_with_why(
    engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    with FakeReddit(start=clock.now.timestamp() - 600).running() as reddit:
        service: Service = reddit_service(reddit, engine, clock, tmp_path)
        thread = reddit.add_submission("velora", "Velora Pulse died", "it will not charge", author="anna")
        deleted = reddit.add_comment(thread, "my Velora Pulse too, so angry", author="bruno")
        removed = reddit.add_comment(thread, "Velora Pulse owners: buy elsewhere!!", author="carla")
        gone = reddit.add_comment(thread, "Velora Pulse broke on day one", author="dario")
        service.poller.poll("reddit-velora")
        reddit.delete(deleted)
        reddit.remove(removed)
        reddit.purge(gone)
        clock.advance(hours=DAY_AND_A_BIT)

        report = service.deletion_checks.run_once()

        assert dict(report.sources[0].gone) == {"deleted": 2, "removed": 1}
        assert report.sources[0].requests == 1
        assert [request.query["id"].count(",") + 1 for request in reddit.requested("/api/info")] == [4]
    whys = {
        external_id: mention(engine, external_id).removed for external_id in (thread, deleted, removed, gone)
    }
    assert whys == {thread: "", deleted: "deleted", removed: "removed", gone: "deleted"}
    assert mention(engine, thread).text.startswith("Velora Pulse died")
    with Session(engine) as session:
        blank = session.exec(select(Author.external_id).where(col(Author.erased_at).is_not(None))).all()
    assert sorted(blank) == ["t2_bruno", "t2_carla", "t2_dario"], "no post of theirs is kept any more"


def test_the_command_checks_now_and_says_what_it_found(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    doomed = fake.add_tweet("anna", "@velora my Velora Pulse is not working")
    service.poller.poll(SOURCE)
    fake.delete_tweet(doomed)
    clock.advance(hours=DAY_AND_A_BIT)
    report = service.deletion_checks.run_once(by="someone (command line)")
    assert "1 posts checked in 1 requests (1 deleted)" in report.sources[0].line()
    with Session(engine) as session:
        [audited] = session.exec(select(AuditEvent)).all()
    assert (audited.actor, audited.detail) == ("someone (command line)", {"checked": 1, "scrubbed": 1})


def test_a_post_the_platform_left_unanswered_is_asked_about_again_the_next_day_not_at_once(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    odd = fake.add_tweet("anna", "@velora my Velora Pulse is not working")
    fake.add_tweet("bruno", "@velora Velora Casa question")
    service.poller.poll(SOURCE)
    fake.fail_lookup_of(odd, "https://api.twitter.com/2/problems/resource-not-found-at-all")
    clock.advance(hours=DAY_AND_A_BIT)

    report = service.deletion_checks.run_once()

    assert (report.sources[0].requests, report.sources[0].asked, report.sources[0].still_due) == (1, 2, 0)
    assert mention(engine, odd).removed == "", "never taken as gone"
    clock.advance(hours=DAY_AND_A_BIT)
    assert service.deletion_checks.run_once().sources[0].asked == 2


def test_an_x_author_is_found_by_handle_with_or_without_the_at_and_by_platform_id(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    tweet = fake.add_tweet("anna", "@velora my Velora Pulse is not working")
    service.poller.poll(SOURCE)
    platform_id = after_author_id(engine, tweet)
    with Session(engine) as session:
        for typed in ("anna", "@Anna", platform_id):
            [found] = person.find(session, "x", typed).authors
            assert found.external_id == platform_id
        erased = person.forget(session, person.find(session, "x", "@anna"), at=clock.now, actor="admin")
        session.commit()
    assert erased.posts == 1 and mention(engine, tweet).text == ""


def test_compliance_run_from_the_command_line_checks_at_once_as_the_operator(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = x_service(fake, engine, clock, tmp_path)
    doomed = fake.add_tweet("anna", "@velora my Velora Pulse is not working")
    service.poller.poll(SOURCE)
    fake.delete_tweet(doomed)
    raw = example_raw()
    x_config_raw(raw, fake)
    raw["retention"]["post_text_days"] = 0  # however long after the fake's day this runs, it is checked
    settings = tmp_path / "social-care.toml"
    settings.write_bytes(tomli_w.dumps(raw).encode())
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    for variable, value in x_environ(fake).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr("getpass.getuser", lambda: "marta")
    # The command runs on the wall clock, after the fake's day: the post has stood for a day.

    result = CliRunner().invoke(
        command, ["compliance", "run", "--config", str(settings)], catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert "x-velora: 1 posts checked in 1 requests (1 deleted)" in result.output
    assert mention(engine, doomed).removed == "deleted"
    with Session(engine) as session:
        [audited] = session.exec(select(AuditEvent)).all()
    assert audited.actor == "marta (command line)"
