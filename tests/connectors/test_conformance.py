"""Every connector faces the same trials, through the real poller and the real database.

Each scenario runs for X (tweepy), Reddit (praw) and feeds against their fake
servers on 127.0.0.1, and for the demo platform where it applies, on SQLite and
on PostgreSQL. The per-platform adapters (``adapters.py``) publish posts and
script failures; the scenarios only poll and look at what was committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from connectors import registry
from social_care.poller import PollReport
from social_care.posts import MAX_POST_TEXT
from social_care.runtime import Service, build_service, clear_failures
from social_care.storage.tables import Mention, OutboxEntry, RejectedPayload, SourceState
from tests.connectors.adapters import PLATFORMS, SUBJECT, Platform, names_with
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config

BYSTANDER = "demo"  # the example configuration's demo source, polled alongside the one under test


class World:
    """The service configured with the source under test (and the demo source beside it)."""

    def __init__(self, platform: Platform, engine: Engine, clock: FakeClock, tmp_path: Path) -> None:
        self.platform, self.engine, self.clock, self.tmp_path = platform, engine, clock, tmp_path
        self.service = self._build()

    def restart(self) -> None:
        """A new process: new connectors, pipeline and poller; only the database remembers."""
        self.service = self._build()

    def poll(self, source_id: str = SUBJECT) -> PollReport:
        return self.service.poller.poll(source_id)

    def poll_when_due(self) -> PollReport:
        """Wait (on the clock) until the source may be polled again, then poll it."""
        due = self.state().next_poll_at
        if due is not None and due > self.clock.now:
            self.clock.now = due
        return self.poll()

    def state(self, source_id: str = SUBJECT) -> SourceState:
        with Session(self.engine) as session:
            return session.get_one(SourceState, source_id)

    def stored(self) -> list[str]:
        """External ids of the stored posts of the source under test, duplicates kept."""
        with Session(self.engine) as session:
            found = session.exec(select(Mention.external_id).where(Mention.source_id == SUBJECT))
            return sorted(found.all())

    def rejected(self) -> list[RejectedPayload]:
        with Session(self.engine) as session:
            return list(session.exec(select(RejectedPayload).where(RejectedPayload.source_id == SUBJECT)))

    def _build(self) -> Service:
        def add_subject(raw: Raw) -> None:
            source = {"id": SUBJECT, "brand": "Velora", "enabled": True, **self.platform.source()}
            raw["sources"].append(source)

        config = demo_config(self.tmp_path, add_subject)
        return build_service(config, self.engine, environ=self.platform.environ, clock=self.clock)


@pytest.fixture
def platform(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    adapter = PLATFORMS[request.param](clock, tmp_path)
    yield adapter
    adapter.stop()


@pytest.fixture
def world(platform: Platform, engine: Engine, clock: FakeClock, tmp_path: Path) -> World:
    """The service after its first poll of the source, so that later polls read since a cursor."""
    world = World(platform, engine, clock, tmp_path)
    assert not world.poll().error
    return world


def platforms(
    *, failure: str | None = None, replies: bool = False, refusals: bool = False, oversized: bool = False
) -> pytest.MarkDecorator:
    """Run the scenario for every platform it applies to."""
    names = names_with(failure=failure, replies=replies, refusals=refusals, oversized=oversized)
    return pytest.mark.parametrize("platform", names, indirect=True)


TRANSIENT = [
    (name, failure)
    for failure in ("rate_limit", "server_error", "timeout")
    for name in names_with(failure=failure)
]


def assert_each_published_post_stored_once(world: World) -> None:
    stored = world.stored()
    assert len(stored) == len(set(stored)), "a post was stored twice"
    assert stored == sorted(world.platform.published())


def test_every_registered_connector_faces_the_conformance_suite() -> None:
    assert set(PLATFORMS) == set(registry.PLATFORMS)


@platforms()
def test_a_batch_larger_than_a_page_is_stored_whole_and_once(world: World) -> None:
    continued_before = world.platform.continuation_requests()
    world.platform.publish(world.platform.page_overflow)

    report = world.poll()

    assert not report.error
    assert report.new == world.platform.page_overflow
    assert_each_published_post_stored_once(world)
    if world.platform.paginated:
        assert world.platform.continuation_requests() > continued_before, "the fetch never turned a page"


@platforms()
def test_a_restart_between_polls_resumes_from_the_stored_cursor(world: World) -> None:
    world.platform.publish(3)
    world.poll()
    cursor = world.state().cursor
    arrived_while_down = world.platform.publish(4)

    world.restart()
    report = world.poll()

    assert cursor is not None and world.state().cursor != cursor
    assert (report.fetched, report.new) == (len(arrived_while_down), len(arrived_while_down))
    assert_each_published_post_stored_once(world)


@platforms()
def test_polling_again_with_nothing_new_stores_nothing(world: World) -> None:
    world.platform.publish(3)
    world.poll()
    report = world.poll()
    assert (report.error, report.new) == ("", 0)
    assert_each_published_post_stored_once(world)


@pytest.mark.parametrize(("platform", "failure"), TRANSIENT, indirect=["platform"])
def test_a_transient_failure_stores_nothing_keeps_the_cursor_and_the_next_poll_catches_up(
    world: World, failure: str
) -> None:
    world.platform.publish(2)
    world.poll()
    cursor = world.state().cursor
    waiting = world.platform.publish(3)
    world.platform.fail(failure)

    failed = world.poll()

    state = world.state()
    assert failed.error and (failed.new, state.status, state.cursor) == (0, "backing_off", cursor)
    assert not set(waiting) & set(world.stored())
    if failure == "rate_limit":
        assert state.next_poll_at is not None
        assert (state.next_poll_at - world.clock.now).total_seconds() >= world.platform.rate_limit_wait
    assert world.poll().skipped, "polled again before the backoff ended"
    recovered = world.poll_when_due()
    assert (recovered.error, recovered.new) == ("", len(waiting))
    assert world.state().status == "ok"
    assert_each_published_post_stored_once(world)


@pytest.mark.parametrize(("platform", "failure"), TRANSIENT, indirect=["platform"])
def test_a_failure_in_the_middle_of_a_long_fetch_loses_and_doubles_nothing(
    world: World, failure: str
) -> None:
    published = world.platform.publish(world.platform.page_overflow)
    continued_before = world.platform.continuation_requests()
    world.platform.fail(failure, midway=True)

    interrupted = world.poll()
    pages_turned = world.platform.continuation_requests() - continued_before
    recovered = world.poll_when_due()

    assert interrupted.error or 0 < interrupted.new < len(published), "nothing failed midway"
    assert pages_turned > 0 or not world.platform.paginated, "it failed on the first page"
    assert world.poll_when_due().new == 0
    assert interrupted.new + recovered.new == len(published)
    assert_each_published_post_stored_once(world)


@pytest.mark.parametrize("moment", ["while storing the posts", "while moving the cursor"])
@pytest.mark.parametrize("platform", names_with(), indirect=True)
def test_a_crash_after_fetching_but_before_committing_loses_and_doubles_nothing(
    world: World, engine: Engine, moment: str
) -> None:
    world.platform.publish(2)
    world.poll()
    cursor = world.state().cursor
    waiting = world.platform.publish(3)
    if moment == "while storing the posts":
        refusal = DatabaseRefuses(engine, "INSERT ON mentions", f"NEW.external_id = {quoted(waiting[-1])}")
    else:
        refusal = DatabaseRefuses(engine, "UPDATE OF cursor ON source_states", f"NEW.source_id = '{SUBJECT}'")

    with refusal, pytest.raises(Exception, match="the disk is gone"):
        world.poll()  # fetched, then the database failed before the commit: the worker died here

    assert world.state().cursor == cursor, "the cursor moved without its posts"
    assert not set(waiting) & set(world.stored())
    world.restart()
    world.clock.advance(minutes=6)  # the dead worker's lease runs out
    report = world.poll()
    assert (report.error, report.new) == ("", len(waiting))
    assert_each_published_post_stored_once(world)


@platforms()
def test_a_malformed_post_is_recorded_and_skipped_while_the_rest_is_stored(world: World) -> None:
    world.platform.publish(2)
    telltale = world.platform.publish_malformed()
    world.platform.publish(2)

    report = world.poll()

    assert not report.error and report.rejected == 1
    [rejected] = world.rejected()
    assert telltale in rejected.reason + rejected.payload
    assert_each_published_post_stored_once(world)
    assert world.poll().rejected == 0, "the malformed post was rejected again"


@platforms(oversized=True)
def test_a_post_longer_than_the_desk_takes_in_is_recorded_and_skipped_while_the_rest_is_stored(
    world: World,
) -> None:
    world.platform.publish(1)
    telltale = world.platform.publish_oversized()
    world.platform.publish(1)

    report = world.poll()

    assert not report.error and report.rejected == 1
    [rejected] = world.rejected()
    assert telltale in rejected.reason + rejected.payload
    assert f"more than the {MAX_POST_TEXT:,} allowed" in rejected.reason
    assert_each_published_post_stored_once(world)


@platforms(failure="permanent")
def test_a_permanent_error_marks_only_that_source_failing(world: World) -> None:
    waiting = world.platform.publish(2)
    world.platform.fail("permanent")

    failed = world.poll()
    bystander = world.poll(BYSTANDER)

    assert failed.error and world.state().status == "failing"
    assert (bystander.error, world.state(BYSTANDER).status) == ("", "ok") and bystander.new > 0
    assert not set(waiting) & set(world.stored())
    world.clock.advance(days=1)
    assert world.poll().skipped, "a failing source waits for a person"


@platforms(replies=True)
def test_an_acknowledgement_lands_on_the_post_it_answers(world: World) -> None:
    world.platform.publish(2)
    addressed = world.platform.publish_addressed()
    world.platform.publish(1)
    world.poll()

    sent = world.service.sender.run_once()

    replies = world.platform.replies()
    assert sent.sent >= 1 and [parent for parent, _ in replies] == [addressed]
    with Session(world.engine) as session:
        [entry] = session.exec(select(OutboxEntry).where(col(OutboxEntry.source_id) == SUBJECT)).all()
    assert (entry.in_reply_to, entry.state, entry.text) == (addressed, "sent", replies[0][1])


@platforms(refusals=True)
def test_a_reply_to_a_post_deleted_meanwhile_is_given_up_and_the_source_goes_on(world: World) -> None:
    addressed = world.platform.publish_addressed()
    world.poll()
    world.platform.delete(addressed)

    sent = world.service.sender.run_once()

    assert (sent.sent, sent.dead) == (0, 1) and world.platform.replies() == []
    assert world.state().status == "ok"
    arrived = world.platform.publish(2)
    assert world.poll().new == len(arrived)


@platforms(refusals=True)
def test_replies_refused_for_our_account_mark_the_source_failing_until_a_person_acts(world: World) -> None:
    addressed = world.platform.publish_addressed()
    world.poll()
    world.platform.revoke_replies()

    refused = world.service.sender.run_once()

    assert (refused.sent, refused.failed, refused.dead) == (0, 1, 0)
    assert world.state().status == "failing" and world.platform.replies() == []
    world.platform.revoke_replies(revoked=False)  # a person renewed the keys, then restarted
    clear_failures(world.service)
    world.restart()
    assert world.service.sender.run_once().sent == 1
    assert [parent for parent, _ in world.platform.replies()] == [addressed]


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DatabaseRefuses:
    """The database fails the writes it is told to, as a full disk or a killed connection would.

    A trigger, not a patch: the poller's transaction runs for real and fails inside the database.
    """

    def __init__(self, engine: Engine, event: str, when: str) -> None:
        self.engine, self.event, self.when = engine, event, when
        self.table = event.rsplit(" ON ", 1)[1]
        self.sqlite = engine.dialect.name == "sqlite"

    def __enter__(self) -> None:
        trigger = f"CREATE TRIGGER refuse BEFORE {self.event} FOR EACH ROW WHEN ({self.when})"
        statements = (
            [f"{trigger} BEGIN SELECT RAISE(ABORT, 'the disk is gone'); END"]
            if self.sqlite
            else [
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'the disk is gone'; END $$",
                f"{trigger} EXECUTE FUNCTION refuse()",
            ]
        )
        with self.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))

    def __exit__(self, *_: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse" + ("" if self.sqlite else f" ON {self.table}")))
            if not self.sqlite:
                connection.execute(text("DROP FUNCTION refuse()"))
