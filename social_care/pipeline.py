"""What happens to one stored mention: match, classify, case, route, acknowledge.

Each stage is a small object behind a narrow interface (a matcher, a
classifier, the acknowledger), so later work can deepen one without touching
the others. A mention is processed in one transaction and marked processed in
it; one that fails stays unprocessed and is retried on the next cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from connectors.base import Connector
from responders.acknowledger import Acknowledger, Decision, Subject, already_acknowledged, note_opt_out
from responders.alerts import CrisisAlert
from responders.handoff import HandOff
from social_care import events
from social_care.cases import thread_into_case
from social_care.classify import Verdict
from social_care.config.models import Config
from social_care.crisis import CrisisMonitor
from social_care.learning.triage import RULES, Judgement, Triage
from social_care.matching import Match, Matcher
from social_care.routing import CaseFacts, choose_rule
from social_care.sla.sweeper import refresh_clocks
from social_care.storage.tables import Author, Case, Classification, Mention, TermMatch, saved_id
from social_care.text import tokenize
from social_care.watchlist import bare_handle, own_handles


@dataclass(frozen=True)
class Outcome:
    matched: bool
    case_id: int | None = None
    opened: bool = False
    acknowledgement: str = ""


class Pipeline:
    def __init__(
        self,
        config: Config,
        *,
        matcher: Matcher,
        triage: Triage,
        acknowledger: Acknowledger,
        handoff: HandOff,
        crisis: CrisisMonitor,
        crisis_alert: CrisisAlert,
        connector_types: Mapping[str, type[Connector]],
        threading_window: timedelta = timedelta(hours=48),
    ) -> None:
        self._config = config
        self._matcher = matcher
        self._triage = triage
        self._acknowledger = acknowledger
        self._handoff = handoff
        self._crisis = crisis
        self._crisis_alert = crisis_alert
        self._connector_types = connector_types
        self._window = threading_window
        self._own = own_handles(config)

    def process(self, session: Session, mention: Mention, now: datetime) -> Outcome:
        # The author's row is locked first: two posts of one customer processed by two workers at
        # once (two sources on one platform) would otherwise each open a case and each acknowledge.
        author = session.get_one(Author, mention.author_id, with_for_update=True)
        tokens = tokenize(mention.text)
        matches = self._matcher.match_tokens(mention.text, tokens)
        judgement = self._triage.judge(
            mention.text,
            session=session,
            language=mention.language,
            followers=author.followers,
            direct=mention.direct,
            matches=matches,
            tokens=tokens,
        )
        verdict = judgement.verdict
        _store_verdict(session, mention, matches, judgement, now)
        mention.processed_at = now
        session.add(mention)
        if note_opt_out(author, mention, self._config.acknowledgement, self._own, now):
            session.add(author)
        retweet = mention.is_retweet or verdict.retweet
        if retweet or bare_handle(author.handle) in self._own or not (matches or mention.direct):
            return Outcome(matched=bool(matches))
        brand = matches[0].brand if matches else self._config.source(mention.source_id).brand
        product = next((match.product for match in matches if match.product), "")
        case, opened = thread_into_case(
            session, mention, verdict, brand=brand, product=product, now=now, window=self._window
        )
        refresh_clocks(session, self._config, case)
        if case.team is None and case.category != "other":
            self._route(session, case, mention, now)
        if opened:
            self._watch_for_crisis(session, now)
        eligible = opened or self._may_acknowledge_on_joining(session, case, verdict)
        decision = self._acknowledge(session, case, mention, author, now, opened=opened) if eligible else None
        return Outcome(True, case.id, opened, decision.reason if decision else "")

    def _may_acknowledge_on_joining(self, session: Session, case: Case, verdict: Verdict) -> bool:
        """A case becomes eligible for its acknowledgement when a complaint or inquiry joins it and
        none was queued yet: a praise that opened it, or a keyword-only post that could not be
        answered automatically, does not keep the customer's direct complaint unanswered."""
        return verdict.category in self._config.acknowledgement.categories and not already_acknowledged(
            session, case
        )

    def _route(self, session: Session, case: Case, mention: Mention, now: datetime) -> None:
        facts = CaseFacts.of(case, mention.text)
        rule = choose_rule(self._config.routing, facts)
        if rule is None:
            events.record(session, case, "unrouted", at=now)
            return
        case.team = rule.team
        self._handoff.assign(session, case, facts, rule=rule.name, now=now)

    def _watch_for_crisis(self, session: Session, now: datetime) -> None:
        observation = self._crisis.observe(session, now)
        if observation.started and observation.crisis is not None:
            self._crisis_alert.send(session, observation.crisis, now)

    def _acknowledge(
        self, session: Session, case: Case, mention: Mention, author: Author, now: datetime, *, opened: bool
    ) -> Decision:
        source = self._config.source(mention.source_id)
        subject = Subject(case, mention, author, source, self._connector_types[source.id])
        return self._acknowledger.acknowledge(session, subject, now, joining=not opened)


def _store_verdict(
    session: Session, mention: Mention, matches: list[Match], judgement: Judgement, now: datetime
) -> None:
    """The matches and the verdict acted on; beside it, the rules' own verdict when a model
    decided, and a shadow model's (neither current: only the verdict acted on is)."""
    for match in matches:
        session.add(
            TermMatch(
                mention_id=saved_id(mention),
                term=match.term,
                kind=match.kind,
                brand=match.brand,
                product=match.product,
                matched_text=match.matched_text,
                start=match.start,
                end=match.end,
                score=match.score,
            )
        )
    for previous in session.exec(select(Classification).where(Classification.mention_id == mention.id)):
        previous.current = False
        session.add(previous)
    kept = [(judgement.verdict, judgement.decided_by, True)]
    if judgement.decided_by != RULES:
        kept.append((judgement.rules, RULES, False))
    if judgement.shadow is not None:
        kept.append((judgement.shadow, f"{judgement.shadow_by} (shadow)", False))
    for verdict, decided_by, current in kept:
        session.add(
            Classification(
                mention_id=saved_id(mention),
                category=verdict.category,
                cluster=verdict.cluster,
                sentiment=verdict.sentiment,
                priority=verdict.priority,
                language=verdict.language,
                confidence=verdict.confidence,
                reasons=verdict.reasons,
                decided_by=decided_by,
                decided_at=now,
                current=current,
            )
        )
