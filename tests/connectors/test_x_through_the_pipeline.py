"""X end to end: the real tweepy client against the fake X, through the poller, the
database and the outbox. Nothing is lost or doubled across failures, and only a post
that addresses our account is answered automatically."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.runtime import Service
from social_care.storage.tables import Case, Mention, OutboxEntry
from tests.fakes.x_api import FakeX, Scripted
from tests.support.clock import FakeClock
from tests.support.x_desk import x_service


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeX]:
    server = FakeX(clock=clock).start()
    yield server
    server.stop()


# Faults after which the reply is on X but the client never learnt it: the outbox must settle
# each with X before any retry.
LOST_ANSWERS: dict[str, Callable[[FakeX], None]] = {
    "answered too late": lambda fake: fake.answer_next_reply_late(1.0),
    "503 after posting": lambda fake: fake.fail_next_reply_after_posting(503),
    "504 after posting": lambda fake: fake.fail_next_reply_after_posting(504),
    "connection dropped after posting": lambda fake: fake.drop_next_reply_after_posting(),
}


@pytest.fixture
def service(fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path) -> Service:
    return x_service(fake, engine, clock, tmp_path)


def stored_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(Mention.external_id)).all())


def outbox(engine: Engine) -> list[OutboxEntry]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxEntry).order_by(OutboxEntry.id)))  # type: ignore[arg-type]


def test_only_a_post_addressing_our_account_is_answered_and_on_the_right_parent(
    fake: FakeX, service: Service, engine: Engine, clock: FakeClock
) -> None:
    direct = fake.add_tweet("anna", "@velora my Velora Pulse is not working since the update")
    keyword = fake.add_tweet("bob", "my Velora Casa keeps dropping wifi, worst router ever")
    service.poller.poll("x-velora")
    assert service.sender.run_once().sent == 1
    assert [(reply["in_reply_to_tweet_id"]) for reply in fake.replies] == [direct]
    with Session(engine) as session:
        [entry] = session.exec(select(OutboxEntry)).all()
        assert entry.platform_reply_id == fake.replies[0]["id"]
        mention = session.exec(select(Mention).where(Mention.external_id == keyword)).one()
        case = session.get_one(Case, mention.case_id)
        assert case.suggested_reply and case.acknowledged_at is None


def test_the_customers_own_follow_up_joins_their_case_other_people_in_the_thread_get_their_own(
    fake: FakeX, service: Service, engine: Engine
) -> None:
    complaint = fake.add_tweet("anna", "@velora my Velora Pulse is not working since the update")
    reply = fake.add_tweet("bob", "@anna same here, my Velora Pulse died too", reply_to=complaint)
    reply_to_reply = fake.add_tweet("carl", "@bob Velora Pulse support never answers", reply_to=reply)
    again = fake.add_tweet("anna", "@velora @bob still dead this morning", reply_to=reply)
    quote = fake.add_tweet("dora", "this Velora Pulse story again", quote_of=complaint)
    retweet = fake.add_tweet("eve", "RT @anna: @velora my Velora Pulse is not working", retweet_of=complaint)
    other = fake.add_tweet("fred", "my Velora Casa keeps dropping wifi, worst router ever")
    service.poller.poll("x-velora")
    with Session(engine) as session:
        case_of = {m.external_id: m.case_id for m in session.exec(select(Mention)).all()}
        assert case_of[again] == case_of[complaint]
        assert case_of[retweet] is None
        others = [case_of[post] for post in (reply, reply_to_reply, quote, other)]
        assert None not in others and len({case_of[complaint], *others}) == 5
        assert len(session.exec(select(Case)).all()) == 5


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_a_reply_posted_whose_answer_was_lost_is_settled_with_x_and_not_sent_again(
    fake: FakeX, service: Service, engine: Engine, clock: FakeClock, fault: str
) -> None:
    complaint = fake.add_tweet("anna", "@velora my Velora Pulse is not working since the update")
    service.poller.poll("x-velora")
    LOST_ANSWERS[fault](fake)

    first = service.sender.run_once()
    assert (first.sent, first.failed, len(fake.replies)) == (0, 1, 1)
    assert service.sender.run_once().reconciled == 0  # not before the backoff
    clock.advance(minutes=10)
    second = service.sender.run_once()

    [reply] = fake.replies
    [entry] = outbox(engine)
    assert reply["in_reply_to_tweet_id"] == complaint and second.reconciled == 1
    assert (entry.state, entry.platform_reply_id, entry.attempts) == ("sent", reply["id"], 1)


def test_a_reply_x_failed_before_posting_is_sent_once_after_checking(
    fake: FakeX, service: Service, engine: Engine, clock: FakeClock
) -> None:
    complaint = fake.add_tweet("anna", "@velora my Velora Pulse is not working since the update")
    service.poller.poll("x-velora")
    fake.fail_next(503, path="/2/tweets")  # refused before posting: X's answer alone cannot tell

    assert service.sender.run_once().failed == 1 and fake.replies == []
    clock.advance(minutes=10)
    assert service.sender.run_once().sent == 1

    [reply] = fake.replies
    [entry] = outbox(engine)
    assert reply["in_reply_to_tweet_id"] == complaint
    assert (entry.state, entry.platform_reply_id, entry.attempts) == ("sent", reply["id"], 2)


def test_many_replies_whose_answers_are_lost_at_random_reach_each_customer_once(
    fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    service = x_service(fake, engine, clock, tmp_path, first_poll_pages=5)
    complaints = [
        fake.add_tweet(f"customer{n}", f"@velora my Velora Pulse is not working since the update, day {n}")
        for n in range(22)
    ]
    service.poller.poll("x-velora")
    faults = [
        *LOST_ANSWERS.values(),
        lambda fake: fake.fail_next(503, path="/2/tweets"),
        lambda fake: fake.script.append(Scripted(path="/2/tweets")),  # answered as it should be
    ]
    rng = random.Random(11)
    for _ in complaints:
        rng.choice(faults)(fake)

    for _ in range(6):
        service.sender.run_once()
        clock.advance(minutes=30)

    assert Counter(reply["in_reply_to_tweet_id"] for reply in fake.replies) == dict.fromkeys(complaints, 1)
    on_x = {reply["in_reply_to_tweet_id"]: reply["id"] for reply in fake.replies}
    assert {entry.in_reply_to: (entry.state, entry.platform_reply_id) for entry in outbox(engine)} == {
        complaint: ("sent", on_x[complaint]) for complaint in complaints
    }
