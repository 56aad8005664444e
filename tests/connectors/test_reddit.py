"""Reddit: the real praw client against a fake Reddit on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import ConnectorError, SourceContext, no_wait
from connectors.reddit import RedditConnector, RedditOptions
from social_care.runtime import Service, build_service
from social_care.storage.tables import Author, Mention, OutboxEntry
from tests.fakes.reddit_api import FakeReddit
from tests.support.clock import FakeClock
from tests.support.configs import Raw, demo_config

SECRETS = {
    "client_id": "app-id",
    "client_secret": "app-secret",
    "username": "velora_care",
    "password": "hunter2",
}
VARIABLES = {name: f"REDDIT_{name.upper()}" for name in SECRETS}
ENVIRON = {VARIABLES[name]: value for name, value in SECRETS.items()}
TIMEOUT = 0.3
COMPLAINT = "u/velora_care my Velora Pulse is not working since the update"


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    with FakeReddit().running() as server:
        yield server


def connect(
    fake: FakeReddit,
    *,
    subreddits: tuple[str, ...] = ("velora",),
    terms: tuple[str, ...] = ("Velora",),
    queries: tuple[str, ...] = (),
    secrets: dict[str, str] | None = None,
    api_base_url: str | None = None,
    before_request: Callable[[], None] = no_wait,
    **options: object,
) -> RedditConnector:
    """A connector whose every address is the fake's ``api_base_url``, as a proxy's would be."""
    context = SourceContext(
        source_id="reddit",
        account="velora_care",
        api_base_url=fake.url if api_base_url is None else api_base_url,
        search_terms=list(terms),
        queries=list(queries),
        subreddits=list(subreddits),
    )
    settings = RedditOptions.model_validate({"timeout": TIMEOUT, **options})
    given = {name: SecretStr(value) for name, value in (secrets or SECRETS).items()}
    return RedditConnector(
        context=context, options=settings, secrets=given, clock=FakeClock(), before_request=before_request
    )


def ids(connector: RedditConnector, cursor: str | None) -> tuple[list[str], str | None]:
    batch = connector.fetch(cursor)
    return [post.external_id for post in batch.posts], batch.cursor


def refusal(call: Callable[[], object]) -> ConnectorError:
    with pytest.raises(ConnectorError) as raised:
        call()
    return raised.value


# -- reading -------------------------------------------------------------------------


def test_pagination_returns_every_item_exactly_once_oldest_first(fake: FakeReddit) -> None:
    fake.page_size = 3
    added = [fake.add_submission("velora", f"Post {n}") for n in range(8)]
    comments = [fake.add_comment(added[0], f"comment {n}") for n in range(4)]
    found, _ = ids(connect(fake, first_poll_items=100), None)
    assert found == added + comments
    assert any("after" in request.query for request in fake.requested("/r/velora/new"))


def test_a_second_fetch_returns_only_newer_items(fake: FakeReddit) -> None:
    connector = connect(fake)
    fake.add_submission("velora", "Old")
    _, cursor = ids(connector, None)
    newer = fake.add_submission("velora", "Velora broke")
    reply = fake.add_comment(newer, "same here")
    found, cursor = ids(connector, cursor)
    assert found == [newer, reply]
    assert ids(connector, cursor)[0] == []


def test_search_mentions_and_r_all_are_watched(fake: FakeReddit) -> None:
    elsewhere = fake.add_submission("gadgets", "My Velora keeps rebooting")
    fake.add_submission("gadgets", "unrelated")
    host = fake.add_submission("gadgets", "phones")
    mention = fake.add_comment(host, "hey u/velora_care help")
    batch = connect(fake, search_all=True, first_poll_items=100).fetch(None)
    by_id = {post.external_id: post for post in batch.posts}
    assert set(by_id) == {elsewhere, mention}
    assert by_id[mention].direct and not by_id[elsewhere].direct
    assert by_id[mention].thread.thread_id == host and by_id[mention].thread.parent_id == host
    assert by_id[mention].url.startswith("https://www.reddit.com/r/gadgets/comments/")
    searches = fake.requested("/r/all/search")
    assert searches and searches[0].query["sort"] == "new" and searches[0].query["q"] == '"Velora"'


def test_an_answer_to_our_comment_in_a_subreddit_we_do_not_watch_is_read_from_the_inbox(
    fake: FakeReddit,
) -> None:
    elsewhere = fake.add_submission("gadgets", "phones", author="moderator")
    question = fake.add_comment(elsewhere, "u/velora_care is my Velora Pulse covered?", author="anna")
    connector = connect(fake)
    _, cursor = ids(connector, None)
    ours = connector.reply(question, "Hi Anna, it is: send us a message")
    answer = fake.add_comment(ours, "thanks, done", author="anna")

    [post] = connector.fetch(cursor).posts

    assert post.external_id == answer and post.direct and post.author.handle == "anna"
    assert (post.thread.thread_id, post.thread.parent_id) == (elsewhere, ours)
    assert fake.requested("/message/comments")


def test_an_answer_in_a_watched_subreddit_is_returned_once_and_as_addressing_us(fake: FakeReddit) -> None:
    thread = fake.add_submission("velora", "Pulse question", author="anna")
    connector = connect(fake)
    _, cursor = ids(connector, None)
    ours = connector.reply(thread, "We can help")
    answer = fake.add_comment(ours, "great, how?", author="anna")

    posts = connector.fetch(cursor).posts

    assert [(post.external_id, post.direct) for post in posts if post.author.handle == "anna"] == [
        (answer, True)
    ]


def test_a_comment_listed_late_is_fetched_if_written_within_the_overlap(fake: FakeReddit) -> None:
    thread = fake.add_submission("velora", "Velora Pulse thread", author="moderator")
    held = fake.add_comment(thread, "my Velora Pulse died", author="anna", held=True)
    fake.pass_time(25)
    later = fake.add_comment(thread, "mine too", author="bob")
    connector = connect(fake, overlap_seconds=600)
    found, cursor = ids(connector, None)
    assert held not in found and later in found

    fake.approve(held)  # 25 s after it was written, older than everything the cursor has read
    found, cursor = ids(connector, cursor)

    assert found == [held]
    assert fake.thing(held).data["created_utc"] < fake.thing(later).data["created_utc"]
    assert ids(connector, cursor)[0] == []


def test_a_comment_listed_later_than_the_overlap_is_left_behind(fake: FakeReddit) -> None:
    thread = fake.add_submission("velora", "Velora Pulse thread", author="moderator")
    held = fake.add_comment(thread, "my Velora Pulse died", author="anna", held=True)
    fake.pass_time(60)
    fake.add_comment(thread, "mine too", author="bob")
    connector = connect(fake, overlap_seconds=30)
    _, cursor = ids(connector, None)
    fake.approve(held)
    assert ids(connector, cursor)[0] == []


def test_the_cursor_keeps_no_more_names_per_stream_than_a_poll_reads(fake: FakeReddit) -> None:
    added = [fake.add_submission("velora", f"Post {n}") for n in range(6)]
    connector = connect(fake, terms=(), max_items=3, first_poll_items=6)
    found, cursor = ids(connector, None)
    assert found == added

    assert cursor is not None
    assert all(len(mark["seen"]) <= 3 for mark in json.loads(cursor).values())
    assert ids(connector, cursor)[0] == []
    newest = fake.add_submission("velora", "Post 6")
    assert ids(connector, cursor)[0] == [newest]


def test_a_cursor_written_before_the_overlap_reads_on_from_where_it_stood(fake: FakeReddit) -> None:
    fake.add_submission("velora", "Old")
    tied = fake.add_submission("velora", "Seen at the cursor's second")
    twin = fake.add_submission("velora", "Not yet seen at that second")
    newer = fake.add_submission("velora", "New")
    created = fake.thing(tied).data["created_utc"]
    fake.thing(twin).data["created_utc"] = created
    cursor = json.dumps({"new:velora": {"created": created, "seen": [tied]}})
    found, _ = ids(connect(fake, terms=()), cursor)
    assert sorted(found) == sorted([twin, newer])


def test_posts_are_normalised(fake: FakeReddit) -> None:
    submission = fake.add_submission("velora", "Broken hinge", "It snapped", author="ann")
    comment = fake.add_comment(submission, "Sorry to hear", author="bob")
    posts = {post.external_id: post for post in connect(fake).fetch(None).posts}
    first, second = posts[submission], posts[comment]
    assert first.text == "Broken hinge\n\nIt snapped" and first.author.handle == "ann"
    assert first.author.followers is None and first.thread.thread_id == submission
    assert first.created_at.timestamp() == fake.thing(submission).data["created_utc"]
    assert second.thread.parent_id == submission and second.thread.thread_id == submission
    assert json.dumps(dict(second.raw))


def test_a_malformed_or_deleted_item_is_rejected_while_the_rest_are_returned(fake: FakeReddit) -> None:
    good = fake.add_submission("velora", "fine")
    fake.add_broken(
        "velora",
        "t3",
        {"id": "zz1", "name": "t3_zz1", "title": "no time", "author": "x", "created_utc": "yesterday"},
    )
    gone = fake.add_submission("velora", "gone", "[removed]")
    later = fake.add_submission("velora", "also fine")
    connector = connect(fake)
    batch = connector.fetch(None)
    assert [post.external_id for post in batch.posts] == [good, later]
    assert len(batch.rejected) == 2
    assert any(gone in rejected.reason for rejected in batch.rejected)
    assert connector.fetch(batch.cursor).rejected == [], "rejected again from within the overlap"


# -- addresses, identity, options -----------------------------------------------------


def test_the_user_agent_has_reddits_form(fake: FakeReddit) -> None:
    connect(fake, app_id="velora-care", app_version="1.2.0").fetch(None)
    agents = {request.headers["user-agent"] for request in fake.requests}
    assert all(agent.startswith("python:velora-care:1.2.0 (by /u/velora_care)") for agent in agents)


def test_a_user_agent_outside_reddits_form_is_refused() -> None:
    with pytest.raises(ValidationError):
        RedditOptions(app_id="my app")
    with pytest.raises(ValidationError):
        RedditOptions(contact="not a name!")


def test_api_base_url_alone_sends_the_sign_in_there_too(fake: FakeReddit) -> None:
    connect(fake).fetch(None)
    [token] = fake.requested("/api/v1/access_token")
    assert token.form["username"] == "velora_care"
    assert fake.requested("/r/velora/new") and fake.requested("/message/mentions")


def test_auth_url_sends_the_sign_in_elsewhere(fake: FakeReddit) -> None:
    with FakeReddit().running() as sign_in:
        sign_in.tokens = fake.tokens  # one Reddit behind two addresses
        connect(fake, auth_url=sign_in.url).fetch(None)
    assert sign_in.requested("/api/v1/access_token") and not fake.requested("/api/v1/access_token")
    assert fake.requested("/r/velora/new")


def test_without_a_proxy_the_sign_in_is_reddits_own() -> None:
    with FakeReddit().running() as unused:
        connector = connect(unused, api_base_url=RedditConnector.default_api_base_url)
    assert connector.reddit.config.reddit_url == "https://www.reddit.com"
    assert connector.reddit.config.oauth_url == "https://oauth.reddit.com"


def test_page_size_is_not_an_option_because_praw_sets_its_own() -> None:
    with pytest.raises(ValidationError):
        RedditOptions.model_validate({"page_size": 100})


def test_bad_app_credentials_are_permanent(fake: FakeReddit) -> None:
    connector = connect(fake, secrets={**SECRETS, "client_secret": "wrong"})
    assert refusal(lambda: connector.fetch(None)).permanent


def test_a_wrong_password_is_permanent(fake: FakeReddit) -> None:
    connector = connect(fake, secrets={**SECRETS, "password": "wrong"})
    assert refusal(lambda: connector.fetch(None)).permanent


def test_declared_limits() -> None:
    assert RedditConnector.reply_max_length == 10000 and RedditConnector.default_rate_limit == (100, 60)
    assert RedditConnector.auto_reply_allowed and not RedditConnector.auto_reply_requires_direct


def test_raw_queries_are_searched_in_the_watched_subreddits(fake: FakeReddit) -> None:
    refund = fake.add_submission("velora", "Where is my refund?")
    fake.add_submission("velora", "Nice weather")

    found, _ = ids(connect(fake, terms=(), queries=("refund",), first_poll_items=100), None)

    assert refund in found
    [search] = fake.requested("/r/velora/search")
    assert search.query["q"] == "refund" and search.query["restrict_sr"] in {"on", "1", "true", "True"}


# -- pacing ------------------------------------------------------------------------


def test_the_request_gate_is_passed_before_every_request(fake: FakeReddit) -> None:
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    answered_before_each_gate: list[int] = []
    connector = connect(fake, before_request=lambda: answered_before_each_gate.append(len(fake.requests)))

    connector.fetch(None)
    connector.reply(comment, "We're on it")
    connector.find_reply(comment)

    assert fake.requested("/api/v1/access_token") and fake.requested("/api/comment")
    assert fake.requested("/user/velora_care/comments")
    assert answered_before_each_gate == list(range(len(fake.requests)))


def test_a_low_remaining_quota_spreads_the_next_polls_until_it_resets(fake: FakeReddit) -> None:
    fake.report_quota(remaining=10, reset_seconds=300, used=90)
    connector = connect(fake)

    batch = connector.fetch(None)

    reads = len(fake.requests) - len(fake.requested("/api/v1/access_token"))
    assert batch.poll_again_after == connector.clock() + timedelta(seconds=300 * reads / 10)


def test_a_reply_sent_from_another_thread_during_a_fetch_is_not_counted_in_its_pace(
    fake: FakeReddit,
) -> None:
    """The outbox replies on the same connector while the poller fetches: the fetch spreads the
    quota over polls of its own size, not of its size plus the reply."""
    fake.report_quota(remaining=10, reset_seconds=300, used=90)
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    fetching = threading.current_thread()
    replies: list[str] = []

    def reply_from_the_outbox_once_the_fetch_is_under_way() -> None:
        if threading.current_thread() is fetching and len(fake.requests) == 2 and not replies:
            outbox = threading.Thread(target=lambda: replies.append(connector.reply(comment, "On it")))
            outbox.start()
            outbox.join()

    connector = connect(fake, before_request=reply_from_the_outbox_once_the_fetch_is_under_way)
    batch = connector.fetch(None)

    reads = len(fake.requests) - len(fake.requested("/api/v1/access_token")) - len(replies)
    assert replies and fake.requested("/api/comment")
    assert batch.poll_again_after == connector.clock() + timedelta(seconds=300 * reads / 10)


def test_a_quota_more_than_half_left_leaves_the_pace_to_the_source(fake: FakeReddit) -> None:
    fake.report_quota(remaining=60, reset_seconds=300, used=40)
    assert connect(fake).fetch(None).poll_again_after is None


def test_a_spent_quota_holds_the_next_poll_until_it_resets(fake: FakeReddit) -> None:
    fake.report_quota(remaining=0, reset_seconds=240, used=100)
    connector = connect(fake)
    assert connector.fetch(None).poll_again_after == connector.clock() + timedelta(seconds=240)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/r/", {"retry-after": "3", "x-ratelimit-reset": "60"}),
        ("/r/", {"x-ratelimit-remaining": "0.0", "x-ratelimit-used": "100", "x-ratelimit-reset": "3.0"}),
        ("/api/v1/access_token", {"retry-after": "3"}),
    ],
    ids=["retry-after", "x-ratelimit-reset", "at sign-in"],
)
def test_a_429_asking_for_3_seconds_is_retried_after_3_seconds(
    fake: FakeReddit, path: str, headers: dict[str, str]
) -> None:
    fake.fail(429, path=path, headers=headers)
    error = refusal(lambda: connect(fake).fetch(None))
    assert error.retry_after == 3 and not error.permanent


# -- replying ------------------------------------------------------------------------


def test_replies_land_on_the_right_parent_and_are_found_again(fake: FakeReddit) -> None:
    submission = fake.add_submission("velora", "help")
    comment = fake.add_comment(submission, "me too")
    connector = connect(fake)
    assert connector.find_reply(comment) is None
    to_comment = connector.reply(comment, "We're on it")
    to_submission = connector.reply(submission, "Looking into it")
    assert fake.replies == [
        {"parent": comment, "text": "We're on it", "id": to_comment},
        {"parent": submission, "text": "Looking into it", "id": to_submission},
    ]
    assert connector.find_reply(comment) == to_comment
    assert connector.find_reply(submission) == to_submission


def test_find_reply_skips_the_replies_the_outbox_already_recorded(fake: FakeReddit) -> None:
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    connector = connect(fake)
    acknowledgement = connector.reply(comment, "We're on it")
    assert connector.find_reply(comment, exclude={acknowledgement}) is None
    answer = connector.reply(comment, "Luca here: fixed")
    assert connector.find_reply(comment, exclude={acknowledgement}) == answer


def lose_the_answer(fake: FakeReddit, fault: str) -> None:
    if fault == "answered too late":
        fake.answer_next_reply_late(TIMEOUT * 4)
    else:
        fake.fail_next_reply_after_posting(504)


LOST_ANSWERS = ["answered too late", "504 after posting"]


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_a_reply_posted_whose_answer_is_lost_has_an_unknown_outcome_and_is_found(
    fake: FakeReddit, fault: str
) -> None:
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    connector = connect(fake)
    lose_the_answer(fake, fault)

    error = refusal(lambda: connector.reply(comment, "We're on it"))

    [posted] = fake.replies_to(comment)
    assert error.outcome_unknown and not error.permanent
    assert connector.find_reply(comment) == posted["id"]


def test_a_reply_refused_with_a_429_is_not_of_unknown_outcome(fake: FakeReddit) -> None:
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    fake.fail(429, path="/api/comment", headers={"retry-after": "7"})
    error = refusal(lambda: connect(fake).reply(comment, "We're on it"))
    assert (error.outcome_unknown, error.retry_after) == (False, 7) and fake.replies == []


@pytest.mark.parametrize(
    ("wait", "seconds"),
    [("9 minutes", 600), ("1 minute", 120), ("40 seconds", 40), ("1 second", 1), ("500 milliseconds", 1)],
)
def test_a_reply_refused_for_posting_too_fast_waits_what_reddit_said_rounded_up(
    fake: FakeReddit, wait: str, seconds: float
) -> None:
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    fake.rate_limit_next_reply(wait)

    error = refusal(lambda: connect(fake).reply(comment, "We're on it"))

    assert (error.retry_after, error.outcome_unknown, error.permanent) == (seconds, False, False)
    assert fake.replies == [] and len(fake.requested("/api/comment")) == 1, "praw neither slept nor retried"


def test_a_reply_to_a_deleted_post_is_not_of_unknown_outcome(fake: FakeReddit) -> None:
    comment = fake.add_comment(fake.add_submission("velora", "help"), "me too")
    fake.delete(comment)
    error = refusal(lambda: connect(fake).reply(comment, "We're on it"))
    assert error.only_this_post and not error.outcome_unknown


def test_a_reply_that_never_reached_reddit_is_not_of_unknown_outcome(fake: FakeReddit) -> None:
    with FakeReddit().running() as gone:
        closed = gone.url
    connector = connect(fake, api_base_url=closed, auth_url=fake.url)  # signed in, the API unreachable
    error = refusal(lambda: connector.reply("t1_abc", "We're on it"))
    assert fake.requested("/api/v1/access_token") and not error.outcome_unknown


def test_a_failed_sign_in_before_a_reply_is_not_of_unknown_outcome(fake: FakeReddit) -> None:
    fake.fail(503, path="/api/v1/access_token")
    error = refusal(lambda: connect(fake).reply("t1_abc", "We're on it"))
    assert not error.outcome_unknown and fake.replies == []


# -- through the service: poller, database, outbox -------------------------------------


@pytest.fixture
def service(engine: Engine, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[Service, FakeReddit]]:
    """The service with one Reddit source watching r/velora, against a fake Reddit whose posts
    were written in the last minutes of the service's clock."""
    with FakeReddit(start=clock.now.timestamp() - 600).running() as reddit:
        yield reddit_service(reddit, engine, clock, tmp_path), reddit


def reddit_service(
    reddit: FakeReddit,
    engine: Engine,
    clock: FakeClock,
    tmp_path: Path,
    *,
    account: str = "velora_care",
    staff: str = "",
    blocked: str = "",
) -> Service:
    """One Reddit source on ``reddit``; ``staff`` is a colleague's handle, ``blocked`` a blocked one."""

    def add_reddit_source(raw: Raw) -> None:
        raw["sources"] = [
            {
                "id": "reddit-velora",
                "platform": "reddit",
                "brand": "Velora",
                "account": account,
                "auto_reply": True,
                "api_base_url": reddit.url,
                "credentials": VARIABLES,
                "watch": {"subreddits": ["velora"]},
                "options": {"timeout": TIMEOUT},
            }
        ]
        for person in raw["employees"]:
            person["accounts"] = ["reddit-velora"]
        if staff:
            raw["employees"][0]["handles"] = [staff]
        if blocked:
            raw["acknowledgement"]["blocked_handles"] = [blocked]

    config = demo_config(tmp_path, add_reddit_source)
    return build_service(config, engine, environ=ENVIRON, clock=clock)


def outbox(engine: Engine) -> list[OutboxEntry]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxEntry)).all())


@pytest.mark.parametrize("fault", LOST_ANSWERS)
def test_an_acknowledgement_whose_answer_is_lost_is_settled_with_reddit_and_never_sent_twice(
    service: tuple[Service, FakeReddit], engine: Engine, clock: FakeClock, fault: str
) -> None:
    desk, fake = service
    complaint = fake.add_submission("velora", COMPLAINT, author="anna")
    desk.poller.poll("reddit-velora")
    lose_the_answer(fake, fault)

    first = desk.sender.run_once()
    [entry] = outbox(engine)
    assert (first.sent, entry.state) == (0, "unknown")
    clock.advance(hours=1)
    again = desk.sender.run_once()

    [posted] = fake.replies_to(complaint)
    [entry] = outbox(engine)
    assert (again.sent, again.reconciled) == (0, 1)
    assert (entry.in_reply_to, entry.state, entry.platform_reply_id) == (complaint, "sent", posted["id"])


def test_a_customers_answer_to_our_acknowledgement_elsewhere_joins_their_case(
    service: tuple[Service, FakeReddit], engine: Engine, clock: FakeClock
) -> None:
    desk, fake = service
    elsewhere = fake.add_submission("gadgets", "phones", author="moderator")
    complaint = fake.add_comment(elsewhere, COMPLAINT, author="anna")
    desk.poller.poll("reddit-velora")
    assert desk.sender.run_once().sent == 1
    [ours] = fake.replies_to(complaint)
    answer = fake.add_comment(ours["id"], "still broken this morning", author="anna")
    clock.advance(minutes=5)

    assert desk.poller.poll("reddit-velora").new == 1

    with Session(engine) as session:
        case_of = {m.external_id: m.case_id for m in session.exec(select(Mention)).all()}
    assert case_of[answer] is not None and case_of[answer] == case_of[complaint]


@pytest.mark.parametrize("words", ["u/velora_care stop", "/u/velora_care stop", "stop u/velora_care"])
def test_stop_said_the_reddit_way_opts_the_author_out(
    service: tuple[Service, FakeReddit], engine: Engine, clock: FakeClock, words: str
) -> None:
    desk, fake = service
    thread = fake.add_submission("velora", "Velora Pulse owners", author="moderator")
    fake.add_comment(thread, words, author="anna")
    desk.poller.poll("reddit-velora")
    clock.advance(minutes=1)
    fake.add_comment(thread, COMPLAINT, author="anna")
    desk.poller.poll("reddit-velora")
    assert desk.sender.run_once().sent == 0
    assert fake.replies == []
    with Session(engine) as session:
        author = session.exec(select(Author).where(Author.handle == "anna")).one()
    assert author.opted_out_at is not None


def test_a_second_person_in_a_thread_we_answered_gets_their_own_case_and_acknowledgement(
    service: tuple[Service, FakeReddit], engine: Engine, clock: FakeClock
) -> None:
    desk, fake = service
    thread = fake.add_submission("velora", "Velora Pulse owners", author="moderator")
    first = fake.add_comment(thread, COMPLAINT, author="anna")
    desk.poller.poll("reddit-velora")
    assert desk.sender.run_once().sent == 1
    clock.advance(minutes=1)
    second = fake.add_comment(thread, "u/velora_care mine is not working either, it is broken", author="ben")
    desk.poller.poll("reddit-velora")
    assert desk.sender.run_once().sent == 1
    assert [len(fake.replies_to(post)) for post in (first, second)] == [1, 1]
    with Session(engine) as session:
        case_of = {m.external_id: m.case_id for m in session.exec(select(Mention)).all()}
    assert case_of[first] != case_of[second]


@pytest.mark.parametrize("written", ["u/{}", "/u/{}", "{}", "U/{}"])
def test_our_staffs_and_blocked_names_written_with_u_behave_like_bare_ones(
    engine: Engine, clock: FakeClock, tmp_path: Path, written: str
) -> None:
    with FakeReddit(start=clock.now.timestamp() - 600).running() as fake:
        desk = reddit_service(
            fake,
            engine,
            clock,
            tmp_path,
            account=written.format("velora_care"),
            staff=written.format("luca_at_velora"),
            blocked=written.format("troll"),
        )
        thread = fake.add_submission("velora", "Velora Pulse owners", author="moderator")
        ours = fake.add_comment(thread, COMPLAINT + " (a test of ours)", author="velora_care")
        colleague = fake.add_comment(thread, COMPLAINT, author="luca_at_velora")
        troll = fake.add_comment(thread, COMPLAINT, author="troll")
        anna = fake.add_comment(thread, COMPLAINT, author="anna")
        desk.poller.poll("reddit-velora")
        desk.sender.run_once()
        with Session(engine) as session:
            case_of = {m.external_id: m.case_id for m in session.exec(select(Mention)).all()}
        assert case_of[ours] is None and case_of[colleague] is None
        assert case_of[troll] is not None and fake.replies_to(troll) == []
        assert len(fake.replies_to(anna)) == 1
