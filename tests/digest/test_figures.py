"""The digest's figures equal those counted by hand from the raw rows of a seeded week.

The digest reads hourly rollups that hooks keep current as cases change; these
tests count every figure again in plain Python from the posts, their verdicts,
the cases, their events and the survey answers, for each local day (Rome) of
the week and each recipient of the example configuration: one hears about
every team, one about ``care-it`` only. The definitions are the digest's own:

- a post counts on the day its customer wrote it, under its own verdict (its
  case's when it has none);
- acknowledgement and first-response times count on the day the reply reached
  the customer, measured from when the customer wrote;
- an SLA clock counts once, on the day it was decided: met when its goal came
  in time, missed when the breach was first known (recorded by the sweeper, or
  the late goal itself when that came first);
- the backlog is the cases whose last change of state before midnight left
  them open, each as old as the time since its customer wrote;
- the share resolved is of the day's new cases by what they are now: those
  since marked spam or ignored leave it, those resolved since count;
- the day before is one figure, the week the mean of the seven days before
  that measured anything (a count always does, zero included).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from social_care.case_states import OPEN_STATES
from social_care.config import Config
from social_care.digest.build import build_digest
from social_care.digest.days import LocalDay
from social_care.digest.model import Attainment, BrandDay, Figure, HourCount, Named
from social_care.storage.tables import Case, CaseEvent, Classification, CsatResponse, Mention
from tests.support.configs import demo_config
from tests.support.desk import Desk
from tests.support.week import ADMIN, PEOPLE, SeededWeek

ROME = ZoneInfo("Europe/Rome")
BRAND = "Velora"
WEEK = [date(2026, 11, 23) + timedelta(days=number) for number in range(6)]  # Monday to Saturday
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ROME)  # the Monday after: every day of the week is over
DISMISSED = ("spam", "ignored")
ACKNOWLEDGING = ("acknowledged", "responded")  # our acknowledgement, or a person's answer before it
GOALS = {"acknowledgement": ACKNOWLEDGING, "response": ("responded",), "resolution": ("resolved",)}

PerDay = Callable[[date], float | None]
FigureValues = tuple[float | None, float | None, float | None]


# -- the week as its raw rows tell it --------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """A customer's post as the digest counts it."""

    case_id: int
    written_at: datetime
    platform: str
    category: str
    cluster: str


class Ledger:
    """One recipient's part of the week, read straight from the raw tables."""

    def __init__(self, session: Session, config: Config, teams: Sequence[str]) -> None:
        self.config = config
        self.cases = {
            case.id: case
            for case in session.exec(select(Case))
            if case.id is not None and case.brand == BRAND and (not teams or case.team in teams)
        }
        self.events: dict[int, list[CaseEvent]] = defaultdict(list)
        for event in sorted(session.exec(select(CaseEvent)), key=lambda event: (event.at, event.id or 0)):
            if event.case_id in self.cases:
                self.events[event.case_id].append(event)
        verdicts = {row.mention_id: row for row in session.exec(select(Classification)) if row.current}
        self.posts = [
            self._post(mention, verdicts.get(mention.id or 0))
            for mention in session.exec(select(Mention))
            if mention.case_id in self.cases
        ]
        answers = session.exec(select(CsatResponse))
        self.answers = [answer for answer in answers if answer.case_id in self.cases]

    def _post(self, mention: Mention, verdict: Classification | None) -> Post:
        case = self.cases[mention.case_id or 0]
        return Post(
            case_id=mention.case_id or 0,
            written_at=min(mention.posted_at, mention.fetched_at),  # a platform's clock may run ahead
            platform=mention.platform,
            category=verdict.category if verdict else case.category,
            cluster=verdict.cluster if verdict else case.cluster,
        )

    def first(self, case_id: int, *kinds: str) -> CaseEvent | None:
        return next((event for event in self.events[case_id] if event.kind in kinds), None)

    def status_at(self, case_id: int, moment: datetime) -> str | None:
        """The state the case's last change before ``moment`` left it in (None: not opened yet)."""
        moves = [event.to_status for event in self.events[case_id] if event.to_status and event.at < moment]
        return moves[-1] if moves else None


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), ROME)


def within(moment: datetime, day: date) -> bool:
    return midnight(day) <= moment < midnight(day + timedelta(days=1))


def compared(per_day: PerDay, day: date) -> Figure:
    """The day's value, the day before's, and the mean of the seven days before that measured anything."""
    week = [per_day(day - timedelta(days=back)) for back in range(1, 8)]
    known = [value for value in week if value is not None]
    return Figure(per_day(day), week[0], sum(known) / len(known) if known else None)


def named(counts_of: Callable[[date], Counter[str]], day: date) -> list[Named]:
    """The day's counts by name, most first (then by name), each compared like any figure."""
    today = counts_of(day)
    names = sorted(today, key=lambda name: (-today[name], name))
    return [Named(name, compared(lambda other, name=name: counts_of(other)[name], day)) for name in names]


# -- the expected figures, one small rule each -----------------------------------------------------


def posts_on(ledger: Ledger, day: date) -> list[Post]:
    return [post for post in ledger.posts if within(post.written_at, day)]


def post_count(ledger: Ledger) -> PerDay:
    return lambda day: len(posts_on(ledger, day))


def posts_by(ledger: Ledger, field: str) -> Callable[[date], Counter[str]]:
    return lambda day: Counter(getattr(post, field) for post in posts_on(ledger, day))


def reputation_index(ledger: Ledger) -> PerDay:
    """Praise less complaints per hundred posts; nothing to say on a day without posts."""

    def index(day: date) -> float | None:
        categories = posts_by(ledger, "category")(day)
        total = categories.total()
        return 100 * (categories["praise"] - categories["complaint"]) / total if total else None

    return index


def per_hour(ledger: Ledger, day: date) -> list[HourCount]:
    """Every hour of the local day, the quiet ones too."""
    start, end = midnight(day), midnight(day + timedelta(days=1))
    hours = [start + timedelta(hours=number) for number in range(int((end - start).total_seconds()) // 3600)]
    written = Counter(post.written_at.replace(minute=0, second=0, microsecond=0) for post in ledger.posts)
    return [HourCount(hour, written[hour]) for hour in hours]


def reply_seconds(ledger: Ledger, *kinds: str) -> Callable[[date], list[float]]:
    """From the customer writing to the first of our replies of ``kinds``, for the cases whose
    reply reached them on the day."""

    def seconds(day: date) -> list[float]:
        firsts = [(case, ledger.first(case_id, *kinds)) for case_id, case in ledger.cases.items()]
        return [
            (reply.at - case.opened_at).total_seconds()
            for case, reply in firsts
            if reply is not None and within(reply.at, day)
        ]

    return seconds


def median(seconds: Callable[[date], list[float]]) -> PerDay:
    return lambda day: statistics.median(seconds(day)) if seconds(day) else None


def p90(seconds: Callable[[date], list[float]]) -> PerDay:
    """The nearest-rank 90th percentile: a time some case really took."""

    def percentile(day: date) -> float | None:
        ordered = sorted(seconds(day))
        return ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None

    return percentile


def clock_outcome(ledger: Ledger, case_id: int, target: str, minutes: int) -> tuple[datetime, bool] | None:
    """When the case's ``target`` clock was decided and whether it was met; None while undecided.

    In the seeded week a customer writes once and no case is reopened, so each clock runs
    from the opening (24/7 calendars: due ``minutes`` later) to the first goal event.
    """
    due = ledger.cases[case_id].opened_at + timedelta(minutes=minutes)
    goal = ledger.first(case_id, *GOALS[target])
    if goal is not None and goal.at <= due:
        return goal.at, True
    breach = next(
        (
            event
            for event in ledger.events[case_id]
            if event.kind == "sla_breached" and event.detail["target"] == target
        ),
        None,
    )
    known = [event.at for event in (breach, goal) if event is not None]
    return (min(known), False) if known else None


def policy_of(config: Config, case: Case) -> str | None:
    """The first policy naming the case's category, at its priority if the policy names priorities."""
    for policy in config.sla:
        at_priority = not policy.priorities or case.priority in policy.priorities
        if case.category in policy.categories and at_priority:
            return policy.name
    return None


def attainment(ledger: Ledger, day: date) -> list[Attainment]:
    """Every configured policy and target, in the configuration's order, measured or not."""
    rows = []
    for policy in ledger.config.sla:
        assert policy.calendar == "24/7", "clock_outcome counts due times round the clock"
        cases = [
            case_id for case_id, case in ledger.cases.items() if policy_of(ledger.config, case) == policy.name
        ]
        for target, minutes in (
            ("acknowledgement", policy.acknowledge_within_minutes),
            ("response", policy.first_response_within_minutes),
            ("resolution", policy.resolve_within_minutes),
        ):
            if minutes:
                outcomes = filter(
                    None, (clock_outcome(ledger, case_id, target, minutes) for case_id in cases)
                )
                decided = [met for at, met in outcomes if within(at, day)]
                rows.append(Attainment(policy.name, target, sum(decided), len(decided), policy.floor_percent))
    return rows


def backlog_ages(ledger: Ledger, day: date) -> list[timedelta]:
    """How long each case open at the day's end had been open."""
    end = midnight(day + timedelta(days=1))
    return [
        end - case.opened_at
        for case_id, case in ledger.cases.items()
        if ledger.status_at(case_id, end) in OPEN_STATES
    ]


def backlog_size(ledger: Ledger) -> PerDay:
    return lambda day: len(backlog_ages(ledger, day))


def resolved_share(ledger: Ledger) -> PerDay:
    def share(day: date) -> float | None:
        new = [case for case in ledger.cases.values() if within(case.opened_at, day)]
        kept = [case for case in new if case.status not in DISMISSED]
        return 100 * sum(case.status == "resolved" for case in kept) / len(kept) if kept else None

    return share


def csat_scores(ledger: Ledger, day: date) -> list[int]:
    return [answer.score for answer in ledger.answers if within(answer.answered_at, day)]


def csat_count(ledger: Ledger) -> PerDay:
    return lambda day: len(csat_scores(ledger, day))


def csat_mean(ledger: Ledger) -> PerDay:
    return lambda day: statistics.fmean(csat_scores(ledger, day)) if csat_scores(ledger, day) else None


def interactions_per_case(ledger: Ledger) -> PerDay:
    """The customers' posts and our replies that reached them, per case that had any of them."""

    def per_case(day: date) -> float | None:
        posts = [post.case_id for post in posts_on(ledger, day)]
        replies = [
            event.case_id
            for events in ledger.events.values()
            for event in events
            if event.kind in ACKNOWLEDGING and within(event.at, day)
        ]
        active = set(posts) | set(replies)
        return (len(posts) + len(replies)) / len(active) if active else None

    return per_case


# -- the digests beside their ledgers ----------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One recipient's digest of one day, beside the ledger it is checked against."""

    who: str
    day: date
    digest: BrandDay
    ledger: Ledger


def a_prompt_saturday_afternoon(desk: Desk) -> None:
    """Clocks met: the seeded desk is slow enough to miss every one of them."""
    desk.clock.now = max(desk.clock.now, datetime(2026, 11, 28, 14, 0, tzinfo=ROME))
    complaint = desk.post(handle="prompt-complaint", category="complaint")
    desk.assign(complaint, "care-it", PEOPLE["care-it"])
    desk.clock.advance(minutes=5)
    desk.acknowledge(complaint)
    desk.clock.advance(minutes=20)
    desk.reply(complaint, PEOPLE["care-it"], resolves=True)
    inquiry = desk.post(handle="prompt-inquiry", category="inquiry")
    desk.clock.advance(minutes=10)
    desk.reply(inquiry, ADMIN)
    desk.clock.advance(hours=2)
    desk.resolve(inquiry, ADMIN)


@pytest.fixture
def seen(engine: Engine, tmp_path: Path) -> list[Seen]:
    """Every day of the week for both recipients: the whole desk, and ``care-it`` only."""
    config = demo_config(tmp_path)
    a_prompt_saturday_afternoon(SeededWeek(engine, config).run())
    found = []
    with Session(engine) as session:
        for recipient in config.digest.people():
            ledger = Ledger(session, config, recipient.teams)
            for day in WEEK:
                digest = build_digest(
                    session, config, recipient, now=NOW, day=LocalDay(day, ROME), brand=BRAND
                )
                [brand_day] = digest.brands
                found.append(Seen(f"{recipient.email} on {day:%a %d %b}", day, brand_day, ledger))
    everyone, one_team = found[0].ledger, found[-1].ledger
    assert 0 < len(one_team.cases) < len(everyone.cases), "the second recipient hears about fewer cases"
    return found


def rounded(figure: Figure) -> FigureValues:
    """A figure comparable exactly: means summed in another order may differ in the last bit."""
    values = (figure.value, figure.day_before, figure.week_mean)
    return tuple(None if value is None else round(value, 9) for value in values)  # type: ignore[return-value]


def rounded_all(items: Sequence[Named]) -> list[tuple[str, FigureValues]]:
    return [(item.name, rounded(item.figure)) for item in items]


def over_the_week(ledger: Ledger, per_day: Callable[[date], Sequence[object]]) -> int:
    """How much the week gave a figure to count: a comparison of dashes and zeros shows nothing."""
    return sum(len(per_day(day)) for day in WEEK)


# -- the tests -------------------------------------------------------------------------------------


def test_mentions_by_platform_category_and_cluster_are_the_posts_customers_wrote_that_day(
    seen: list[Seen],
) -> None:
    for one in seen:
        ledger, reputation = one.ledger, one.digest.reputation
        assert rounded(reputation.mentions) == rounded(compared(post_count(ledger), one.day)), one.who
        for shown, field in (
            (reputation.by_platform, "platform"),
            (reputation.by_category, "category"),
            (reputation.top_clusters, "cluster"),
        ):
            expected = named(posts_by(ledger, field), one.day)
            assert rounded_all(shown) == rounded_all(expected), (one.who, field)
    assert over_the_week(seen[0].ledger, lambda day: posts_on(seen[0].ledger, day)) > 50


def test_the_reputation_index_is_praise_less_complaints_per_hundred_posts(seen: list[Seen]) -> None:
    for one in seen:
        expected = compared(reputation_index(one.ledger), one.day)
        assert rounded(one.digest.reputation.index) == rounded(expected), one.who
    assert {one.digest.reputation.index.value for one in seen} - {None, 0.0}, "some day leaned one way"


def test_mentions_per_hour_cover_every_hour_of_the_local_day(seen: list[Seen]) -> None:
    for one in seen:
        assert one.digest.reputation.per_hour == per_hour(one.ledger, one.day), one.who


def test_acknowledgement_and_first_response_times_are_of_the_replies_that_reached_customers_that_day(
    seen: list[Seen],
) -> None:
    for one in seen:
        care = one.digest.care
        acknowledged = reply_seconds(one.ledger, *ACKNOWLEDGING)
        answered = reply_seconds(one.ledger, "responded")
        assert [
            rounded(care.acknowledgement_median),
            rounded(care.acknowledgement_p90),
            rounded(care.first_response_median),
            rounded(care.first_response_p90),
        ] == [
            rounded(compared(median(acknowledged), one.day)),
            rounded(compared(p90(acknowledged), one.day)),
            rounded(compared(median(answered), one.day)),
            rounded(compared(p90(answered), one.day)),
        ], one.who
    everyone = seen[0].ledger
    assert over_the_week(everyone, reply_seconds(everyone, *ACKNOWLEDGING)) > 10
    assert over_the_week(everyone, reply_seconds(everyone, "responded")) > 10


def test_sla_attainment_counts_each_clock_once_on_the_day_it_was_decided(seen: list[Seen]) -> None:
    for one in seen:
        assert one.digest.care.attainment == attainment(one.ledger, one.day), one.who
    measured = [row.measured for one in seen for row in one.digest.care.attainment]
    met = [row.met for one in seen for row in one.digest.care.attainment]
    assert sum(measured) > sum(met) > 0, "clocks both met and missed"


def test_the_backlog_is_the_cases_left_open_at_midnight_and_the_oldest_of_them(seen: list[Seen]) -> None:
    for one in seen:
        expected = compared(backlog_size(one.ledger), one.day)
        assert rounded(one.digest.care.backlog) == rounded(expected), one.who
        assert one.digest.care.backlog_oldest == max(backlog_ages(one.ledger, one.day), default=None), one.who
    assert all(one.digest.care.backlog.value for one in seen)


def test_the_share_resolved_is_of_the_days_new_cases_by_what_they_are_now(seen: list[Seen]) -> None:
    for one in seen:
        expected = compared(resolved_share(one.ledger), one.day)
        assert rounded(one.digest.care.resolved_share) == rounded(expected), one.who
    assert any(one.digest.care.resolved_share.value for one in seen)


def test_csat_answers_and_mean_are_of_the_surveys_answered_that_day(seen: list[Seen]) -> None:
    for one in seen:
        care = one.digest.care
        assert rounded(care.csat_answers) == rounded(compared(csat_count(one.ledger), one.day)), one.who
        assert rounded(care.csat_mean) == rounded(compared(csat_mean(one.ledger), one.day)), one.who
    everyone = seen[0].ledger
    assert over_the_week(everyone, lambda day: csat_scores(everyone, day)) > 3


def test_messages_per_channel_and_interactions_per_case_are_of_that_days_conversations(
    seen: list[Seen],
) -> None:
    for one in seen:
        care = one.digest.care
        channels = named(posts_by(one.ledger, "platform"), one.day)
        assert rounded_all(care.messages_by_channel) == rounded_all(channels), one.who
        expected = compared(interactions_per_case(one.ledger), one.day)
        assert rounded(care.interactions_per_case) == rounded(expected), one.who
