"""X end to end: the real tweepy client against the fake X, through the poller, the
database and the outbox. Nothing is lost or doubled across failures, and only a post
that addresses our account is answered automatically."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.runtime import Service, build_service
from social_care.storage.tables import Case, Mention, OutboxEntry
from tests.fakes.x_api import FakeX
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config

SECRETS = {
    "bearer_token": "X_BEARER_TOKEN",
    "consumer_key": "X_CONSUMER_KEY",
    "consumer_secret": "X_CONSUMER_SECRET",
    "access_token": "X_ACCESS_TOKEN",
    "access_token_secret": "X_ACCESS_TOKEN_SECRET",
}


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeX]:
    server = FakeX(clock=clock).start()
    yield server
    server.stop()


@pytest.fixture
def service(fake: FakeX, engine: Engine, clock: FakeClock, tmp_path: Path) -> Service:
    def add_x_source(raw: Raw) -> None:
        raw["sources"] = [
            {
                "id": "x-velora",
                "platform": "x",
                "brand": "Velora",
                "account": "@velora",
                "auto_reply": True,
                "api_base_url": fake.url,
                "credentials": SECRETS,
                "options": {"user_id": fake.account_id, "max_results": 10, "timeout_seconds": 0.5},
            }
        ]
        for person in raw["employees"]:
            person["accounts"] = ["x-velora"]

    environ = {variable: getattr(fake.credentials, name) for name, variable in SECRETS.items()}
    return build_service(demo_config(tmp_path, add_x_source), engine, environ=environ, clock=clock)


def stored_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(Mention.external_id)).all())


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


def test_replies_and_quotes_of_a_complaint_join_its_case_and_a_retweet_opens_none(
    fake: FakeX, service: Service, engine: Engine
) -> None:
    complaint = fake.add_tweet("anna", "@velora my Velora Pulse is not working since the update")
    reply = fake.add_tweet("bob", "@anna same here, my Velora Pulse died too", reply_to=complaint)
    reply_to_reply = fake.add_tweet("carl", "@bob Velora Pulse support never answers", reply_to=reply)
    quote = fake.add_tweet("dora", "this Velora Pulse story again", quote_of=complaint)
    retweet = fake.add_tweet("eve", "RT @anna: @velora my Velora Pulse is not working", retweet_of=complaint)
    other = fake.add_tweet("fred", "my Velora Casa keeps dropping wifi, worst router ever")
    service.poller.poll("x-velora")
    with Session(engine) as session:
        case_of = {m.external_id: m.case_id for m in session.exec(select(Mention)).all()}
        assert case_of[reply] == case_of[reply_to_reply] == case_of[quote] == case_of[complaint]
        assert case_of[retweet] is None
        assert case_of[other] not in (None, case_of[complaint])
        assert len(session.exec(select(Case)).all()) == 2
